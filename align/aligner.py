"""Sentence alignment: a linear-time dynamic programme over bead types.

The search is coarse-to-fine (as in Vecalign): blocks of sentences are
aligned first, and the sentence-level DP only looks inside a band around the
coarse path, so time and memory grow linearly with document length. Every
candidate bead is scored as a weighted sum of evidence features (embedding
similarity with a margin against neighbours, a length model estimated from
the documents themselves, lexical and number agreement, paragraph
structure); the weights are learned from gold alignments (see ``train``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from .model import Alignment, Bead
from .pairfeatures import MARKS, STRAY

NEG = -1e9
WEIGHTS_FILE = Path(__file__).with_name("weights.json")


def _clamp(x: np.ndarray, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
    """``np.clip`` for integer indices, without its per-call overhead (it adds up over many blocks)."""
    out = np.maximum(x, lo, out=out)
    return np.minimum(out, hi, out=out)


@dataclass(frozen=True)
class AlignConfig:
    """Search settings. ``max_side`` caps sentences per side of a bead and
    ``max_total`` both sides together, except that a bead with one sentence on
    a side may have up to ``max_one`` on the other (a long Chinese sentence
    often becomes five or six English ones; 0: no such exception). ``refine``:
    on long documents, the radius of the final search around a first path of
    1-1 beads (0: search the whole coarse band at once)."""

    max_side: int = 4
    max_total: int = 5
    max_one: int = 0
    band: int = 8
    coarse_limit: int = 600
    neighbours: int = 4
    refine: int = 4
    weights: dict[str, float] | None = None

    @property
    def longest(self) -> int:
        return max(self.max_side, self.max_one)

    def bead_types(self) -> list[tuple[int, int]]:
        types = [(0, 1), (1, 0)]
        for a in range(1, self.longest + 1):
            for b in range(1, self.longest + 1):
                if (a + b <= self.max_total and max(a, b) <= self.max_side) or (min(a, b) == 1 and max(a, b) <= self.max_one):
                    types.append((a, b))
        return types


@dataclass
class Evidence:
    """Per-sentence inputs of the aligner, all aligned by sentence index.

    ``src_pairs[i]`` (optional) is the real embedding of sentences i-2 and
    i-1 joined, for i >= 2; longer runs are sums of pairs and sentences, so
    the encoder sees each sentence about twice instead of once per run
    length. Without it, pairs are sums of their two sentences.

    ``pair_fn`` is an optional (i, js) -> (len(js), P) row function of extra
    pairwise evidence (lexical, numbers) for single sentences, summed over
    the sentences of a bead; if it also has a ``table(lo, hi)`` method
    (``pairfeatures.PairScorer``), the search gets the whole band from one call,
    and its ``src_marks``/``tgt_marks`` (``pairfeatures.sentence_marks``), when
    present, give the punctuation-structure features.
    """

    src_vecs: np.ndarray
    tgt_vecs: np.ndarray
    src_lens: np.ndarray
    tgt_lens: np.ndarray
    src_par_start: np.ndarray | None = None
    tgt_par_start: np.ndarray | None = None
    src_pairs: np.ndarray | None = None
    tgt_pairs: np.ndarray | None = None
    pair_fn: Callable[[int, np.ndarray], np.ndarray] | None = None
    # unit vectors of a word-by-word English gloss of each sentence of one side
    # (``gloss``, Chinese only): a second view of that side, compared with the other
    src_gloss: np.ndarray | None = None
    tgt_gloss: np.ndarray | None = None
    # (n, len(STRAY)) per-sentence evidence of having no counterpart (``pairfeatures.stray_features``)
    src_stray: np.ndarray | None = None
    tgt_stray: np.ndarray | None = None
    # (n, 2, dim) unit vectors of each sentence's two halves (``pairfeatures.half_texts``;
    # a sentence with no clause to cut at repeats its own vector): where a translator
    # moved a clause across a sentence boundary, its half matches the other sentence
    src_halves: np.ndarray | None = None
    tgt_halves: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.src_vecs)

    @property
    def m(self) -> int:
        return len(self.tgt_vecs)


# x_*: crossing evidence of beads with two or more sentences on both sides (``_crossing``)
CROSS_FEATURES = ("x_cos", "x_lex", "x_half", "x_ehalf")
# gain: the bead's cosine less that of the bead without its first or last sentence on
# either side (the worst case); weakest: the lowest cosine of one of its sentences
# with the other side's run; quote_state, p_*: punctuation structure (``pairfeatures.MARKS``);
# gloss: the cosine of the Chinese side's word-by-word English gloss (``gloss``) with the
# English run; order: clause order across a split sentence (``_order``), eorder the same
# from the halves' embeddings; leak: a half of an end sentence fits the next bead better (``_leak``)
BASE_FEATURES = ["cos", "margin", "len", "lex", "num", "par", "local", "cos_lp", "gain", "quote_state", "weakest"] + [
    f"p_{k}" for k in MARKS] + ["gloss", "order", "eorder", "leak"] + list(CROSS_FEATURES) + ["gc"]
_GC = BASE_FEATURES.index("gc")
_GLOSS, _ORDER, _EORDER, _LEAK = (BASE_FEATURES.index(k) for k in ("gloss", "order", "eorder", "leak"))
_CROSS = BASE_FEATURES.index(CROSS_FEATURES[0])
_GAIN, _QSTATE, _WEAK, _MARKS = 8, 9, 10, 11
# Hinges max(x - knot, 0) let the linear scorer bend: a cosine of 0.8 says far
# more than twice one of 0.4. Knots chosen by leave-one-document-out F1 on
# MAC-Dev and Text+Berg (+0.008 and +0.007 over the base features alone); the gloss
# knots add +0.003 on MAC-Dev over the plain gloss cosine.
HINGES = (("cos", 0.3), ("cos", 0.5), ("cos", 0.7), ("margin", 0.15), ("local", 0.1), ("lex", 0.3), ("gloss", 0.4), ("gloss", 0.6))
FEATURES = BASE_FEATURES + [f"{name}>{knot}" for name, knot in HINGES] + ["len_abs"]
# features whose weight may differ by bead type (a 1-3 bead's cosine means less)
TYPED_FEATURES = frozenset({"cos", "weakest"})
# the features read from sentence halves' embeddings (``Evidence.src_halves``)
HALF_FEATURES = ("eorder", "leak", "x_ehalf")


def type_name(a: int, b: int) -> str:
    return f"t{a}{b}"


@lru_cache(maxsize=1)
def _trained() -> dict:
    if WEIGHTS_FILE.exists():
        return json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    return {}


def family(src_lang: str, tgt_lang: str) -> tuple[str, bool]:
    """Which trained weight set fits a language pair, and whether it runs reversed."""
    fams = _trained().get("families", {})
    if {src_lang, tgt_lang} == {"zh", "en"} and "zh-en" in fams:
        return "zh-en", src_lang == "en"
    return "default", False


def _family_entry(src_lang: str, tgt_lang: str) -> tuple[dict, bool]:
    """The trained family of a language pair as stored (empty if none), and whether it runs reversed."""
    name, reverse = family(src_lang, tgt_lang)
    return _trained().get("families", {}).get(name) or {}, reverse


def family_config(src_lang: str = "zh", tgt_lang: str = "en") -> AlignConfig:
    """Search settings trained with a language pair's weights (``max_one``)."""
    return AlignConfig(max_one=int(_family_entry(src_lang, tgt_lang)[0].get("max_one", 0)))


def uses_halves(src_lang: str, tgt_lang: str) -> bool:
    """Whether a language pair's weights read ``Evidence.src_halves`` (else they need not be embedded)."""
    w = default_weights(src_lang, tgt_lang)
    return any(w.get(k, 0.0) for k in HALF_FEATURES)


def _swap_types(w: dict[str, float]) -> dict[str, float]:
    """Weights for the reverse direction: a 1-2 bead becomes a 2-1 bead."""
    out = {}
    for k, v in w.items():
        m = re.fullmatch(r"t(\d)(\d)(:.*)?", k)
        out[f"t{m.group(2)}{m.group(1)}{m.group(3) or ''}" if m else k] = v
    return out


def default_weights(src_lang: str = "zh", tgt_lang: str = "en") -> dict[str, float]:
    """Weights learned from gold alignments (``align/weights.json``)."""
    fam, reverse = _family_entry(src_lang, tgt_lang)
    if not fam:
        return _prior_weights()
    return _swap_types(fam["weights"]) if reverse else fam["weights"]


def _prior_weights() -> dict[str, float]:
    """Hand-set starting point used before any training."""
    w = {"cos": 1.0, "margin": 2.0, "len": 0.1, "lex": 0.5, "num": 0.3, "par": 0.2}
    for a, b in AlignConfig().bead_types():
        n = a + b
        w[type_name(a, b)] = -0.3 * max(n - 2, 0)
        w[f"{type_name(a, b)}:cos"] = 0.0
    w[type_name(0, 1)] = -0.1
    w[type_name(1, 0)] = -0.1
    w["skip_best"] = -1.0
    return w


# ---------------------------------------------------------------- evidence ---


