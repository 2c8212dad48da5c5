"""Evidence beyond embeddings for a candidate sentence pair.

Two signals the encoder is weak at: dictionary translations (CC-CEDICT for
Chinese–English; shared word forms such as names for other pairs) and
numbers, which must agree across a translation. Each sentence is reduced to
a set once, so scoring a pair is a set intersection; over the aligner's
whole search band the intersections are counted together (``band_overlaps``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

_LATIN_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)

# Punctuation that marks the structure of a sentence whatever the language:
# questions, exclamations, ellipses and quotations survive translation more
# often than not, so their counts should agree across a bead.
MARKS = ("question", "exclaim", "ellipsis", "quote_open", "quote_close")
_QUESTION = re.compile(r"[?？¿]")
_EXCLAIM = re.compile(r"[!！¡]")
_ELLIPSIS = re.compile(r"…+|\.{3,}|。{3,}")
_OPENERS = "“‘「『„‚«‹〝﹁﹃"
_QUOTE = re.compile(r"[\"'“”‘’「」『』„‚«»‹›〝〞﹁﹂﹃﹄]")


def _quote_events(text: str, lang: str) -> list[bool]:
    """Quotation marks in reading order, True for an opening one.

    Curly and CJK marks say which they are, except where a language uses the
    English opener as its closer (German „…“). Straight marks open at the
    start or after a space and close elsewhere; a mark between a letter and
    a letter or space is an apostrophe (it's, l' avion, boys').
    """
    out = []
    n = len(text)
    for m in _QUOTE.finditer(text):
        ch, k = m.group(), m.start()
        prev = text[k - 1] if k else " "
        nxt = text[k + 1] if k + 1 < n else " "
        if ch in "'’" and prev.isalnum() and (nxt.isalnum() or (nxt.isspace() and k + 1 < n)):
            continue  # apostrophe: it's, l' avion, boys'
        if ch in "\"'":
            if k == 0 or prev.isspace() or prev in "([{—–-:":
                if nxt.isspace():
                    continue  # a lone mark between spaces says nothing
                out.append(True)
            else:
                out.append(False)
        elif lang == "de" and ch in "“‘":
            out.append(False)
        else:
            out.append(ch in _OPENERS)
    return out


def sentence_marks(texts: Sequence[str], lang: str) -> np.ndarray:
    """(n, len(MARKS) + 1) counts per sentence; the last column is 1 when the
    sentence ends inside an open quotation (the state carries across sentences:
    a quotation may run over several of them, though rarely over many without
    a mark: a stray mark must not flip the rest of the document)."""
    out = np.zeros((len(texts), len(MARKS) + 1), dtype=np.float32)
    inside = False
    quiet = 0
    for k, t in enumerate(texts):
        ev = _quote_events(t, lang)
        quiet = 0 if ev else quiet + 1
        if quiet > 6:
            inside = False
        opens = sum(ev)
        out[k, 0] = len(_QUESTION.findall(t))
        out[k, 1] = len(_EXCLAIM.findall(t))
        out[k, 2] = len(_ELLIPSIS.findall(t))
        out[k, 3] = opens
        out[k, 4] = len(ev) - opens
        for e in ev:
            inside = e
        out[k, 5] = inside
    return out


def _number_sets(texts: Sequence[str], lang: str) -> list[frozenset[float]]:
    from .numbers import extract_numbers

    out = []
    for t in texts:
        vals: set[float] = set()
        for m in extract_numbers(t, lang):
            if not m.weak:
                vals.update(float(a) for a in m.atoms())
        out.append(frozenset(vals))
    return out


def _form_bag(text: str) -> frozenset[str]:
    """Word prefixes: cognates and names are spelled alike in related languages."""
    return frozenset(w.lower()[:5] for w in _LATIN_WORD.findall(text))


_CLAUSE = re.compile(r"[，；：,;:、]|\s[—–-]+\s|—")


def half_cut(t: str) -> int:
    """Where a text is cut in two: at the clause mark nearest its middle (the
    space nearest it, else the middle, if it has none). Where a translator
    splits a sentence, the first part of one side should match the first
    sentence on the other."""
    mid = len(t) / 2
    cut = min((m.end() for m in _CLAUSE.finditer(t, 0, max(len(t) - 1, 0))), key=lambda e: abs(e - mid), default=None)
    if cut is None:
        cut = min((m.end() for m in re.finditer(r"\s+", t)), key=lambda e: abs(e - mid), default=int(mid))
    return cut


def half_texts(t: str) -> tuple[str, str] | None:
    """A text's two halves at ``half_cut``, or None if it has no clause mark to cut
    at (the embedded halves' features: cutting such text at its middle or at a space
    did worse, MAC-Dev leave-one-out 0.9144 against 0.9175)."""
    if not _CLAUSE.search(t, 0, max(len(t) - 1, 0)):
        return None
    cut = half_cut(t)
    first, second = t[:cut].strip(), t[cut:].strip()
    return (first, second) if first and second else None


@dataclass
class Bags:
    """Sentence -> item sets as ids into ``vocab``, in CSR rows: compact to
    send between processes, and many intersections can be counted at once."""

    vocab: list
    ids: np.ndarray
    indptr: np.ndarray

    @classmethod
    def of(cls, sets: Sequence[Iterable]) -> Bags:
        index: dict = {}
        flat = [index.setdefault(x, len(index)) for s in sets for x in s]
        indptr = np.zeros(len(sets) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, sets), dtype=np.int64, count=len(sets)), out=indptr[1:])
        return cls(list(index), np.array(flat, dtype=np.int64), indptr)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def sizes(self) -> np.ndarray:
        return np.diff(self.indptr)

    def sets(self) -> list[frozenset]:
        vocab = self.vocab
        return [frozenset(vocab[k] for k in self.ids[a:b]) for a, b in zip(self.indptr[:-1], self.indptr[1:])]

    @classmethod
    def concat(cls, parts: Sequence[Bags]) -> Bags:
        """The rows of several bags, in order, over one vocabulary."""
        index: dict = {}
        ren = [p.renumbered(index) for p in parts]
        sizes = np.concatenate([np.zeros(1, dtype=np.int64)] + [r.sizes() for r in ren])
        ids = np.concatenate([r.ids for r in ren]) if ren else np.zeros(0, dtype=np.int64)
        return cls(list(index), ids, np.cumsum(sizes))

    def renumbered(self, index: dict) -> Bags:
        """The same sets with ids from ``index`` (item -> id, extended as
        needed), so that two sides' bags can be intersected."""
        lookup = np.fromiter((index.setdefault(x, len(index)) for x in self.vocab), dtype=np.int64, count=len(self.vocab))
        return Bags(self.vocab, lookup[self.ids] if len(self.ids) else self.ids, self.indptr)


@dataclass
class SideEvidence:
    """One side's sentences reduced to what the pair evidence compares (``side_evidence``)."""

    bags: Bags  # the items each sentence contains or can express
    halves: tuple[Bags, Bags]  # the same for the two halves of each sentence (``half_cut``)
    nums: list[frozenset[float]]
    marks: np.ndarray  # ``sentence_marks``
    glosses: list[str] | None = None  # English glosses of Chinese sentences (``gloss``)

    @classmethod
    def concat(cls, parts: Sequence[SideEvidence], marks: np.ndarray) -> SideEvidence:
        """Evidence of consecutive runs of sentences joined (``marks`` of the
        whole: its quotation state runs across the runs' boundaries)."""
        glosses = None if parts[0].glosses is None else [g for p in parts for g in p.glosses]
        return cls(Bags.concat([p.bags for p in parts]), tuple(Bags.concat([p.halves[k] for p in parts]) for k in (0, 1)),
                   [x for p in parts for x in p.nums], marks, glosses)


def side_evidence(texts: Sequence[str], lang: str, other_lang: str, marks: bool = True) -> SideEvidence:
    """Every per-sentence set the pair evidence needs, tokenising each text once.

    Chinese–English: the English stems each sentence can express (zh, via
    CC-CEDICT) or contains (en), and the glosses of the Chinese side; other
    pairs: word forms. A word belongs to the half it starts in.
    """
    full: list[frozenset] = []
    first: list[frozenset] = []
    second: list[frozenset] = []
    glosses: list[str] | None = None
    if {lang, other_lang} == {"zh", "en"}:
        from .gloss import Glosser
        from .lexicon import load_lexicon
        from .segment import word_spans

        lex = load_lexicon()
        bag = lex.zh_bag if lang == "zh" else lex.en_bag
        glosser = Glosser() if lang == "zh" else None
        glosses = [] if glosser else None
        for t in texts:
            spans = word_spans(t, lang)
            cut = half_cut(t)
            k = next((n for n, (s, _) in enumerate(spans) if s >= cut), len(spans))
            tokens = [t[s:e] for s, e in spans]
            head, tail = bag(tokens[:k]), bag(tokens[k:])
            full.append(head | tail)  # a bag is the union of its tokens' sets
            first.append(head)
            second.append(tail)
            if glosser:
                glosses.append(glosser.tokens(tokens))
    else:
        for t in texts:
            cut = half_cut(t)
            full.append(_form_bag(t))
            first.append(_form_bag(t[:cut]))
            second.append(_form_bag(t[cut:]))
    return SideEvidence(Bags.of(full), (Bags.of(first), Bags.of(second)), _number_sets(texts, lang),
                        sentence_marks(texts, lang) if marks else np.zeros((0, len(MARKS) + 1), dtype=np.float32), glosses)


def band_overlaps(src: Bags, tgt: Bags, lo: np.ndarray, hi: np.ndarray, width: int,
                  budget: int = 1 << 22) -> np.ndarray:
    """``out[s, k] = |src[s] & tgt[lo[s] + k]|`` for ``lo[s] + k < hi[s]``, else 0.

    A sort-merge join: every (target, item) entry is a key in one sorted
    array, so each source item finds its band-limited postings with two
    binary searches; work is proportional to the items actually shared.
    """
    n, m = len(src), len(tgt)
    out = np.zeros(n * width, dtype=np.int64)
    if n == 0 or m == 0 or len(src.ids) == 0 or len(tgt.ids) == 0:
        return out.reshape(n, width)
    t_rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(tgt.indptr))
    # entries are in row order, so a stable sort by item alone sorts by (item, row);
    # with fewer than 2**16 items numpy's stable sort is a radix sort
    ids = tgt.ids.astype(np.uint16) if int(tgt.ids.max()) < 1 << 16 else tgt.ids
    order = np.argsort(ids, kind="stable")
    key_rows = t_rows[order]
    keys = tgt.ids[order] * (m + 1) + key_rows
    s_rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(src.indptr))
    base = src.ids * (m + 1)
    start = np.searchsorted(keys, base + lo[s_rows], side="left")
    stop = np.searchsorted(keys, base + np.maximum(hi[s_rows], lo[s_rows]), side="left")
    count = stop - start
    ends = np.cumsum(count)
    # entries in slices whose expansion stays within the memory budget
    e0 = 0
    while e0 < len(count):
        e1 = int(np.searchsorted(ends, (ends[e0 - 1] if e0 else 0) + budget, side="right"))
        e1 = max(e1, e0 + 1)
        c = count[e0:e1]
        total = int(c.sum())
        if total:
            entry = np.repeat(np.arange(e0, e1, dtype=np.int64), c)
            first = np.cumsum(c) - c
            pos = start[entry] + (np.arange(total, dtype=np.int64) - np.repeat(first, c))
            rows = s_rows[entry]
            out += np.bincount(rows * width + (key_rows[pos] - lo[rows]), minlength=n * width)
        e0 = e1
    return out.reshape(n, width)


