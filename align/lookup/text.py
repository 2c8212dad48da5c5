"""Text handling shared by indexing and searching: scripts, folding, FTS5 terms.

Chinese is indexed as overlapping character bigrams, not jieba words: a
bigram phrase matches exactly where the query is a substring, whatever the
segmenter would have done with the surrounding text (jieba keeps 大熊猫 as one
word, so a jieba index cannot find 熊猫 there). ``bench/lookup_bench.py
--zh-tokenizers`` measured, on the Joint Statement and MAC-Dev: jieba index
recall 0.90 for jieba's own words as queries and 0.52 for random 2-4
character substrings, bigrams 1.00 and 1.00 (precision 1.00), and bigrams
tokenised 76x faster.

In ``fts_other`` every run of CJK characters becomes its bigrams followed by
its last character alone, so every character starts exactly one token: a
one-character query ``c`` is the prefix query ``c*``.

CJK sides go into our own postings (``align.lookup.postings``): each
character, each bigram and each other word folded here by ``fold`` (as
queries and highlights are); they keep no positions, so a query is the
conjunction of its terms and the search checks the text. The other sides'
FTS5 table (``index_texts``) gets the text with CJK runs made bigrams, for
unicode61 (case- and accent-folding on both the index and the query side)
with positions, for English phrases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from align.model import AlignError

if TYPE_CHECKING:
    import numpy as np

# Han (incl. extensions and compatibility), kana, bopomofo, hangul, 々 〇.
_CJK_CLASS = (
    "\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u3100-\u312f"
    "\u3130-\u318f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")
# Whitespace between two CJK characters is layout, not a word break (the Joint
# Statement title has "发展 新时代"), so index runs are joined across it.
_CJK_INDEX_RUN = re.compile(f"[{_CJK_CLASS}](?:\\s*[{_CJK_CLASS}])*")
_WS = re.compile(r"\s+")
# A word as unicode61 sees it: letters and digits, but not CJK (handled above).
_WORD_CHARS = f"[^\\W_{_CJK_CLASS}]"
_TERM = re.compile(f"(?P<cjk>[{_CJK_CLASS}]+)|(?P<word>{_WORD_CHARS}+)")
_LETTER_CATEGORIES = ("L",)

CJK_LANGS = frozenset({"zh", "ja", "ko", "yue", "wuu", "cmn", "lzh", "hak", "nan", "gan", "hsn"})


def base_lang(lang: str) -> str:
    """'zh-CN' / 'zh_Hans' -> 'zh'."""
    return re.split(r"[-_]", lang.strip(), maxsplit=1)[0].lower()


def is_cjk_lang(lang: str) -> bool:
    return base_lang(lang) in CJK_LANGS


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def query_script(query: str) -> str | None:
    """'cjk' if the query has any CJK character, 'other' if it has letters, else None.

    None (digits and punctuation only) means the query can match either side.
    """
    if has_cjk(query):
        return "cjk"
    if any(unicodedata.category(ch).startswith(_LETTER_CATEGORIES) for ch in query):
        return "other"
    return None


def regex_script(pattern: str) -> str | None:
    """The script of a regular expression's literal text (escapes like \\b ignored)."""
    return query_script(re.sub(r"\\.", " ", pattern))


# ---------------------------------------------------------------- indexing

# Fullwidth ASCII variants and the ideographic space, as their ASCII forms:
# "２０１９" finds "2019". Applied alike to indexed text and to queries.
_WIDTH = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}


def normalize_width(text: str) -> str:
    return text if text.isascii() else text.translate(_WIDTH)