def span_terms(a: int) -> list[tuple[int, int, float]]:
    """A run of ``a`` sentences as (atom kind, end offset, weight) terms.

    Kind 0 is a single sentence, kind 1 a joined pair; a run ending at i is
    weight-2 pairs ending at i, i-2, ... plus a single sentence if a is odd.
    """
    if a == 1:
        return [(0, 0, 1.0)]
    terms = [(1, 2 * t, 2.0) for t in range(a // 2)]
    if a % 2:
        terms.append((0, a - 1, 1.0))
    return terms


def side_atoms(vecs: np.ndarray, pairs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Atom arrays indexed by run end: singles[i] = vecs[i-1], pairs[i]."""
    n, d = vecs.shape
    singles = np.zeros((n + 1, d), dtype=np.float32)
    singles[1:] = vecs
    if pairs is None:
        pairs = np.zeros((n + 1, d), dtype=np.float32)
        if n >= 2:
            pairs[2:] = (vecs[1:] + vecs[:-1]) / 2.0
    return singles, np.asarray(pairs, dtype=np.float32)


def span_norms(atoms: tuple[np.ndarray, np.ndarray], max_side: int, block: int = 2048) -> dict[int, np.ndarray]:
    """Length of every run vector, so cosines follow from atom dot products.

    Rows are done a block at a time so the run vectors stay in cache.
    """
    n1 = atoms[0].shape[0]
    out = {a: np.empty(n1, dtype=np.float32) for a in range(1, max_side + 1)}
    for r0 in range(0, n1, block):
        r1 = min(n1, r0 + block)
        for a in range(1, max_side + 1):
            v = None
            for kind, off, c in span_terms(a):  # the first term has offset 0
                if v is None:
                    v = c * atoms[kind][r0:r1]
                elif off < r1:
                    first = max(r0, off)  # rows before off have no such term
                    v[first - r0 :] += c * atoms[kind][first - off : r1 - off]
            norms = np.linalg.norm(v, axis=1)
            out[a][r0:r1] = np.where(norms == 0, 1.0, norms)
    return out


FRAME = 32  # spare zero columns each side of a band table: room for the band's local jumps


def _framed(shape: tuple[int, ...], margin: int) -> tuple[np.ndarray, np.ndarray]:
    """A zero array with ``margin`` spare columns each side and a spare zero row below,
    and the view of its middle: shifted rows are then plain windows (``_windows``)."""
    rows, width = shape[:2]
    framed = np.zeros((rows + 1, width + 2 * margin) + shape[2:], dtype=np.float32)
    return framed, framed[:rows, margin : margin + width]


def _windows(framed: np.ndarray, margin: int, rows: int, src: np.ndarray, off: np.ndarray, length: int,
             exact: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Row src[r], columns off[r] .. off[r] + length of a framed table (zeros outside it).

    Each row is one contiguous copy. The rare window that reaches past the
    frame is left to ``exact(rows)``, the element-wise gather.
    """
    last = framed.shape[1] - length
    if last < 0:
        return exact(np.arange(len(src)))
    inside = (src >= 0) & (src < rows)
    r = np.where(inside, src, rows)  # the spare zero row
    starts = off + margin
    beyond = inside & ((starts < 0) | (starts > last))
    _clamp(starts, 0, last, out=starts)
    s = framed.strides
    win = np.lib.stride_tricks.as_strided(framed, shape=(framed.shape[0], last + 1, length) + framed.shape[2:],
                                          strides=(s[0], s[1]) + s[1:], writeable=False)
    out = win[r, starts]
    if beyond.any():
        idx = np.nonzero(beyond)[0]
        out[idx] = exact(idx)
    return out


@dataclass(frozen=True)
class BandMatrix:
    """Dot products of source and target atoms, kept only near the band."""

    base: np.ndarray
    values: np.ndarray
    framed: np.ndarray | None = None  # ``values`` inside a zero frame (see ``_framed``)
    margin: int = 0

    @classmethod
    def build(cls, left: np.ndarray, right: np.ndarray, band: "Band", pad: int, chunk: int = 64,
              margin: int = 0) -> "BandMatrix":
        rows = left.shape[0]
        m1 = right.shape[0]
        base = band.lo - pad
        width = band.width + 2 * pad
        framed, values = _framed((rows, width), margin)
        ar = np.arange(width)
        for r0 in range(0, rows, chunk):
            r1 = min(rows, r0 + chunk)
            c0 = max(0, int(base[r0]))
            c1 = min(m1, int(base[r1 - 1]) + width)
            if c1 <= c0:
                continue
            block = left[r0:r1] @ right[c0:c1].T
            k = base[r0:r1, None] + ar[None, :] - c0
            ok = (k >= 0) & (k < c1 - c0)
            _clamp(k, 0, c1 - c0 - 1, out=k)
            values[r0:r1] = np.where(ok, np.take_along_axis(block, k, axis=1), np.float32(0.0))
        return cls(base=base, values=values, framed=framed, margin=margin)

    def aligned(self, lo: np.ndarray, shift: int, pad: int, width: int, start: int = 0) -> np.ndarray:
        """``lookup(i - shift, lo[i] - pad + c)`` for rows i = start.. and c < width + 2 pad."""
        rows, w = self.values.shape
        src = start + np.arange(len(lo)) - shift
        r = _clamp(src, 0, rows - 1)
        off = lo - pad - self.base[r]

        def exact(idx: np.ndarray) -> np.ndarray:
            k = off[idx, None] + np.arange(width + 2 * pad)[None, :]
            ok = ((src[idx] >= 0) & (src[idx] < rows))[:, None] & (k >= 0) & (k < w)
            np.clip(k, 0, w - 1, out=k)
            return np.where(ok, self.values[r[idx, None], k], np.float32(0.0))

        if self.framed is None:
            return exact(np.arange(len(lo)))
        return _windows(self.framed, self.margin, rows, src, off, width + 2 * pad, exact)

    def lookup(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        rows, width = self.values.shape
        ii = np.clip(i, 0, rows - 1)
        k = j - self.base[ii]
        ok = (i == ii) & (k >= 0) & (k < width)
        np.clip(k, 0, width - 1, out=k)
        return self.values[ii, k] * ok


def neighbour_means(sim: np.ndarray, k: int) -> np.ndarray:
    """Mean of each row's k best similarities: the 'hubness' a margin removes."""
    if sim.shape[1] == 0:
        return np.zeros(sim.shape[0], dtype=np.float32)
    k = max(1, min(k, sim.shape[1]))
    part = np.partition(sim, sim.shape[1] - k, axis=1)[:, -k:]
    return part.mean(axis=1).astype(np.float32)


def length_params(src_lens: np.ndarray, tgt_lens: np.ndarray) -> float:
    """Target/source length ratio of this document pair: the length prior's centre."""
    s = float(np.sum(src_lens)) + 1.0
    t = float(np.sum(tgt_lens)) + 1.0
    return float(np.log(t / s))


# ------------------------------------------------------------------- band ---


@dataclass(frozen=True)
class Band:
    """Allowed target columns [lo[i], hi[i]) for each DP row i (0..n)."""

    lo: np.ndarray
    hi: np.ndarray

    @property
    def width(self) -> int:
        return int(np.max(self.hi - self.lo))


def full_band(n: int, m: int) -> Band:
    return Band(np.zeros(n + 1, dtype=np.int64), np.full(n + 1, m + 1, dtype=np.int64))


def band_from_path(path: Sequence[tuple[int, int]], n: int, m: int, radius: int) -> Band:
    """Band of +-radius sentences around a monotone path of (i, j) points."""
    lo = np.full(n + 1, m + 1, dtype=np.int64)
    hi = np.zeros(n + 1, dtype=np.int64)
    pts = list(path)
    if len(pts) > 1:
        # every step (i0, j0) -> (i1, j1) covers rows i0..i1 and columns j0..j1
        arr = np.asarray(pts, dtype=np.int64)
        i0, j0, i1, j1 = arr[:-1, 0], arr[:-1, 1], arr[1:, 0], arr[1:, 1]
        count = np.maximum(i1 - i0 + 1, 0)
        rows = np.repeat(i0 - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
        np.minimum.at(lo, rows, np.repeat(j0, count))
        np.maximum.at(hi, rows, np.repeat(j1 + 1, count))
    i_last, j_last = pts[-1]
    lo[i_last] = min(lo[i_last], j_last)
    hi[i_last] = max(hi[i_last], j_last + 1)
    # dilate along rows and columns
    lo_d = lo.copy()
    hi_d = hi.copy()
    for r in range(1, radius + 1):
        lo_d[r:] = np.minimum(lo_d[r:], lo[:-r])
        lo_d[:-r] = np.minimum(lo_d[:-r], lo[r:])
        hi_d[r:] = np.maximum(hi_d[r:], hi[:-r])
        hi_d[:-r] = np.maximum(hi_d[:-r], hi[r:])
    lo_d = np.clip(lo_d - radius, 0, m)
    hi_d = np.clip(hi_d + radius, 1, m + 1)
    # monotone, so every DP predecessor lies inside the band of its row
    lo_d = np.minimum.accumulate(lo_d[::-1])[::-1]
    hi_d = np.maximum.accumulate(hi_d)
    lo_d[0] = 0
    hi_d[n] = m + 1
    return Band(lo_d, hi_d)


# --------------------------------------------------------------- features ---


def bead_features(ev: Evidence, a: int, b: int, i: np.ndarray, j: np.ndarray, ctx: "ScoreContext") -> np.ndarray:
    """Feature rows for beads of type (a, b) ending at DP cells (i, j).

    The bead covers source sentences i-a..i-1 and target j-b..j-1. Shared by
    the decoder (all band cells) and the trainer (gold and predicted beads),
    so both always see the same evidence.
    """
    k = len(i)
    f = np.zeros((k, len(FEATURES)), dtype=np.float32)
    if a == 0 or b == 0:
        return f
    na = ctx.src_norms[a][i]
    nb_ = ctx.tgt_norms[b][j]
    cos = _run_dot(ctx, span_terms(a), i, span_terms(b), j) / (na * nb_)
    f[:, 0] = cos
    hub = 0.5 * (_span_mean(ctx.src_hub_csum, i, a) + _span_mean(ctx.tgt_hub_csum, j, b))
    f[:, 1] = cos - hub
    ls = ctx.src_len_csum[i] - ctx.src_len_csum[i - a]
    lt = ctx.tgt_len_csum[j] - ctx.tgt_len_csum[j - b]
    x = np.log((lt + 1.0) / (ls + 1.0)) - ctx.log_ratio
    f[:, 2] = -np.minimum(x * x, 9.0)
    # local margin: a bead should fit better than the sentences just beside it
    one = span_terms(1)
    right_t = np.where(j < ctx.m, _run_dot(ctx, span_terms(a), i, one, j + 1) / na, 0.0)
    left_t = np.where(j - b >= 1, _run_dot(ctx, span_terms(a), i, one, j - b) / na, 0.0)
    right_s = np.where(i < ctx.n, _run_dot(ctx, one, i + 1, span_terms(b), j) / nb_, 0.0)
    left_s = np.where(i - a >= 1, _run_dot(ctx, one, i - a, span_terms(b), j) / nb_, 0.0)
    f[:, 6] = cos - (right_t + left_t + right_s + left_s) / 4
    ratio = np.minimum(ls, lt * ctx.inv_ratio) / np.maximum(np.maximum(ls, lt * ctx.inv_ratio), 1.0)
    f[:, 7] = cos * np.log2(1.0 + ratio)
    _gale_church(ls, lt * ctx.inv_ratio, f[:, _GC])
    if ctx.pair_table is not None:
        pf = _block_pair_features(ctx.pair_table, a, b, i, j)
        f[:, 3] = pf[:, 0]
        f[:, 4] = pf[:, 1]
    if ctx.src_par is not None and ctx.tgt_par is not None:
        # a bead that spans a paragraph break on one side only is suspicious
        ps = ctx.src_par[i - 1] - ctx.src_par[i - a]
        pt = ctx.tgt_par[j - 1] - ctx.tgt_par[j - b]
        f[:, 5] = -((ps > 0) != (pt > 0)).astype(np.float32)
    # does every sentence earn its place? the bead against itself less its first or last sentence
    gain = np.full(k, np.inf, dtype=np.float32)
    if a > 1:
        first = _run_dot(ctx, span_terms(a - 1), i, span_terms(b), j) / (ctx.src_norms[a - 1][i] * nb_)
        last = _run_dot(ctx, span_terms(a - 1), i - 1, span_terms(b), j) / (ctx.src_norms[a - 1][i - 1] * nb_)
        gain = np.minimum(gain, cos - np.maximum(first, last))
    if b > 1:
        first = _run_dot(ctx, span_terms(a), i, span_terms(b - 1), j) / (na * ctx.tgt_norms[b - 1][j])
        last = _run_dot(ctx, span_terms(a), i, span_terms(b - 1), j - 1) / (na * ctx.tgt_norms[b - 1][j - 1])
        gain = np.minimum(gain, cos - np.maximum(first, last))
    f[:, _GAIN] = np.where(np.isinf(gain), 0.0, gain)
    # the sentence that fits the other side worst: a stray sentence pulled into a bead
    weak = cos.copy()
    if b > 1:
        for d in range(b):
            weak = np.minimum(weak, _run_dot(ctx, span_terms(a), i, one, j - d) / na)
    if a > 1:
        for d in range(a):
            weak = np.minimum(weak, _run_dot(ctx, one, i - d, span_terms(b), j) / nb_)
    f[:, _WEAK] = weak
    if ctx.half_table is not None:
        first = ctx.half_table.lookup(i - a, j - b)
        last = ctx.half_table.lookup(i - 1, j - 1)
        f[:, _ORDER] = _order(first, last, a, b)
    corners = None
    if ctx.ehalf_table is not None:
        E = ctx.ehalf_table.lookup
        f[:, _EORDER] = _order(E(i - a, j - b), E(i - 1, j - 1), a, b)
        f[:, _LEAK] = _leak(E(i - 1, j), E(i - 1, j - 1), E(i, j - 1), E(i - a, j - b - 1), E(i - a, j - b), E(i - a - 1, j - b))
        corners = (E(i - 1, j - b), E(i - 1, j - 1), E(i - a, j - 1), E(i - a, j - b))
    if a > 1 and b > 1:
        def single(si: np.ndarray, tj: np.ndarray) -> np.ndarray:  # cosine of single sentences ending at si, tj
            return _run_dot(ctx, span_terms(1), si, span_terms(1), tj) / (ctx.src_norms[1][si] * ctx.tgt_norms[1][tj])

        up = single(i, j - b + 1) - single(i, j)
        down = single(i - a + 1, j) - single(i - a + 1, j - b + 1)
        lex = (ctx.pair_table.lookup(i - 1, j - b)[:, 0], ctx.pair_table.lookup(i - a, j - 1)[:, 0]) \
            if ctx.pair_table is not None else None
        half = (ctx.half_table.lookup(i - 1, j - b)[:, 0], ctx.half_table.lookup(i - a, j - 1)[:, 2]) \
            if ctx.half_table is not None else None
        _crossing(f, up, down, lex, half, corners)
    if ctx.gloss_dots:
        # the glossed side's run against the other side's: the gloss side's runs are plain sums
        gs, gt = (single_terms(a), span_terms(b)) if ctx.gloss_src else (span_terms(a), single_terms(b))
        gn = ctx.gloss_norms[a][i] * nb_ if ctx.gloss_src else na * ctx.gloss_norms[b][j]
        f[:, _GLOSS] = _run_dot(ctx, gs, i, gt, j, ctx.gloss_dots) / gn
    if ctx.src_marks is not None and ctx.tgt_marks is not None:
        # punctuation structure: both sides of a bead ask as many questions, quote as often...
        ms = ctx.src_marks[i] - ctx.src_marks[i - a]
        mt = ctx.tgt_marks[j] - ctx.tgt_marks[j - b]
        f[:, _MARKS:_MARKS + len(MARKS)] = -np.minimum(np.abs(ms - mt), 2.0)
        # ... and both end inside a quotation or both outside it
        f[:, _QSTATE] = -np.abs(ctx.src_inside[i] - ctx.tgt_inside[j])
    return _add_hinges(f)


GC_SMOOTH, GC_KNOT = 4.0, 2.5


def _gale_church(ls: np.ndarray, lt: np.ndarray, out: np.ndarray) -> None:
    """Length disagreement whose tolerance shrinks with the bead's length (as in Gale and
    Church, the expected difference grows like the square root of the length): a ratio
    that is noise on a short bead counts against a long one. ``lt`` is in source units
    (times the document's length ratio). Only deviations past ``GC_KNOT`` standard units
    count: a literary translation's lengths vary far more than Gale and Church's model
    expects (knot by leave-one-document-out F1 on MAC-Dev: 1.5, 2, 2.5, 3.5 tried)."""
    z = np.abs(lt - ls)
    z /= np.sqrt(0.5 * (ls + lt) + GC_SMOOTH)
    z -= GC_KNOT
    np.maximum(z, 0.0, out=z)
    np.minimum(z, 6.0, out=z)
    np.negative(z, out=out)



def _crossing(f: np.ndarray, up: np.ndarray, down: np.ndarray, lex, half, corners) -> None:
    """Fill the x_* columns of a bead with two or more sentences on both sides.

    Where a translator moved a clause across a sentence boundary, the last
    source sentence also matches the first target sentence (or the first
    source the last target), the corners off the diagonal: evidence that
    splitting the bead along its diagonal would cut a sentence's content in
    two. ``up``/``down`` are those corners' cosines less that of the same
    source sentence with its diagonal partner (a corner cosine alone says
    little: neighbouring sentences share topic); ``lex`` and ``half`` the
    corners' word overlaps (``half``: the later sentence's first half only,
    the clause that moved). The x_* features add about +0.001 LOO F1 on
    MAC-Dev, the length term ``_gale_church`` most of the gain.

    ``corners`` (``ehalf_table`` rows of the last source and first target
    sentence, last and last, first and last, first and first) give x_ehalf:
    how much better a half of an end sentence fits the far sentence of the
    other side than its diagonal partner. It separates MAC-Dev's 2-2 beads
    from pairs of 1-1 beads far better than the whole sentences' cosines
    (AUC 0.96 against 0.89 for x_cos)."""
    np.maximum(up, down, out=f[..., _CROSS])
    for k, pair in ((1, lex), (2, half)):
        if pair is None:
            f[..., _CROSS + k] = 0.0
        else:
            np.maximum(pair[0], pair[1], out=f[..., _CROSS + k])
    if corners is None:
        f[..., _CROSS + 3] = 0.0
    else:
        lf, ll, fl, ff = corners
        moved = np.maximum(lf[..., 0] - ll[..., 0], fl[..., 2] - ll[..., 2])  # a first half moved back
        np.maximum(moved, np.maximum(fl[..., 1] - ff[..., 1], lf[..., 3] - ff[..., 3]), out=f[..., _CROSS + 3])


def _leak(last_next, last_last, next_last, first_prev, first_first, prev_first) -> np.ndarray:
    """How much better a half of a bead's end sentence fits the sentence just outside
    the bead than its partner inside: the second half of the last sentence on either
    side against the other side's next sentence, the first half of the first sentence
    against the previous one (``ehalf_table`` rows named source-target). A bead that
    cuts a sentence's content in two leaks."""
    after = np.maximum(last_next[..., 1] - last_last[..., 1], next_last[..., 3] - last_last[..., 3])
    before = np.maximum(first_prev[..., 0] - first_first[..., 0], prev_first[..., 2] - first_first[..., 2])
    return np.maximum(after, before)


def _order(first: np.ndarray, last: np.ndarray, a: int, b: int) -> np.ndarray:
    """Clause order evidence from ``half_table`` rows of a bead's first and last sentence pair:
    where one side has several sentences, the first should share words with the other side's
    first half and the last with its second half."""
    out = np.zeros(first.shape[:-1], dtype=np.float32)
    if b > 1:  # source halves against the first and last target sentences
        out += (first[..., 0] - first[..., 1]) + (last[..., 1] - last[..., 0])
    if a > 1:
        out += (first[..., 2] - first[..., 3]) + (last[..., 3] - last[..., 2])
    return out


def _add_hinges(f: np.ndarray) -> np.ndarray:
    """Fill the derived columns of a feature array (last axis) from the base ones."""
    base = len(BASE_FEATURES)
    for k, (name, knot) in enumerate(HINGES):
        np.maximum(f[..., BASE_FEATURES.index(name)] - knot, 0, out=f[..., base + k])
    # length deviation in log-ratio units, linear where "len" is squared
    np.negative(np.maximum(np.sqrt(np.abs(f[..., 2])) - 0.5, 0), out=f[..., -1])
    return f


def _run_dot(ctx: "ScoreContext", s_terms, i: np.ndarray, t_terms, j: np.ndarray, dots: dict | None = None) -> np.ndarray:
    """Unnormalised dot product of a source run and a target run (``dots``: the atom tables, default ``ctx.dots``)."""
    dots = ctx.dots if dots is None else dots
    total = np.zeros(len(i), dtype=np.float32)
    for ks, os_, cs in s_terms:
        for kt, ot, ct in t_terms:
            total += (cs * ct) * dots[(ks, kt)].lookup(i - os_, j - ot)
    return total


def _span_mean(csum: np.ndarray, end: np.ndarray, length: int) -> np.ndarray:
    return (csum[end] - csum[end - length]) / length


def _block_pair_features(table: "PairTable", a: int, b: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Pair evidence summed over every sentence pair of the bead."""
    total = np.zeros((len(i), table.values.shape[2]), dtype=np.float32)
    for da in range(a):
        for db in range(b):
            total += table.lookup(i - 1 - da, j - 1 - db)
    return total


@dataclass(frozen=True)
class PairTable:
    """Pairwise evidence for single sentences, stored only inside the band."""

    lo: np.ndarray
    values: np.ndarray  # (n, width, P)
    framed: np.ndarray | None = None  # ``values`` inside a zero frame (see ``_framed``)
    margin: int = 0

    @classmethod
    def build(cls, fn: Callable[[int, np.ndarray], np.ndarray], band: "Band", n: int, m: int,
              margin: int = 0) -> "PairTable":
        table = getattr(fn, "table", None)
        if table is not None:  # the whole band at once (see pairfeatures.PairScorer)
            return cls.from_band(table, band, n, m, margin)
        lo, hi = cls._rows(band, n, m)
        width = max(1, int(np.max(hi - lo)) if n else 1)
        first = None
        values = None
        for s in range(n):
            js = np.arange(lo[s], max(hi[s], lo[s]))
            if len(js) == 0:
                continue
            row = np.asarray(fn(s, js), dtype=np.float32)
            if values is None:
                first = row.shape[1]
                values = np.zeros((n, width, first), dtype=np.float32)
            values[s, : len(js)] = row
        if values is None:
            values = np.zeros((max(n, 1), width, 2), dtype=np.float32)
        return cls(lo=lo, values=values)

    @classmethod
    def from_band(cls, table: Callable[[np.ndarray, np.ndarray], np.ndarray], band: "Band", n: int, m: int,
                  margin: int = 0) -> "PairTable":
        """From ``table(lo, hi)``, which gives every row's band columns at once."""
        lo, hi = cls._rows(band, n, m)
        got = np.asarray(table(lo, np.maximum(hi, lo)), dtype=np.float32)
        framed, values = _framed(got.shape, margin)
        values[...] = got
        return cls(lo=lo, values=values, framed=framed, margin=margin)

    @staticmethod
    def _rows(band: "Band", n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        # sentence row s is used by DP rows s+1.. : take the union of their columns
        return np.clip(band.lo[:n], 0, max(m - 1, 0)), np.clip(band.hi[1 : n + 1], 0, m)

    def aligned(self, lo: np.ndarray, shift: int, pad: int, width: int, start: int = 0) -> np.ndarray:
        """``lookup(i - shift, lo[i] - pad + c)`` for rows i = start.. and c < width + 2 pad."""
        n, w, p = self.values.shape
        src = start + np.arange(len(lo)) - shift
        r = _clamp(src, 0, max(n - 1, 0))

        def exact(idx: np.ndarray) -> np.ndarray:
            j = lo[idx, None] - pad + np.arange(width + 2 * pad)[None, :]
            k = j - self.lo[r[idx]][:, None]
            ok = ((src[idx] >= 0) & (src[idx] < n))[:, None] & (k >= 0) & (k < w) & (j >= 0)
            np.clip(k, 0, w - 1, out=k)
            return np.where(ok[..., None], self.values[r[idx, None], k], np.float32(0.0))

        if self.framed is None:
            return exact(np.arange(len(lo)))
        # columns left of 0 have k < 0 as well (self.lo >= 0): the frame's zeros cover them
        return _windows(self.framed, self.margin, n, src, lo - pad - self.lo[r], width + 2 * pad, exact)

    def lookup(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        n, width, p = self.values.shape
        out = np.zeros((len(i), p), dtype=np.float32)
        if n == 0:
            return out
        ii = np.clip(i, 0, n - 1)
        k = j - self.lo[ii]
        ok = (i >= 0) & (i < n) & (k >= 0) & (k < width) & (j >= 0)
        out[ok] = self.values[ii[ok], k[ok]]
        return out


@dataclass
class ScoreContext:
    """Document-level statistics the features need, computed once."""

    src_hub_csum: np.ndarray
    tgt_hub_csum: np.ndarray
    src_len_csum: np.ndarray
    tgt_len_csum: np.ndarray
    log_ratio: float
    inv_ratio: float
    src_best: np.ndarray
    tgt_best: np.ndarray
    src_par: np.ndarray | None
    tgt_par: np.ndarray | None
    pair_table: PairTable | None = None
    half_table: PairTable | None = None  # (``pairfeatures.PairScorer.half_table``) for the order feature
    ehalf_table: PairTable | None = None  # (``_ehalf_table``) cosines of sentence halves
    src_marks: np.ndarray | None = None  # (n+1, K) cumulative punctuation counts (``pairfeatures.sentence_marks``)
    tgt_marks: np.ndarray | None = None
    src_inside: np.ndarray | None = None  # (n+1,): 1 when the text is inside a quotation after i sentences
    tgt_inside: np.ndarray | None = None
    src_skipf: np.ndarray | None = None  # (n, len(SKIP_FEATURES)): what a bead leaving the sentence unaligned scores
    tgt_skipf: np.ndarray | None = None
    dots: dict = field(default_factory=dict)
    gloss_dots: dict = field(default_factory=dict)  # like ``dots`` with one side's gloss vectors (single atoms)
    gloss_norms: dict = field(default_factory=dict)
    gloss_src: bool = True  # the glossed side is the source
    src_norms: dict = field(default_factory=dict)
    tgt_norms: dict = field(default_factory=dict)
    n: int = 0
    m: int = 0


def _csum(x: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x) + 1, dtype=np.float64)
    np.cumsum(x, out=out[1:])
    return out


def _marks(per_sentence: np.ndarray | None, count: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Cumulative mark counts and the quotation state after each prefix of sentences."""
    if per_sentence is None or len(per_sentence) != count:
        return None
    x = np.asarray(per_sentence, dtype=np.float32)
    csum = np.zeros((len(x) + 1, x.shape[1] - 1), dtype=np.float32)
    np.cumsum(x[:, :-1], axis=0, out=csum[1:])
    inside = np.zeros(len(x) + 1, dtype=np.float32)
    inside[1:] = x[:, -1]
    return csum, inside


def _skip_lengths(lens: np.ndarray) -> np.ndarray:
    """How long a sentence is for its document: a long one is rarely left untranslated."""
    x = np.log1p(np.asarray(lens, dtype=np.float64))
    return (x - (np.median(x) if len(x) else 0.0)).astype(np.float32)


# Features of a bead that leaves one sentence unaligned: its best similarity to anything
# in the band, absolute and against the document's median; the same for its neighbours
# (unaligned sentences come in runs: a caption block, an untranslated passage); its
# length (``_skip_lengths``); and its ``pairfeatures.STRAY`` evidence.
SKIP_FEATURES = ("skip_best", "skip_rel", "skip_nb", "skip_len") + tuple(f"skip_{k}" for k in STRAY)


def skip_table(best: np.ndarray, lens: np.ndarray, stray: np.ndarray | None) -> np.ndarray:
    """(n, len(SKIP_FEATURES)) for one side's sentences."""
    n = len(best)
    out = np.zeros((n, len(SKIP_FEATURES)), dtype=np.float32)
    if not n:
        return out
    mid = float(np.median(best))
    out[:, 0] = best
    out[:, 1] = best - mid
    padded = np.concatenate([[mid], best, [mid]])
    out[:, 2] = 0.5 * (padded[:-2] + padded[2:]) - mid
    out[:, 3] = _skip_lengths(lens)
    if stray is not None and len(stray) == n:
        out[:, 4:] = stray
    return out


def score_context(ev: Evidence, band: Band, k: int, max_side: int = 4, like: ScoreContext | None = None) -> ScoreContext:
    """Neighbour statistics within the band, where the real competitors are
    (``like``: a context of the same documents whose statistics, taken over a
    wider band, are kept)."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    # The word-overlap tables (sorts and binary searches, mostly outside the GIL)
    # are built on a second thread while this one does the matrix products, on
    # one BLAS thread: two cores, two threads.
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(1) as pool:
        tables = pool.submit(_overlap_tables, ev, band)
        ctx = _score_context(ev, band, k, max_side, like)
        ctx.ehalf_table = _ehalf_table(ev, band)
        ctx.pair_table, ctx.half_table = tables.result()
    return ctx


def _overlap_tables(ev: Evidence, band: Band) -> tuple[PairTable | None, PairTable | None]:
    pair = PairTable.build(ev.pair_fn, band, ev.n, ev.m, margin=FRAME) if ev.pair_fn is not None and ev.n and ev.m else None
    return pair, _half_table(ev, band)


# ``ScoreContext`` fields that depend on the band's competitors (``_band_stats``)
BAND_STATS = ("src_hub_csum", "tgt_hub_csum", "src_best", "tgt_best", "src_skipf", "tgt_skipf")


def _band_stats(ev: Evidence, band: Band, k: int) -> dict:
    """``ScoreContext`` fields from every sentence's competitors in the band: the
    mean of its ``k`` best cosines (hubness), its best, and the skip features."""
    n, m = ev.n, ev.m
    src_hub = np.zeros(n, dtype=np.float32)
    src_best = np.zeros(n, dtype=np.float32)
    tgt_hub = np.zeros(m, dtype=np.float32)
    tgt_best = np.zeros(m, dtype=np.float32)
    if n and m:
        # rows of the band are contiguous column ranges; process in chunks
        tgt_acc = np.full((m, k), -1.0, dtype=np.float32)
        for start in range(0, n, 256):
            stop = min(n, start + 256)
            lo = int(band.lo[start])
            hi = int(min(m, band.hi[stop]))
            hi = max(hi, lo + 1)
            sim = ev.src_vecs[start:stop] @ ev.tgt_vecs[lo:hi].T
            cols = np.arange(lo, hi)
            inside = (cols[None, :] >= band.lo[start:stop, None] - 1) & (cols[None, :] < band.hi[start + 1 : stop + 1, None])
            masked = np.where(inside, sim, -1.0)
            src_hub[start:stop] = neighbour_means(masked, k)
            src_best[start:stop] = masked.max(axis=1)
            kk = min(k, masked.shape[0])
            top = -np.sort(-masked, axis=0)[:kk].T  # (cols, kk)
            merged = np.concatenate([tgt_acc[lo:hi], top], axis=1)
            tgt_acc[lo:hi] = -np.sort(-merged, axis=1)[:, :k]
        valid = tgt_acc > -1.0
        tgt_hub = np.where(valid.any(axis=1), np.where(valid, tgt_acc, 0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1), 0).astype(np.float32)
        tgt_best = np.where(valid.any(axis=1), tgt_acc[:, 0], 0).astype(np.float32)
    return dict(zip(BAND_STATS, (_csum(src_hub), _csum(tgt_hub), src_best, tgt_best,
                                 skip_table(src_best, ev.src_lens, ev.src_stray), skip_table(tgt_best, ev.tgt_lens, ev.tgt_stray))))


def _score_context(ev: Evidence, band: Band, k: int, max_side: int, like: ScoreContext | None) -> ScoreContext:
    n, m = ev.n, ev.m
    stats = _band_stats(ev, band, k) if like is None else {key: getattr(like, key) for key in BAND_STATS}
    log_ratio = length_params(ev.src_lens, ev.tgt_lens)
    kinds = 1 if max_side == 1 else 2  # single sentences need no pair atoms
    src_atoms = side_atoms(ev.src_vecs, ev.src_pairs)[:kinds]
    tgt_atoms = side_atoms(ev.tgt_vecs, ev.tgt_pairs)[:kinds]
    src_marks, tgt_marks = _marks(getattr(ev.pair_fn, "src_marks", None), n), _marks(getattr(ev.pair_fn, "tgt_marks", None), m)
    if src_marks is None or tgt_marks is None:
        src_marks = tgt_marks = (None, None)
    par_s = None if ev.src_par_start is None else np.cumsum(ev.src_par_start).astype(np.int64)
    par_t = None if ev.tgt_par_start is None else np.cumsum(ev.tgt_par_start).astype(np.int64)
    return ScoreContext(
        **stats,
        src_len_csum=_csum(ev.src_lens.astype(np.float64)),
        tgt_len_csum=_csum(ev.tgt_lens.astype(np.float64)),
        log_ratio=log_ratio,
        inv_ratio=float(np.exp(-log_ratio)),
        src_par=par_s,
        tgt_par=par_t,
        src_marks=src_marks[0],
        tgt_marks=tgt_marks[0],
        src_inside=src_marks[1],
        tgt_inside=tgt_marks[1],
        dots={(ks, kt): BandMatrix.build(sa, ta, band, pad=max_side + 2, margin=FRAME)
              for ks, sa in enumerate(src_atoms) for kt, ta in enumerate(tgt_atoms)},
        src_norms=span_norms(src_atoms, max_side),
        tgt_norms=span_norms(tgt_atoms, max_side),
        **_gloss_tables(ev, band, src_atoms, tgt_atoms, max_side),
        n=n,
        m=m,
    )


def _ehalf_table(ev: Evidence, band: Band, chunk: int = 64) -> PairTable | None:
    """(n, width, 4) like ``half_table`` but cosines: each source half against the
    target sentence, then the source sentence against each target half."""
    if ev.src_halves is None or ev.tgt_halves is None or not ev.n or not ev.m:
        return None
    sh, th = np.asarray(ev.src_halves, dtype=np.float32), np.asarray(ev.tgt_halves, dtype=np.float32)
    views = ((sh[:, 0], ev.tgt_vecs), (sh[:, 1], ev.tgt_vecs), (ev.src_vecs, th[:, 0]), (ev.src_vecs, th[:, 1]))

    def table(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        width = max(1, int(np.max(hi - lo)))
        out = np.zeros((len(lo), width, 4), dtype=np.float32)
        for r0 in range(0, len(lo), chunk):
            r1 = min(len(lo), r0 + chunk)
            c0, c1 = int(lo[r0:r1].min()), min(ev.m, int(lo[r0:r1].max()) + width)
            cols = lo[r0:r1, None] + np.arange(width)[None, :]
            k = np.minimum(cols, c1 - 1) - c0
            inside = cols < ev.m
            for v, (left, right) in enumerate(views):
                out[r0:r1, :, v] = np.take_along_axis(left[r0:r1] @ right[c0:c1].T, k, axis=1) * inside
        return out

    return PairTable.from_band(table, band, ev.n, ev.m, margin=FRAME)


def _half_table(ev: Evidence, band: Band) -> PairTable | None:
    fn = getattr(ev.pair_fn, "half_table", None)
    if fn is None or not ev.n or not ev.m:
        return None
    return PairTable.from_band(fn, band, ev.n, ev.m, margin=FRAME)


def _gloss_tables(ev: Evidence, band: Band, src_atoms, tgt_atoms, max_side: int) -> dict:
    """``ScoreContext`` fields of the gloss view: dot tables of the glossed side's
    single sentences against the other side's atoms, and the gloss runs' norms."""
    gloss_src = ev.src_gloss is not None
    gloss = ev.src_gloss if gloss_src else ev.tgt_gloss
    if gloss is None or not ev.n or not ev.m:
        return {}
    g_atoms = side_atoms(np.asarray(gloss, dtype=np.float32), None)
    pad = max_side + 2
    if gloss_src:
        dots = {(0, kt): BandMatrix.build(g_atoms[0], ta, band, pad=pad, margin=FRAME) for kt, ta in enumerate(tgt_atoms)}
    else:
        dots = {(ks, 0): BandMatrix.build(sa, g_atoms[0], band, pad=pad, margin=FRAME) for ks, sa in enumerate(src_atoms)}
    return {"gloss_dots": dots, "gloss_norms": span_norms(g_atoms, max_side), "gloss_src": gloss_src}


def single_terms(a: int) -> list[tuple[int, int, float]]:
    """A run of ``a`` sentences as a sum of single-sentence atoms (see ``span_terms``)."""
    return [(0, d, 1.0) for d in range(a)]


def bead_score_vector(w: dict[str, float], a: int, b: int) -> tuple[np.ndarray, float]:
    """(feature weights, bias) for one bead type: shared plus type-specific weights."""
    t = type_name(a, b)
    vec = np.array([w.get(f, 0.0) + (w.get(f"{t}:{f}", 0.0) if f in TYPED_FEATURES else 0.0) for f in FEATURES],
                   dtype=np.float32)
    return vec, w.get(t, 0.0)




def skip_features(a: int, b: int, ctx: ScoreContext, idx: int) -> dict[str, float]:
    row = ctx.src_skipf[idx] if a == 1 else ctx.tgt_skipf[idx]
    return {type_name(a, b): 1.0, **{k: float(v) for k, v in zip(SKIP_FEATURES, row)}}


def skip_weights(w: dict[str, float]) -> np.ndarray:
    return np.array([w.get(k, 0.0) for k in SKIP_FEATURES], dtype=np.float32)


def bead_feature_dict(ev: Evidence, ctx: ScoreContext, a: int, b: int, i: int, j: int) -> dict[str, float]:
    """All features of one bead as a sparse dict: what the perceptron updates."""
    if a == 0:
        return skip_features(0, 1, ctx, j - 1)
    if b == 0:
        return skip_features(1, 0, ctx, i - 1)
    return _feature_dict(a, b, bead_features(ev, a, b, np.array([i]), np.array([j]), ctx)[0])


def _feature_dict(a: int, b: int, f: np.ndarray) -> dict[str, float]:
    out = {name: float(val) for name, val in zip(FEATURES, f)}
    t = type_name(a, b)
    out[t] = 1.0
    for name, val in zip(FEATURES, f):
        if name in TYPED_FEATURES:
            out[f"{t}:{name}"] = float(val)
    return out


def path_features(ev: Evidence, ctx: ScoreContext, path: Sequence[tuple[int, int]]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, rows) for every bead on a path: rows hold FEATURES then SKIP_FEATURES,
    computed in bulk per bead type (a long document has tens of thousands of beads)."""
    p = np.asarray(path, dtype=np.int64).reshape(-1, 2)
    a, b = np.diff(p[:, 0]), np.diff(p[:, 1])
    i, j = p[1:, 0], p[1:, 1]
    rows = np.zeros((len(a), len(FEATURES) + len(SKIP_FEATURES)), dtype=np.float32)
    for ta, tb in set(zip(a.tolist(), b.tolist())):
        sel = np.flatnonzero((a == ta) & (b == tb))
        if ta and tb:
            rows[sel, :len(FEATURES)] = bead_features(ev, ta, tb, i[sel], j[sel], ctx)
        else:
            rows[sel, len(FEATURES):] = ctx.src_skipf[i[sel] - 1] if ta else ctx.tgt_skipf[j[sel] - 1]
    return a, b, rows


def path_feature_dicts(ev: Evidence, ctx: ScoreContext, path: Sequence[tuple[int, int]]) -> list[dict[str, float]]:
    """``bead_feature_dict`` of every bead on a path (what the trainer updates)."""
    a, b, rows = path_features(ev, ctx, path)
    out = []
    for ta, tb, row in zip(a.tolist(), b.tolist(), rows):
        if ta and tb:
            out.append(_feature_dict(ta, tb, row[:len(FEATURES)]))
        else:
            out.append({type_name(ta, tb): 1.0, **{k: float(v) for k, v in zip(SKIP_FEATURES, row[len(FEATURES):])}})
    return out


# --------------------------------------------------------------------- DP ---


@dataclass
class CellFeatures:
    """Features of every candidate bead in the band, per bead type.

    They do not depend on the weights, so training decodes each document
    many times from one computation. ``feats[t]`` is (n+1, width, F);
    ``valid[t]`` marks cells whose bead and predecessor exist.
    """

    feats: dict[tuple[int, int], np.ndarray]
    valid: dict[tuple[int, int], np.ndarray]


class _BandGrid:
    """Rows r0..r1-1 of the band as a dense grid: cell (i, k) is DP cell (i, lo[i] + k).

    A lookup at (i - r, j - c) is one gather for every cell once the table's
    rows are shifted by r and laid over the grid (``aligned``); the column
    offset c is then a slice. Shifted tables, and terms that depend on only
    one side's run length, are computed once per block and shared by every
    bead type, so all cells' features are whole-array arithmetic, done in the
    same order of operations as ``bead_features`` (the results are the same
    floats). Blocks of rows keep the working set small on long documents.
    """

    def __init__(self, ctx: ScoreContext, band: Band, r0: int, r1: int, pad: int) -> None:
        self.ctx = ctx
        self.band = band
        self.r0 = r0
        self.lo = band.lo[r0:r1]
        self.hi = band.hi[r0:r1]
        self.rows = r1 - r0
        # cells past a row's hi are never valid: the block only needs its own widest row
        self.width = int(np.max(self.hi - self.lo)) if r1 > r0 else 1
        self.pad = max(pad, 1)  # column offsets run from -1 to the longest run
        self.i = np.arange(r0, r1)[:, None]
        self.j = self.lo[:, None] + np.arange(self.width)[None, :]
        self._cache: dict = {}

    def _memo(self, key, make):
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = make()
        return got

    def _aligned(self, key, table, shift: int) -> np.ndarray:
        return self._memo(("aligned", key, shift), lambda: table.aligned(self.lo, shift, self.pad, self.width, self.r0))

    def cols(self, arr: np.ndarray, off: int) -> np.ndarray:
        """arr[j - off] at every cell (clipped: cells outside are masked later)."""
        return self._memo(("cols", id(arr), off), lambda: arr[_clamp(self.j - off, 0, len(arr) - 1)])

    def row(self, arr: np.ndarray, off: int) -> np.ndarray:
        """arr[i - off] at every row, as a column for broadcasting."""
        return self._memo(("row", id(arr), off), lambda: arr[_clamp(self.i - off, 0, len(arr) - 1)])

    def window(self, aligned: np.ndarray, off: int) -> np.ndarray:
        start = self.pad - off
        return aligned[:, start : start + self.width]

    def run_dot(self, s_terms, di: int, t_terms, dj: int, view: str = "dot") -> np.ndarray:
        """``_run_dot(ctx, s_terms, i + di, t_terms, j + dj)`` at every cell (``view`` "gloss": the gloss tables)."""
        dots = self.ctx.dots if view == "dot" else self.ctx.gloss_dots
        total = np.zeros((self.rows, self.width), dtype=np.float32)
        for ks, os_, cs in s_terms:
            for kt, ot, ct in t_terms:
                rows = self._aligned((view, ks, kt), dots[(ks, kt)], os_ - di)
                total += (cs * ct) * self.window(rows, ot - dj)
        return total

    def dot(self, a: int, di: int, b: int, dj: int) -> np.ndarray:
        """``run_dot`` of a source run of ``a`` and a target run of ``b`` sentences, computed once
        per block: bead types and features share many of them (read-only)."""
        return self._memo(("dot", a, di, b, dj), lambda: self.run_dot(span_terms(a), di, span_terms(b), dj))

    def pair_sum(self, a: int, b: int) -> np.ndarray:
        """``_block_pair_features`` at every cell.

        Its sum runs over source offsets first, so the sum for (a, b) is the
        one for (a-1, b) plus one more source row: reuse it, same floats.
        """
        def make():
            table = self.ctx.pair_table
            if a > 1:
                total = self.pair_sum(a - 1, b).copy()
            else:
                total = np.zeros((self.rows, self.width, table.values.shape[2]), dtype=np.float32)
            rows = self._aligned(("pair",), table, a)
            for db in range(b):
                total += self.window(rows, 1 + db)
            return total

        return self._memo(("pair_sum", a, b), make)

    def ok(self, a: int, b: int) -> np.ndarray:
        """Cells whose bead (a, b) and predecessor cell both lie in the band.

        In each row that is one run of columns: the predecessor (i-a, j-b)
        must fall inside row i-a's band and j inside row i's.
        """
        band_lo, band_hi = self.band.lo, self.band.hi
        i = self.i[:, 0]
        pi = _clamp(i - a, 0, len(band_lo) - 1)
        first = band_lo[pi] + b - self.lo
        stop = np.minimum(self.hi - self.lo, band_hi[pi] + b - self.lo)
        stop[i < a] = -1
        k = np.arange(self.width)[None, :]
        return (k >= first[:, None]) & (k < stop[:, None])

    def features(self, a: int, b: int) -> np.ndarray:
        """``bead_features`` of type (a, b) at every cell (garbage where invalid)."""
        ctx = self.ctx
        f = np.empty((self.rows, self.width, len(FEATURES)), dtype=np.float32)
        na = self.row(ctx.src_norms[a], 0)
        nb_ = self.cols(ctx.tgt_norms[b], 0)
        sa, sb, one = span_terms(a), span_terms(b), span_terms(1)
        cos = self.dot(a, 0, b, 0) / (na * nb_)
        f[..., 0] = cos
        # results go straight into their feature column (same floats as assigning them)
        src_hub = (self.row(ctx.src_hub_csum, 0) - self.row(ctx.src_hub_csum, a)) / a
        tgt_hub = self._memo(("hub", b), lambda: (self.cols(ctx.tgt_hub_csum, 0) - self.cols(ctx.tgt_hub_csum, b)) / b)
        np.subtract(cos, 0.5 * (src_hub + tgt_hub), out=f[..., 1])
        ls = self.row(ctx.src_len_csum, 0) - self.row(ctx.src_len_csum, a)
        lt = self._memo(("lt", b), lambda: self.cols(ctx.tgt_len_csum, 0) - self.cols(ctx.tgt_len_csum, b))
        lt1 = self._memo(("lt+1", b), lambda: lt + 1.0)
        x = lt1 / (ls + 1.0)
        np.log(x, out=x)
        x -= ctx.log_ratio
        x *= x
        np.minimum(x, 9.0, out=x)
        np.negative(x, out=f[..., 2])
        right_t = self._memo(("right_t", a), lambda: np.where(self.j < ctx.m, self.dot(a, 0, 1, 1) / na, 0.0))
        left_t = np.where(self.j - b >= 1, self.dot(a, 0, 1, -b) / na, 0.0)
        right_s = self._memo(("right_s", b), lambda: np.where(self.i < ctx.n, self.dot(1, 1, b, 0) / nb_, 0.0))
        left_s = np.where(self.i - a >= 1, self.dot(1, -a, b, 0) / nb_, 0.0)
        np.subtract(cos, (right_t + left_t + right_s + left_s) / 4, out=f[..., 6])
        lt_r = self._memo(("lt*r", b), lambda: lt * ctx.inv_ratio)
        ratio = np.minimum(ls, lt_r)
        ratio /= np.maximum(np.maximum(ls, lt_r), 1.0)
        ratio += 1.0
        np.log2(ratio, out=ratio)
        np.multiply(cos, ratio, out=f[..., 7])
        _gale_church(ls, lt_r, f[..., _GC])
        if ctx.pair_table is not None:
            f[..., 3:5] = self.pair_sum(a, b)
        else:
            f[..., 3:5] = 0.0
        if ctx.src_par is not None and ctx.tgt_par is not None:
            ps = self.row(ctx.src_par, 1) - self.row(ctx.src_par, a)
            pt = self.cols(ctx.tgt_par, 1) - self.cols(ctx.tgt_par, b)
            f[..., 5] = -((ps > 0) != (pt > 0)).astype(np.float32)
        else:
            f[..., 5] = 0.0
        gain = None
        if a > 1:
            first = self.dot(a - 1, 0, b, 0) / (self.row(ctx.src_norms[a - 1], 0) * nb_)
            last = self.dot(a - 1, -1, b, 0) / (self.row(ctx.src_norms[a - 1], 1) * nb_)
            gain = cos - np.maximum(first, last)
        if b > 1:
            first = self.dot(a, 0, b - 1, 0) / (na * self.cols(ctx.tgt_norms[b - 1], 0))
            last = self.dot(a, 0, b - 1, -1) / (na * self.cols(ctx.tgt_norms[b - 1], 1))
            tg = cos - np.maximum(first, last)
            gain = tg if gain is None else np.minimum(gain, tg)
        f[..., _GAIN] = 0.0 if gain is None else gain
        weak = f[..., _WEAK]
        weak[...] = cos
        if b > 1:
            for d in range(b):
                np.minimum(weak, self._memo(("part_t", a, d), lambda: self.dot(a, 0, 1, -d) / na), out=weak)
        if a > 1:
            for d in range(a):
                np.minimum(weak, self._memo(("part_s", b, d), lambda: self.dot(1, -d, b, 0) / nb_), out=weak)
        if ctx.src_marks is not None and ctx.tgt_marks is not None:
            ms = self.row(ctx.src_marks, 0) - self.row(ctx.src_marks, a)
            mt = self._memo(("marks", b), lambda: self.cols(ctx.tgt_marks, 0) - self.cols(ctx.tgt_marks, b))
            np.negative(np.minimum(np.abs(ms - mt), 2.0), out=f[..., _MARKS:_MARKS + len(MARKS)])
            np.negative(np.abs(self.row(ctx.src_inside, 0) - self.cols(ctx.tgt_inside, 0)), out=f[..., _QSTATE])
        else:
            f[..., _QSTATE:_MARKS + len(MARKS)] = 0.0
        if ctx.half_table is not None:
            first = self.window(self._aligned(("half",), ctx.half_table, a), b)
            last = self.window(self._aligned(("half",), ctx.half_table, 1), 1)
            f[..., _ORDER] = _order(first, last, a, b)
        else:
            f[..., _ORDER] = 0.0
        corners = None
        if ctx.ehalf_table is not None:
            def E(di: int, dj: int) -> np.ndarray:  # ehalf_table rows (i - di, j - dj)
                return self.window(self._aligned(("ehalf",), ctx.ehalf_table, di), dj)
            f[..., _EORDER] = _order(E(a, b), E(1, 1), a, b)
            f[..., _LEAK] = _leak(E(1, 0), E(1, 1), E(0, 1), E(a, b + 1), E(a, b), E(a + 1, b))
            corners = (E(1, b), E(1, 1), E(a, 1), E(a, b))
        else:
            f[..., _EORDER] = 0.0
            f[..., _LEAK] = 0.0
        if a > 1 and b > 1:
            up = self.dot(1, 0, 1, 1 - b) / (self.row(ctx.src_norms[1], 0) * self.cols(ctx.tgt_norms[1], b - 1))
            down = self.dot(1, 1 - a, 1, 0) / (self.row(ctx.src_norms[1], a - 1) * self.cols(ctx.tgt_norms[1], 0))
            up = up - self.dot(1, 0, 1, 0) / (self.row(ctx.src_norms[1], 0) * self.cols(ctx.tgt_norms[1], 0))
            down = down - self.dot(1, 1 - a, 1, 1 - b) / (self.row(ctx.src_norms[1], a - 1) * self.cols(ctx.tgt_norms[1], b - 1))
            lex = half = None
            if ctx.pair_table is not None:
                lex = (self.window(self._aligned(("pair",), ctx.pair_table, 1), b)[..., 0],
                       self.window(self._aligned(("pair",), ctx.pair_table, a), 1)[..., 0])
            if ctx.half_table is not None:
                half = (self.window(self._aligned(("half",), ctx.half_table, 1), b)[..., 0],
                        self.window(self._aligned(("half",), ctx.half_table, a), 1)[..., 2])
            _crossing(f, up, down, lex, half, corners)
        else:
            f[..., _CROSS:_CROSS + len(CROSS_FEATURES)] = 0.0
        if ctx.gloss_dots:
            if ctx.gloss_src:
                g = self.run_dot(single_terms(a), 0, span_terms(b), 0, "gloss")
                gn = self.row(ctx.gloss_norms[a], 0) * nb_
            else:
                g = self._memo(("gdot", a, b), lambda: self.run_dot(span_terms(a), 0, single_terms(b), 0, "gloss"))
                gn = na * self.cols(ctx.gloss_norms[b], 0)
            np.divide(g, gn, out=f[..., _GLOSS])
        else:
            f[..., _GLOSS] = 0.0
        return _add_hinges(f)


def _block_features(band: Band, ctx: ScoreContext, types: Sequence[tuple[int, int]], block: int = 256):
    """(first row, type, features, validity) for blocks of rows, every type per block.

    Features are (rows, block width, F), or (rows, block width, 1) for 1-0
    beads (the best similarity the skipped sentence had); invalid cells hold
    garbage, and cells past the block width are all invalid.
    """
    for r0 in range(0, len(band.lo), block):
        yield from _one_block(band, ctx, types, r0, block)


def _one_block(band: Band, ctx: ScoreContext, types: Sequence[tuple[int, int]], r0: int, block: int):
    pad = max((max(t) for t in types), default=1) + 1  # ``_leak`` looks one sentence past a bead
    grid = _BandGrid(ctx, band, r0, min(len(band.lo), r0 + block), pad)
    for a, b in types:
        if a == 0:
            continue
        ok = grid.ok(a, b)
        if b == 0:
            f = np.broadcast_to(grid.row(ctx.src_skipf, 1), ok.shape + (len(SKIP_FEATURES),))
        else:
            f = grid.features(a, b)
        yield r0, (a, b), f, ok


def cell_features(ev: Evidence, band: Band, ctx: ScoreContext, types: Sequence[tuple[int, int]]) -> CellFeatures:
    feats: dict[tuple[int, int], np.ndarray] = {}
    valid: dict[tuple[int, int], np.ndarray] = {}
    rows, width = ev.n + 1, band.width
    for r0, t, f, ok in _block_features(band, ctx, types):
        if t not in feats:
            feats[t] = np.zeros((rows, width, f.shape[2]), dtype=np.float32)
            valid[t] = np.zeros((rows, width), dtype=bool)
        r1, w = r0 + ok.shape[0], ok.shape[1]
        feats[t][r0:r1, :w] = np.where(ok[..., None], f, np.float32(0.0))
        valid[t][r0:r1, :w] = ok
    return CellFeatures(feats, valid)


def _type_score(a: int, b: int, f: np.ndarray, ok: np.ndarray, w: dict[str, float]) -> np.ndarray:
    if b == 0:
        sc = f @ skip_weights(w) + w.get(type_name(1, 0), 0.0)
    else:
        wf, bias = bead_score_vector(w, a, b)
        sc = f @ wf + bias
    return np.where(ok, sc, NEG)


def cell_scores(cf: CellFeatures, w: dict[str, float]) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Bead types and the (n+1, types, width) score of every candidate bead."""
    types = list(cf.feats)
    first = next(iter(cf.feats.values()))
    out = np.empty((first.shape[0], len(types), first.shape[1]), dtype=np.float32)
    for t, (a, b) in enumerate(types):
        out[:, t, :] = _type_score(a, b, cf.feats[(a, b)], cf.valid[(a, b)], w)
    return types, out


def score_band(ev: Evidence, band: Band, ctx: ScoreContext, w: dict[str, float],
               types: Sequence[tuple[int, int]]) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Like ``cell_scores(cell_features(...))`` but keeps one block of rows' features at a
    time, so memory stays at the score table's size on book-length documents."""
    kept = [t for t in types if t[0] > 0]
    out = np.full((ev.n + 1, len(kept), band.width), NEG, dtype=np.float32)
    slot = {t: k for k, t in enumerate(kept)}
    block = 256

    def fill(r0: int) -> None:
        for r0, (a, b), f, ok in _one_block(band, ctx, kept, r0, block):
            out[r0 : r0 + ok.shape[0], slot[(a, b)], : ok.shape[1]] = _type_score(a, b, f, ok, w)

    starts = range(0, ev.n + 1, block)
    if len(starts) < 4:
        for r0 in starts:
            fill(r0)
        return kept, out
    # Blocks are independent whole-array numpy work, which releases the GIL:
    # two threads use both cores. One BLAS thread each, switched once per call:
    # two BLAS threads on products this small spin when the machine is busy.
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(2) as pool:
        list(pool.map(fill, starts))
    return kept, out


def decode(band: Band, scores: tuple[list[tuple[int, int]], np.ndarray], ctx: ScoreContext, w: dict[str, float],
           n: int, m: int, with_gaps: bool = True, gap_extra: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Best monotone path through the band; returns its (i, j) points.

    One row at a time, all bead types at once: a single gather fetches every
    predecessor score; runs of 0-1 beads within the row are resolved with a
    running maximum, so the Python loop only runs over rows (``gap_extra[j]``,
    if given, is added to the score of leaving target j unaligned). Only the best
    scores are kept per cell; the trace-back recomputes, for the cells on
    the path alone, which bead type won.
    """
    types, S = scores
    lo, hi = band.lo, band.hi
    width = band.width
    a_arr = np.array([a for a, _ in types])
    b_arr = np.array([b for _, b in types])
    D = np.full((n + 1) * width, NEG, dtype=np.float64)
    gap = np.zeros((n + 1, width), dtype=bool)
    w01 = w.get(type_name(0, 1), 0.0)
    w_run = w.get("run01", 0.0)  # unaligned target sentences come in runs (a caption block, a passage left out)
    # what leaving each target sentence unaligned costs, bias aside
    tgt_cost = ctx.tgt_skipf @ skip_weights(w) if ctx.tgt_skipf is not None and len(ctx.tgt_skipf) else np.zeros(max(m, 1), dtype=np.float32)
    block = 256
    for r0 in range(0, n + 1, block):
        # everything that does not depend on D, for a block of rows at once; columns
        # past the block's widest row are outside every row, so they stay NEG
        rows = np.arange(r0, min(n + 1, r0 + block))
        wb = int(np.max(hi[rows] - lo[rows]))
        ar = np.arange(wb)
        prev = np.maximum(rows[:, None] - a_arr[None, :], 0)  # (rows, types)
        k = (lo[rows][:, None] - lo[prev] - b_arr[None, :])[:, :, None] + ar[None, None, :]
        np.clip(k, 0, width - 1, out=k)
        gather = prev[:, :, None] * width + k
        cols = lo[rows][:, None] + ar[None, :]
        outside = cols >= hi[rows][:, None]
        if with_gaps:
            # D[j] = max(best[j], D[j-1] + skip(j-1)): prefix max in closed form
            prev_col = np.clip(cols - 1, 0, len(tgt_cost) - 1)
            skips = w01 + tgt_cost[prev_col].astype(np.float64)
            if gap_extra is not None:
                skips = skips + gap_extra[prev_col]
            skips = np.where((cols >= 1) & ~outside, skips + w_run, NEG)
            csum = np.zeros(skips.shape, dtype=np.float64)
            np.cumsum(skips[:, 1:], axis=1, out=csum[:, 1:])
        for r, i in enumerate(rows):
            cand = D[gather[r]]
            cand += S[i, :, :wb]
            best = cand.max(axis=0)
            if i == 0:
                best[0] = 0.0
            if with_gaps:
                # a run of 0-1 beads from column k < j: every skip but the first earns ``run01``
                c = csum[r]
                total = np.full(wb, NEG, dtype=np.float64)
                total[1:] = np.maximum.accumulate(best - c)[:-1] + c[1:] - w_run
                use_gap = total > best + 1e-9
                np.copyto(best, total, where=use_gap)
                gap[i, :wb] = use_gap
            np.copyto(best, NEG, where=outside[r])
            D[i * width : i * width + wb] = best
    return _trace_back(band, types, S, D, gap, n, m)


def _trace_back(band: Band, types: list[tuple[int, int]], S: np.ndarray, D: np.ndarray, gap: np.ndarray,
                n: int, m: int) -> list[tuple[int, int]]:
    """The path ending at (n, m), each bead type re-derived from the DP table."""
    width = band.width
    lo = band.lo
    a_arr = np.array([a for a, _ in types])
    b_arr = np.array([b for _, b in types])
    path = [(n, m)]
    i, j = n, m
    while i > 0 or j > 0:
        k = j - int(lo[i])
        if D[i * width + k] <= NEG / 2:
            raise RuntimeError("alignment search found no path; band too narrow")
        if gap[i, k]:
            a, b = 0, 1
        else:  # the same float64 sums as the forward pass, so the same (first) winner
            prev = np.maximum(i - a_arr, 0)
            kk = np.minimum(np.maximum(lo[i] - lo[prev] - b_arr + k, 0), width - 1)
            a, b = types[int((D[prev * width + kk] + S[i, :, k]).argmax())]
        i, j = i - a, j - b
        path.append((i, j))
    return path[::-1]


def decode_evidence(ev: Evidence, band: Band, ctx: ScoreContext, w: dict[str, float], types: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    return decode(band, score_band(ev, band, ctx, w, types), ctx, w, ev.n, ev.m, with_gaps=(0, 1) in types)


def coarse_band(ev: Evidence, cfg: AlignConfig) -> Band:
    """Band for the sentence-level DP from a recursive block-level alignment."""
    n, m = ev.n, ev.m
    if (n + 1) * (m + 1) <= cfg.coarse_limit * cfg.coarse_limit:
        return full_band(n, m)
    factor = 8
    ks = max(1, factor)
    kt = max(1, int(round(factor * m / max(n, 1)))) if n >= m else factor
    if n < m:
        ks = max(1, int(round(factor * n / max(m, 1))))
    cs = _block_mean(ev.src_vecs, ks)
    ct = _block_mean(ev.tgt_vecs, kt)
    coarse = Evidence(
        src_vecs=cs,
        tgt_vecs=ct,
        src_lens=_block_sum(ev.src_lens, ks),
        tgt_lens=_block_sum(ev.tgt_lens, kt),
    )
    coarse_cfg = AlignConfig(max_side=2, max_total=3, band=cfg.band, coarse_limit=cfg.coarse_limit)
    band = coarse_band(coarse, coarse_cfg)
    ctx = score_context(coarse, band, cfg.neighbours, coarse_cfg.max_side)
    w = {"cos": 1.0, "margin": 1.0, "len": 0.05, "t01": -0.2, "t10": -0.2, "t12": -0.1, "t21": -0.1}
    path = decode_evidence(coarse, band, ctx, w, coarse_cfg.bead_types())
    fine = [(min(n, i * ks), min(m, j * kt)) for i, j in path]
    fine[-1] = (n, m)
    return band_from_path(fine, n, m, radius=cfg.band + max(ks, kt))


def _block_mean(vecs: np.ndarray, k: int) -> np.ndarray:
    n = len(vecs)
    nb = (n + k - 1) // k
    pad = np.zeros((nb * k, vecs.shape[1]), dtype=np.float32)
    pad[:n] = vecs
    s = pad.reshape(nb, k, -1).sum(axis=1)
    norms = np.linalg.norm(s, axis=1, keepdims=True)
    return (s / np.where(norms == 0, 1, norms)).astype(np.float32)


def _block_sum(x: np.ndarray, k: int) -> np.ndarray:
    n = len(x)
    nb = (n + k - 1) // k
    pad = np.zeros(nb * k, dtype=np.float64)
    pad[:n] = x
    return pad.reshape(nb, k).sum(axis=1)




def search(ev: Evidence, cfg: AlignConfig | None = None, weights: dict[str, float] | None = None) -> tuple[list[tuple[int, int]], ScoreContext]:
    """The best path for one document pair, with the context used to score it."""
    from threadpoolctl import threadpool_limits

    cfg = cfg or AlignConfig()
    w = weights or cfg.weights or default_weights()
    # many small matrix products: BLAS threads only add synchronisation cost
    with threadpool_limits(limits=1, user_api="blas"):
        band = coarse_band(ev, cfg)
        like = None
        if cfg.refine and band.width <= ev.m:
            # A long document's band (narrower than the document: from the block-level
            # pass) is still some 40 sentences wide. A first path of single sentences on
            # their embeddings alone is cheap there; every bead type and all the evidence
            # are then scored only near it, with neighbour statistics from the wide band.
            bare = replace(ev, pair_fn=None, src_gloss=None, tgt_gloss=None, src_halves=None, tgt_halves=None)
            like = score_context(bare, band, cfg.neighbours, 1)
            rough = decode_evidence(bare, band, like, w, [(0, 1), (1, 0), (1, 1)])
            near = band_from_path(rough, ev.n, ev.m, cfg.refine)
            band = Band(np.maximum(near.lo, band.lo), np.minimum(near.hi, band.hi))
        ctx = score_context(ev, band, cfg.neighbours, cfg.longest, like)
        path = decode_evidence(ev, band, ctx, w, cfg.bead_types())
    return path, ctx


def align_evidence(ev: Evidence, src_lang: str, tgt_lang: str, cfg: AlignConfig | None = None) -> Alignment:
    """Align and attach a confidence in [0, 1] to every bead (``cfg``: the language
    pair's ``family_config`` when None)."""
    cfg = cfg or family_config(src_lang, tgt_lang)
    path, ctx = search(ev, cfg, cfg.weights or default_weights(src_lang, tgt_lang))
    a, b, rows = path_features(ev, ctx, path)
    probs = bead_confidence(a, b, dict(zip(FEATURES + list(SKIP_FEATURES), rows.T)), src_lang, tgt_lang)
    beads = []
    for (i0, j0), (i1, j1), p in zip(path, path[1:], probs.tolist()):
        flags: tuple[str, ...] = ()
        if j1 == j0:
            flags = ("unaligned-src",)
        elif i1 == i0:
            flags = ("unaligned-tgt",)
        beads.append(Bead(src=tuple(range(i0, i1)), tgt=tuple(range(j0, j1)), score=round(p, 4), flags=flags))
    return Alignment(beads=tuple(beads), src_lang=src_lang, tgt_lang=tgt_lang)


def pairs_worth_embedding(alignment: Alignment, n: int, m: int, threshold: float = 0.85) -> tuple[list[int], list[int]]:
    """Run ends (see ``Evidence.src_pairs``) whose real pair embedding may change the path.

    A first pass with summed pair vectors finds the path; real embeddings of
    two joined sentences are then worth their cost only inside multi-sentence
    beads and across the boundaries of beads the first pass is unsure of.
    """

    def ends(sides: list[tuple[int, ...]], scores: list[float], size: int) -> list[int]:
        out: set[int] = set()
        for k, side in enumerate(sides):
            for s in side[:-1]:  # neighbours inside one bead
                out.add(s + 2)
            if k + 1 < len(sides) and side and min(scores[k], scores[k + 1]) < threshold:
                last = side[-1]
                out.update({last + 1, last + 2, last + 3})  # pairs straddling the weak boundary
        return sorted(e for e in out if 2 <= e <= size)

    beads = alignment.beads
    scores = [b.score for b in beads]
    return ends([b.src for b in beads], scores, n), ends([b.tgt for b in beads], scores, m)


def default_confidence(feats: dict[str, float], a: int, b: int, src_lang: str = "zh", tgt_lang: str = "en") -> float:
    """Probability that one bead is right (``bead_confidence`` for a single feature dict)."""
    cols = {k: np.array([v], dtype=np.float64) for k, v in feats.items()}
    return float(bead_confidence(np.array([a]), np.array([b]), cols, src_lang, tgt_lang)[0])


def bead_confidence(a: np.ndarray, b: np.ndarray, cols: dict[str, np.ndarray], src_lang: str = "zh",
                    tgt_lang: str = "en") -> np.ndarray:
    """Probability that each bead is right, from the logistic model fitted on gold;
    ``cols`` maps feature names to one value per bead (missing names count as 0)."""
    from .train import CONF_FEATURES, confidence_matrix

    fam, reverse = _family_entry(src_lang, tgt_lang)
    coefs = fam.get("confidence")
    names = _trained().get("confidence_features", CONF_FEATURES)
    if coefs and len(coefs) == len(names) + 1:
        x = confidence_matrix(cols, b, a, names) if reverse else confidence_matrix(cols, a, b, names)
        z = coefs[0] + x @ np.asarray(coefs[1:], dtype=np.float64)
    else:  # no model fitted for this layout: a prior on the cosine and its margin
        zero = np.zeros(len(a))
        z = 6.0 * cols.get("margin", zero) + 4.0 * (cols.get("cos", zero) - 0.3)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -700.0, 700.0)))