class PairScorer:
    """Pair evidence for the aligner: (source i, target js) -> (len(js), 2).

    Column 0 is the share of the English sentence's words explained by the
    other sentence, column 1 the number of non-trivial numbers they share.
    ``table`` gives the same values for a whole band of cells at once and
    ``half_table`` the word overlaps of sentence halves (clause order).
    """

    def __init__(self, src: SideEvidence, tgt: SideEvidence, en_is_tgt: bool) -> None:
        self.src, self.tgt = src, tgt
        self.en_is_tgt = en_is_tgt
        # per-sentence punctuation structure, for bead-level features
        self.src_marks, self.tgt_marks = src.marks, tgt.marks
        words: dict = {}
        self._words = [b.renumbered(words) for b in (src.bags, tgt.bags, *src.halves, *tgt.halves)]
        nums: dict = {}
        self._nums = [Bags.of(x).renumbered(nums) for x in (src.nums, tgt.nums)]

    @cached_property
    def _sets(self) -> tuple[list[frozenset], list[frozenset]]:
        return self.src.bags.sets(), self.tgt.bags.sets()

    def __call__(self, i: int, js: np.ndarray) -> np.ndarray:
        out = np.zeros((len(js), 2), dtype=np.float32)
        src_bags, tgt_bags = self._sets
        sb, sn = src_bags[i], self.src.nums[i]
        for k, j in enumerate(js):
            tb = tgt_bags[j]
            en_bag = tb if self.en_is_tgt else sb
            if en_bag:
                out[k, 0] = len(sb & tb) / (len(en_bag) + 2.0)
            if sn:
                out[k, 1] = len(sn & self.tgt.nums[j])
        return out

    @staticmethod
    def _band(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
        return lo, hi, max(1, int(np.max(hi - lo)) if len(lo) else 1)

    def _denominator(self, lo: np.ndarray, width: int) -> np.ndarray:
        """The English sentence's bag size + 2 at every cell."""
        if self.en_is_tgt:
            en_len = self._words[1].sizes().astype(np.float64)
            if not len(en_len):
                return np.full((len(lo), width), 2.0)
            return en_len[np.minimum(lo[:, None] + np.arange(width)[None, :], len(en_len) - 1)] + 2.0
        return (self._words[0].sizes().astype(np.float64) + 2.0)[:, None]

    def table(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """(n, width, 2): row s holds targets lo[s] .. hi[s]-1, zeros after them."""
        lo, hi, width = self._band(lo, hi)
        out = np.zeros((len(lo), width, 2), dtype=np.float32)
        out[..., 0] = band_overlaps(self._words[0], self._words[1], lo, hi, width) / self._denominator(lo, width)
        out[..., 1] = band_overlaps(self._nums[0], self._nums[1], lo, hi, width)
        return out

    def half_table(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """(n, width, 4): each source half against the target sentence, then the
        source sentence against each target half, over the English side's size."""
        lo, hi, width = self._band(lo, hi)
        src, tgt, src1, src2, tgt1, tgt2 = self._words
        denom = self._denominator(lo, width)
        out = np.zeros((len(lo), width, 4), dtype=np.float32)
        for k, (s, t) in enumerate(((src1, tgt), (src2, tgt), (src, tgt1), (src, tgt2))):
            out[..., k] = band_overlaps(s, t, lo, hi, width) / denom
        return out


def pair_scorer(src_texts: Sequence[str], tgt_texts: Sequence[str], src_lang: str, tgt_lang: str,
                sides: tuple[SideEvidence, SideEvidence] | None = None) -> PairScorer:
    """The aligner's pair evidence for two sentence lists (``sides``: their
    ``side_evidence``, when already computed)."""
    if sides is None:
        sides = side_evidence(src_texts, src_lang, tgt_lang), side_evidence(tgt_texts, tgt_lang, src_lang)
    # coverage is measured on the English side, whatever the direction
    return PairScorer(*sides, en_is_tgt=not (src_lang == "en" and tgt_lang == "zh"))


# ------------------------------------------------------- unmatched sentences ---

# Per-sentence evidence that a sentence has no counterpart on the other side,
# whatever the language pair: OCR debris and page furniture (few letters, no
# real word), bracketed asides (captions, translator credits), and text left in
# the other language (an advertisement kept untranslated, English inside a
# Chinese file), whose words the other document uses and this one does not.
STRAY = ("debris", "nonletter", "bracketed", "foreign")
_CJK_CHARS = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af"
# a word: one CJK character (a CJK run is a clause, not a word) or a run of other letters;
# \x01 separates sentences in a document's joined text
_WORD = re.compile(f"[{_CJK_CHARS}]|[^\\W\\d_{_CJK_CHARS}]+|\x01")
_BRACKETED = re.compile(r"^\s*[(\[（【].*[)\]）】]\s*[.。]?\s*$")


def _doc_words(texts: Sequence[str], index: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(word ids, their sentence, their length) over a document, from one pass of
    the word pattern over its joined lower-cased text (``index``: word -> id, extended)."""
    joined = "\x01".join(texts)
    if joined.count("\x01") > max(len(texts) - 1, 0):  # the separator inside a text
        joined = "\x01".join(t.replace("\x01", " ") for t in texts)
    words = _WORD.findall(joined.lower())
    for w in dict.fromkeys(words):  # new words get ids; the loops over every word stay in C
        index.setdefault(w, len(index))
    ids = np.fromiter(map(index.__getitem__, words), dtype=np.int64, count=len(words))
    cut = ids == index.setdefault("\x01", len(index))
    sent = np.cumsum(cut)
    keep = ~cut
    lens = np.fromiter(map(len, index), dtype=np.int64, count=len(index))[ids]
    return ids[keep], sent[keep], lens[keep]


def stray_pair(src: Sequence[str], tgt: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``stray_features`` of both sides, each document read once."""
    index: dict = {"\x01": 0}
    words = _doc_words(src, index), _doc_words(tgt, index)
    cjk = re.compile(f"[{_CJK_CHARS}]")
    is_cjk = np.fromiter((cjk.match(w) is not None for w in index), dtype=bool, count=len(index))
    return _stray(src, words[0], words[1], is_cjk), _stray(tgt, words[1], words[0], is_cjk)


def stray_features(texts: Sequence[str], other_texts: Sequence[str]) -> np.ndarray:
    """(n, len(STRAY)) per sentence of ``texts``: 1 when it has no word of three
    letters or a CJK character (debris); its share of non-letter characters; 1
    when it is wholly inside brackets; and how much likelier its words are in the
    other document than in the rest of its own (mean log ratio of their smoothed
    frequencies, above 0 only, clipped at 5: text in the other language, whose
    function words the other document is full of)."""
    return stray_pair(texts, other_texts)[0]


def _stray(texts: Sequence[str], own: tuple, other: tuple, is_cjk: np.ndarray) -> np.ndarray:
    v = len(is_cjk)
    n = len(texts)
    out = np.zeros((n, len(STRAY)), dtype=np.float32)
    if not n:
        return out
    ids, sent, lens = own
    sizes = np.bincount(sent, minlength=n)
    solid = np.fromiter((len(t) - t.count(" ") for t in texts), dtype=np.float64, count=n)
    letters = np.bincount(sent, weights=lens, minlength=n)
    out[:, 1] = np.where(solid > 0, 1.0 - np.minimum(letters / np.maximum(solid, 1.0), 1.0), 0.0)
    out[:, 2] = np.fromiter((t.lstrip()[:1] in "([（【" and _BRACKETED.match(t) is not None for t in texts),
                            dtype=bool, count=n)
    # CJK characters are words of one letter: only other words need three
    real = (lens >= 3) | is_cjk[ids]
    out[:, 0] = np.bincount(sent, weights=real, minlength=n) == 0
    if not len(ids):
        return out
    c_own = np.bincount(ids, minlength=v).astype(np.float64)
    c_other = np.bincount(other[0], minlength=v).astype(np.float64)
    # the sentence's own words do not count as support for it (leave it out)
    uniq, self_count = np.unique(sent * v + ids, return_counts=True)
    w, r = uniq % v, uniq // v
    # smoothing in proportion to each document's size: a word neither uses scores 0
    n_own, n_other = max(float(c_own.sum()), 1.0), max(float(c_other.sum()), 1.0)
    ratio = np.log((c_other[w] + n_other / 2000) / n_other) - np.log((c_own[w] - self_count + n_own / 2000) / n_own)
    score = np.bincount(r, weights=ratio * self_count, minlength=n) / np.maximum(sizes, 1)
    out[:, 3] = np.clip(score, 0.0, 5.0)
    return out