def _run_tokens(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join([run[i : i + 2] for i in range(len(run) - 1)]) + " " + run[-1]


def _index_run(m: re.Match) -> str:
    run = m.group()
    if len(run) > 1 and not run.isalpha():  # has inner whitespace
        run = _WS.sub("", run)
    return " " + _run_tokens(run) + " "


def index_text_reference(text: str) -> str:
    """The definition of what ``index_texts`` computes, one text at a time with
    regexes; kept for readability and as the tests' oracle."""
    if not text or text.isascii():
        return text
    return _CJK_INDEX_RUN.sub(_index_run, normalize_width(text))


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BMP lookup tables, built from the same definitions the regexes use:
    CJK, whitespace, word character (not CJK) and its folded form, and
    folding into a CJK character (``_folds_to_cjk``)."""
    import numpy as np

    chars = [chr(i) for i in range(0x10000)]
    cjk = np.fromiter((_CJK_CHAR.match(c) is not None for c in chars), dtype=bool, count=0x10000)
    space = np.fromiter((c.isspace() for c in chars), dtype=bool, count=0x10000)
    word_rx = re.compile(_WORD_CHARS)
    word = np.fromiter((word_rx.match(c) is not None for c in chars), dtype=bool, count=0x10000)
    folded = np.fromiter((ord(_fold_char(c)) if w else i for i, (c, w) in enumerate(zip(chars, word))), dtype=np.uint32, count=0x10000)
    to_cjk = np.zeros(0x10000, dtype=bool)  # (folding changes a character's case or decomposes it)
    to_cjk[[i for i, c in enumerate(chars) if unicodedata.decomposition(c) and _folds_to_cjk(c)]] = True
    return cjk, space, word, folded, to_cjk


def _folds_to_cjk(ch: str) -> bool:
    """A character that ``fold`` turns into another, CJK one (a compatibility
    ideograph, a Kangxi radical, kana with a voicing mark, ...)."""
    f = _fold_char(ch)
    return f != ch and _CJK_CHAR.match(f) is not None


@dataclass
class _Chars:
    """A batch of texts as one array of code points, width-normalised, with
    whitespace between two CJK characters of one text removed."""

    a: np.ndarray  # uint32 code points
    cjk: np.ndarray  # bool, per code point
    ends: np.ndarray  # exclusive end of each text in ``a``
    pair: np.ndarray  # a CJK character followed by one in the same text
    starts: np.ndarray  # a CJK character that starts a run
    gaps: np.ndarray  # bool, per text: it had whitespace between two CJK characters


def _chars(texts: Sequence[str]) -> _Chars:
    import numpy as np

    cjk_bmp, space_bmp = _tables()[:2]
    a = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()
    lens = np.fromiter([len(t) for t in texts], dtype=np.int64, count=len(texts))
    ends = np.cumsum(lens)
    wide = (a >= 0xFF01) & (a <= 0xFF5E)
    if wide.any():
        a[wide] -= 0xFEE0
    a[a == 0x3000] = 0x20
    bmp = np.minimum(a, 0xFFFF)
    cjk = cjk_bmp[bmp]
    astral = a > 0xFFFF
    if astral.any():
        cjk &= ~astral
        cjk |= astral & (a >= 0x20000) & (a <= 0x3134F)
    is_ws = space_bmp[bmp] & ~astral
    ws = np.flatnonzero(is_ws)
    gaps = np.zeros(len(texts), dtype=bool)
    if ws.size:  # whitespace between two CJK characters of one text goes
        solid = np.flatnonzero(~is_ws)
        k = np.searchsorted(solid, ws)
        has_prev, has_next = k > 0, k < solid.size
        prev = solid[np.maximum(k - 1, 0)]
        nxt = solid[np.minimum(k, solid.size - 1)]
        same = np.searchsorted(ends, prev, side="right") == np.searchsorted(ends, nxt, side="right")
        drop = ws[has_prev & has_next & same & cjk[prev] & cjk[nxt]]
        if drop.size:
            keep = np.ones(a.shape[0], dtype=bool)
            keep[drop] = False
            a, cjk = a[keep], cjk[keep]
            dropped = np.bincount(np.searchsorted(ends, drop, side="right"), minlength=len(texts))
            gaps = dropped > 0
            lens = lens - dropped
            ends = np.cumsum(lens)
    n = a.shape[0]
    pair = np.zeros(n, dtype=bool)
    pair[:-1] = cjk[:-1] & cjk[1:]
    if n:
        pair[ends[ends > 0] - 1] = False
    starts = cjk.copy()
    starts[1:] &= ~pair[:-1]
    return _Chars(a, cjk, ends, pair, starts, gaps)


def _emit(c: _Chars, lead: np.ndarray, middle: np.ndarray, tail: np.ndarray) -> tuple[str, list[int]]:
    """Each character's output: a space if ``lead``, its ``middle`` code
    point, the next character if it forms a pair with it, a space if
    ``tail``. Returns the joined output and each text's end offset in it.

    Written by scattering into an array of spaces: cheaper than stacking
    the four slots and compressing out the empty ones."""
    import numpy as np

    counts = lead.astype(np.int64)
    counts += 1
    counts += c.pair
    counts += tail
    ends = np.cumsum(counts)
    at = ends - counts + lead  # where ``middle`` goes
    out = np.full(int(ends[-1]) if ends.size else 0, 0x20, dtype=np.uint32)
    out[at] = middle
    pairs = np.flatnonzero(c.pair)
    out[at[pairs] + 1] = c.a[pairs + 1]
    return out.tobytes().decode("utf-32-le", "surrogatepass"), ends[c.ends - 1].tolist()


def _split(joined: str, ends: list[int], todo: list[int], out: list[str]) -> list[str]:
    pos = 0
    for i, end in zip(todo, ends):
        out[i] = joined[pos:end]
        pos = end
    return out


def index_texts(texts: Sequence[str]) -> list[str]:
    """What goes into the ``fts_other`` column for each text: width-normalised
    text with every CJK run as its bigrams plus its last character, space
    separated (so that unicode61 does not glue "2019年" into one token).

    Vectorised over the batch with numpy (a regex with a Python callback per
    run cost more than the SQLite insert itself); ``index_text_reference`` is
    the same thing written plainly.
    """
    out = list(texts)
    todo = [i for i, t in enumerate(texts) if t and not t.isascii()]
    if not todo:
        return out
    c = _chars([texts[i] for i in todo])
    joined, ends = _emit(c, c.starts, c.a, c.cjk)
    return _split(joined, ends, todo, out)


# CJK runs (across spacing) and words, as the CJK postings' terms are made.
_CJK_TABLE_TOKEN = re.compile(f"(?P<cjk>{_CJK_INDEX_RUN.pattern})|(?P<word>{_WORD_CHARS}+)")

# The term that marks a CJK side in which a plain substring test does
# not decide whether a query's CJK run is there (see ``needs_check``): a
# private-use character, which neither a text's nor a query's tokens can be.
CHECK_TOKEN = "\ue000"


def needs_check(text: str) -> bool:
    """Whether ``exact_regex`` can find a CJK run in the text where ``run in
    text`` does not: where the text has spacing inside a CJK run, or a
    character that folds into a CJK one. Elsewhere SQLite's instr() decides."""
    t = normalize_width(text)
    return any(_WS.search(m.group()) for m in _CJK_INDEX_RUN.finditer(t)) or any(map(_folds_to_cjk, t))


def index_text(text: str) -> str:
    return index_texts([text])[0]


# ---------------------------------------------------------------- folding


def _fold_char(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if len(base) == 1:
        low = base.lower()
        if len(low) == 1:
            return low
    low = ch.lower()
    return low if len(low) == 1 else ch


class _FoldTable(dict):
    """str.translate table filled on demand: C-speed folding after warm-up."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _fold_char(chr(code))
        return value


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Case-, accent- and width-folded text of the SAME length, so offsets carry over."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


# ---------------------------------------------------------------- FTS5 queries


def _quote(token: str) -> str:
    """An FTS5 string literal: user text never reaches the parser unquoted."""
    return '"' + token.replace('"', '""') + '"'


def _cjk_phrase(run: str, prefix_single: bool = True) -> str:
    """A CJK run as a phrase of bigrams (substring match); one char as 'c*'."""
    if len(run) == 1:
        return _quote(run) + ("*" if prefix_single else "")
    return " + ".join(_quote(run[i : i + 2]) for i in range(len(run) - 1))


@dataclass(frozen=True)
class Term:
    """One query word: a CJK run (matched as a substring) or a Latin word."""

    text: str
    cjk: bool


def word_terms(query: str) -> list[Term]:
    """The words of a query in word mode; punctuation and FTS5 operators are just text."""
    q = normalize_width(query)
    return [Term(m.group(), m.lastgroup == "cjk") for m in _TERM.finditer(q)]


def word_expression(terms: list[Term]) -> str:
    """FTS5 expression for a unicode61 table with positions (``fts_other``):
    all terms required; a CJK run is a bigram phrase."""
    if not terms:
        raise AlignError("the query has no words to search for; try --exact or --regex")
    parts = [f"({_cjk_phrase(t.text)})" if t.cjk else _quote(t.text) for t in terms]
    return " AND ".join(parts)


def cjk_word_tokens(terms: list[Term]) -> list[str]:
    """The postings terms a CJK side must all hold to match word-mode
    ``terms``: folded words, a CJK run's bigrams (they may occur apart: the
    caller checks each run on the text), a single CJK character itself."""
    if not terms:
        raise AlignError("the query has no words to search for; try --exact or --regex")
    out: list[str] = []
    for t in terms:
        if not t.cjk:
            out.append(fold(t.text))
        elif len(t.text) == 1:
            out.append(t.text)
        else:
            out += [t.text[i : i + 2] for i in range(len(t.text) - 1)]
    return out


_CJK_GAP = re.compile(f"(?<=[{_CJK_CLASS}])\\s+(?=[{_CJK_CLASS}])")


@dataclass(frozen=True)
class SubstringPhrase:
    """What any text containing a query must contain, as FTS5 tokens.

    The query's tokens are consecutive in such a text, so they form a phrase,
    except that a Latin word touching the start of the query (``head``) may be
    the tail of a longer word and one touching the end (``tail``) the start of
    one; with both (``whole``) the query is a fragment of a single word. Those
    two are kept apart, folded, for the caller to try first as whole words
    and then as the longer indexed words they can be part of. ``middle`` are
    the quoted ``fts_other`` tokens in between: CJK runs give their bigrams
    (plus their last character when the run ends inside the query, as that
    index does; a lone last character is a prefix token), spacing between
    CJK characters is ignored. ``middle_terms`` are the CJK postings' terms
    of the same: bigrams, single characters, folded words.
    """

    head: str | None
    middle: tuple[str, ...]
    tail: str | None
    whole: bool = False
    middle_terms: tuple[str, ...] = ()

    def phrase(self, head: str | None = None, tail: str | None = None) -> str:
        """For ``fts_other``: the tokens in a row."""
        parts = ([_quote(head)] if head else []) + list(self.middle) + ([_quote(tail)] if tail else [])
        return " + ".join(parts)

    def terms(self, head: str | None = None, tail: str | None = None) -> list[str]:
        """For the CJK postings: the terms a text must hold anywhere (they have no positions)."""
        return ([head] if head else []) + list(self.middle_terms) + ([tail] if tail else [])


def substring_phrase(query: str) -> SubstringPhrase:
    q = _CJK_GAP.sub("", normalize_width(query.strip()))
    head: str | None = None
    tail: str | None = None
    middle: list[str] = []
    folded: list[str] = []
    for m in _TERM.finditer(q):
        at_start, at_end = m.start() == 0, m.end() == len(q)
        text = m.group()
        if m.lastgroup == "cjk":
            if len(text) == 1:
                middle.append(_quote(text) + ("*" if at_end else ""))
                folded.append(text)
            else:
                grams = [text[i : i + 2] for i in range(len(text) - 1)]
                middle += [_quote(g) for g in grams] + ([] if at_end else [_quote(text[-1])])
                folded += grams
        elif at_start and at_end:
            return SubstringPhrase(fold(text), (), None, whole=True)
        elif at_start:
            head = fold(text)
        elif at_end:
            tail = fold(text)
        else:
            middle.append(_quote(text))
            folded.append(fold(text))
    return SubstringPhrase(head, tuple(middle), tail, middle_terms=tuple(folded))


# ---------------------------------------------------------------- checking candidates in SQL


def cjk_runs(query: str) -> list[str]:
    """The query's CJK runs of two or more characters, as a matching text must
    hold them (spacing between CJK characters dropped)."""
    q = _CJK_GAP.sub("", normalize_width(query))
    return [m.group() for m in _TERM.finditer(q) if m.lastgroup == "cjk" and len(m.group()) > 1]


def runs_sql(side: str, runs: list[str]) -> tuple[str, list[str]] | None:
    """An SQL condition on the text ``side`` (an expression) that holds exactly
    where ``exact_regex`` finds every run, for texts without ``CHECK_TOKEN``:
    a C-speed check of the candidates of the position-less CJK postings,
    whose rows would otherwise each be fetched into Python (measured at a
    million pairs: 3,000 candidates took 90 ms that way). None if a run
    holds a character that folding changes."""
    if not runs or any(fold(r) != r for r in runs):
        return None
    return " AND ".join([f"instr({side}, ?) > 0"] * len(runs)), list(runs)


# ---------------------------------------------------------------- matching for highlights


def exact_regex(query: str, whole_edges: bool = False) -> re.Pattern:
    """Substring pattern for folded text: any whitespace run matches any whitespace
    run, and spacing next to CJK characters is optional (2019年 == 2019 年).
    ``whole_edges``: a word at either end of the query must be a whole word
    of the text there (not part of a longer one)."""
    q = fold(normalize_width(query.strip()))
    out: list[str] = []
    prev = ""
    i = 0
    while i < len(q):
        ch = q[i]
        if ch.isspace():
            j = i
            while j < len(q) and q[j].isspace():
                j += 1
            out.append(r"\s+")
            prev, i = " ", j
            continue
        if prev and prev != " " and (has_cjk(prev) or has_cjk(ch)):
            out.append(r"\s*")
        out.append(re.escape(ch))
        prev = ch
        i += 1
    if whole_edges and q:
        word = re.compile(_WORD_CHARS)
        if word.match(q[0]):
            out.insert(0, f"(?<!{_WORD_CHARS})")
        if word.match(q[-1]):
            out.append(f"(?!{_WORD_CHARS})")
    return re.compile("".join(out))


def term_regex(term: Term) -> re.Pattern:
    """Where a word-mode term occurs in folded text."""
    if term.cjk:
        return exact_regex(term.text)
    w = re.escape(fold(term.text))
    return re.compile(f"(?<!{_WORD_CHARS}){w}(?!{_WORD_CHARS})")


def find_spans(patterns: list[re.Pattern], text: str, folded: bool = True) -> tuple[tuple[int, int], ...]:
    """Sorted, merged non-empty match spans of all patterns in ``text``."""
    target = fold(text) if folded else text
    spans = sorted(m.span() for p in patterns for m in p.finditer(target) if m.end() > m.start())
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return tuple(merged)


# ---------------------------------------------------------------- clause labels


def clause_number(label: str | int | None) -> int | None:
    """十六, 16, (16), （十六）, (XVI), 第十六条 -> 16; None if not a number label."""
    if label is None:
        return None
    if isinstance(label, int):
        return label
    return _clause_number(str(label))


@lru_cache(maxsize=4096)
def _clause_number(label: str) -> int | None:
    s = unicodedata.normalize("NFKC", label).strip()
    m = re.fullmatch(r"第\s*(.+?)\s*[条项款章节部分]*", s)
    if m:
        s = m.group(1)
    if not s:
        return None
    from align.segment import parse_number_label

    return parse_number_label(s)
