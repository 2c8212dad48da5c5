"""Evidence beyond embeddings for a candidate sentence pair.

Two signals the encoder is weak at: dictionary translations (CC-CEDICT for
Chinese–English; shared word forms such as names for other pairs) and
numbers, which must agree across a translation. Each sentence is reduced to
a set once, so scoring a pair is a set intersection; over the aligner's
whole search band the intersections are counted together (``band_overlaps``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property
from itertools import chain

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


def _zh_en_bags(texts: Sequence[str], lang: str) -> list[frozenset[str]]:
    """English stems each sentence can express (zh) or contains (en)."""
    from .lexicon import load_lexicon
    from .segment import word_spans

    lex = load_lexicon()
    bags = []
    for t in texts:
        tokens = [t[s:e] for s, e in word_spans(t, lang)]
        bags.append(lex.zh_bag(tokens) if lang == "zh" else lex.en_bag(tokens))
    return bags


def _form_bags(texts: Sequence[str]) -> list[frozenset[str]]:
    """Word prefixes: cognates and names are spelled alike in related languages."""
    return [frozenset(w.lower()[:5] for w in _LATIN_WORD.findall(t)) for t in texts]


class _Incidence:
    """Sentence -> item sets as integer ids in CSR rows, so many
    intersections can be counted at once instead of one set at a time."""

    def __init__(self, sets: Sequence[frozenset], vocab: dict) -> None:
        flat = list(chain.from_iterable(sets))
        new = set(flat).difference(vocab)
        vocab.update(zip(new, range(len(vocab), len(vocab) + len(new))))
        self.ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
        self.indptr = np.zeros(len(sets) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, sets), dtype=np.int64, count=len(sets)), out=self.indptr[1:])

    def __len__(self) -> int:
        return len(self.indptr) - 1


def band_overlaps(src: _Incidence, tgt: _Incidence, lo: np.ndarray, hi: np.ndarray, width: int,
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


_CLAUSE = re.compile(r"[，；：,;:、]|\s[—–-]+\s|—")


def half_cut(t: str) -> int:
    """Where ``halves`` cuts a text."""
    mid = len(t) / 2
    cut = min((m.end() for m in _CLAUSE.finditer(t, 0, max(len(t) - 1, 0))), key=lambda e: abs(e - mid), default=None)
    if cut is None:  # no clause mark: the space nearest the middle, else the middle
        cut = min((m.end() for m in re.finditer(r"\s+", t)), key=lambda e: abs(e - mid), default=int(mid))
    return cut


def halves(texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """Each text cut in two at the clause mark nearest its middle (at the middle
    if it has none): where a translator splits a sentence, the first part of
    one side should match the first sentence on the other."""
    cuts = [half_cut(t) for t in texts]
    return [t[:c] for t, c in zip(texts, cuts)], [t[c:] for t, c in zip(texts, cuts)]


def _zh_en_bag_halves(texts: Sequence[str], lang: str) -> tuple[list[frozenset[str]], ...]:
    """``_zh_en_bags`` of whole texts and of their ``halves``, tokenising each text once
    (a word belongs to the half it starts in)."""
    from .lexicon import load_lexicon
    from .segment import word_spans

    lex = load_lexicon()
    bag = lex.zh_bag if lang == "zh" else lex.en_bag
    full, first, second = [], [], []
    for t in texts:
        spans = word_spans(t, lang)
        cut = half_cut(t)
        k = next((n for n, (s, _) in enumerate(spans) if s >= cut), len(spans))
        tokens = [t[s:e] for s, e in spans]
        full.append(bag(tokens))
        first.append(bag(tokens[:k]))
        second.append(bag(tokens[k:]))
    return full, first, second


class PairScorer:
    """Pair evidence for the aligner: (source i, target js) -> (len(js), 2).

    Column 0 is the share of the English sentence's words explained by the
    other sentence, column 1 the number of non-trivial numbers they share.
    ``table`` gives the same values for a whole band of cells at once.
    """

    def __init__(self, src_bags: Sequence[frozenset], tgt_bags: Sequence[frozenset], src_nums: Sequence[frozenset],
                 tgt_nums: Sequence[frozenset], en_is_tgt: bool, src_marks: np.ndarray | None = None,
                 tgt_marks: np.ndarray | None = None) -> None:
        self.src_bags, self.tgt_bags = src_bags, tgt_bags
        # per-sentence punctuation structure (``sentence_marks``), for bead-level features
        self.src_marks, self.tgt_marks = src_marks, tgt_marks
        self.src_nums, self.tgt_nums = src_nums, tgt_nums
        self.en_is_tgt = en_is_tgt
        # bags of the two halves of each sentence (``halves``), for the order evidence
        self.src_halves: tuple[Sequence[frozenset], Sequence[frozenset]] | None = None
        self.tgt_halves: tuple[Sequence[frozenset], Sequence[frozenset]] | None = None

    def __call__(self, i: int, js: np.ndarray) -> np.ndarray:
        out = np.zeros((len(js), 2), dtype=np.float32)
        sb, sn = self.src_bags[i], self.src_nums[i]
        for k, j in enumerate(js):
            tb = self.tgt_bags[j]
            en_bag = tb if self.en_is_tgt else sb
            if en_bag:
                out[k, 0] = len(sb & tb) / (len(en_bag) + 2.0)
            if sn:
                out[k, 1] = len(sn & self.tgt_nums[j])
        return out

    @cached_property
    def _incidence(self) -> tuple[tuple[_Incidence, _Incidence], tuple[_Incidence, _Incidence]]:
        words: dict = {}
        nums: dict = {}
        return ((_Incidence(self.src_bags, words), _Incidence(self.tgt_bags, words)),
                (_Incidence(self.src_nums, nums), _Incidence(self.tgt_nums, nums)))

    def half_table(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
        """(n, width, 4): overlaps of each source half with the target sentence and of the
        source sentence with each target half, over the English side's length as in ``table``."""
        if self.src_halves is None or self.tgt_halves is None:
            return None
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
        n = len(self.src_bags)
        width = max(1, int(np.max(hi - lo)) if n else 1)
        (src_words, tgt_words), _ = self._incidence
        vocab: dict = {}
        inc = [_Incidence(b, vocab) for b in (self.src_bags, self.tgt_bags, *self.src_halves, *self.tgt_halves)]
        out = np.zeros((n, width, 4), dtype=np.float32)
        pairs = ((inc[2], inc[1]), (inc[3], inc[1]), (inc[0], inc[4]), (inc[0], inc[5]))
        if self.en_is_tgt:
            en_len = np.diff(tgt_words.indptr).astype(np.float64)
            cols = np.minimum(lo[:, None] + np.arange(width)[None, :], max(len(en_len) - 1, 0))
            denom = en_len[cols] + 2.0 if len(en_len) else np.full((n, width), 2.0)
        else:
            denom = (np.diff(src_words.indptr).astype(np.float64) + 2.0)[:, None]
        for k, (s, t) in enumerate(pairs):
            out[..., k] = band_overlaps(s, t, lo, hi, width) / denom
        return out

    def table(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """(n, width, 2): row s holds targets lo[s] .. hi[s]-1, zeros after them."""
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
        n = len(self.src_bags)
        width = max(1, int(np.max(hi - lo)) if n else 1)
        (src_words, tgt_words), (src_nums, tgt_nums) = self._incidence
        shared = band_overlaps(src_words, tgt_words, lo, hi, width)
        same_nums = band_overlaps(src_nums, tgt_nums, lo, hi, width)
        out = np.zeros((n, width, 2), dtype=np.float32)
        if self.en_is_tgt:
            en_len = np.diff(tgt_words.indptr).astype(np.float64)
            cols = np.minimum(lo[:, None] + np.arange(width)[None, :], max(len(en_len) - 1, 0))
            denom = en_len[cols] + 2.0 if len(en_len) else np.full((n, width), 2.0)
        else:
            denom = (np.diff(src_words.indptr).astype(np.float64) + 2.0)[:, None]
        out[..., 0] = shared / denom
        out[..., 1] = same_nums
        return out


def pair_scorer(src_texts: Sequence[str], tgt_texts: Sequence[str], src_lang: str, tgt_lang: str) -> PairScorer:
    """The aligner's pair evidence for two sentence lists (see ``PairScorer``)."""
    langs = {src_lang, tgt_lang}
    if langs == {"zh", "en"}:
        def bags(texts, lang):
            return _zh_en_bag_halves(texts, lang)

        # coverage is measured on the English side, whatever the direction
        en_is_tgt = tgt_lang == "en"
    else:
        def bags(texts, lang):
            return (_form_bags(texts), *(_form_bags(h) for h in halves(texts)))

        en_is_tgt = True
    src, tgt = bags(src_texts, src_lang), bags(tgt_texts, tgt_lang)
    scorer = PairScorer(src[0], tgt[0], _number_sets(src_texts, src_lang), _number_sets(tgt_texts, tgt_lang), en_is_tgt,
                        sentence_marks(src_texts, src_lang), sentence_marks(tgt_texts, tgt_lang))
    scorer.src_halves, scorer.tgt_halves = src[1:], tgt[1:]
    return scorer
