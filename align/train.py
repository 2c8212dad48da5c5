"""Learning the aligner's weights from gold alignments.

A structured SVM: every training document is decoded with the current weights
plus a bonus for each bead the gold standard lacks (loss-augmented search, so
the learner also meets the near misses it must beat by a margin), and the
weights move towards the gold path's features and away from that path's
(subgradient steps scaled per feature by AdaGrad, averaged, with an L2 pull).
Its loss counts wrong predicted beads and missed gold beads alike, the two
halves of strict F1. The target is the monotone path with the most gold beads:
real gold files have crossing beads and sentences left out, which a path
cannot follow. Everything the learner needs about a document (band, context,
every candidate bead's features) is computed once; a step is one decode.
A logistic model fitted afterwards on the decoded beads turns bead features
into a calibrated confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import aligner as A
from .evaluate import BeadPair


@dataclass
class TrainingDoc:
    name: str
    evidence: A.Evidence
    gold: list[BeadPair]


@dataclass
class Prepared:
    """A training document with what the search needs, computed once."""

    doc: TrainingDoc
    band: A.Band
    ctx: A.ScoreContext
    cells: A.CellFeatures


def prepare(docs: Sequence[TrainingDoc], cfg: A.AlignConfig) -> list[Prepared]:
    """Per-document band, context and candidate features: fixed across epochs."""
    out = []
    for d in docs:
        band = A.coarse_band(d.evidence, cfg)
        ctx = A.score_context(d.evidence, band, cfg.neighbours, cfg.longest)
        out.append(Prepared(d, band, ctx, A.cell_features(d.evidence, band, ctx, cfg.bead_types())))
    return out


def decode(p: Prepared, w: dict[str, float], extra: tuple[np.ndarray, np.ndarray] | None = None) -> list[tuple[int, int]]:
    """The best path for a prepared document (``extra``: score bonuses per cell and per skipped target)."""
    types, scores = A.cell_scores(p.cells, w)
    if extra is not None:
        scores = scores + extra[0]
    n, m = p.doc.evidence.n, p.doc.evidence.m
    return A.decode(p.band, (types, scores), p.ctx, w, n, m, True, None if extra is None else extra[1])


def train_ssvm(prepared: Sequence[Prepared], cfg: A.AlignConfig | None = None, epochs: int = 20, seed: int = 0,
               lam: float = 1e-3, eta: float = 0.1, cost: float = 1.0, exclude: Sequence[str] = ()) -> dict[str, float]:
    """Averaged AdaGrad subgradient descent on the structured hinge loss.

    ``cost`` is the score bonus of a wrong bead in loss-augmented search (gold
    beads get the same as a malus), ``lam`` the L2 weight, ``eta`` the step;
    weights named in ``exclude`` stay 0 (evidence that misleads on a language pair).
    """
    cfg = cfg or A.AlignConfig()
    lay = Layout.for_config(cfg)
    targets, bonuses = [], []
    for p in prepared:
        n, m = p.doc.evidence.n, p.doc.evidence.m
        targets.append(path_vector(lay, oracle_path(p.doc.gold, p.band, p.ctx, p.cells.valid, n, m), p.band, p.ctx, p.cells))
        cells, gaps = gold_cells(p.doc.gold, p.band, list(p.cells.feats), n, m)
        bonuses.append((cost * (0.5 - cells), cost * (0.5 - gaps)))
    w = lay.vector(A._prior_weights()) * 0.05
    keep = np.array([k not in exclude for k in lay.names], dtype=np.float64)
    w *= keep
    sq = np.full_like(w, 1e-8)
    total = np.zeros_like(w)
    per_doc = float(np.mean([len(p.doc.gold) for p in prepared])) if prepared else 1.0
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for k in rng.permutation(len(prepared)):
            p = prepared[k]
            path = decode(p, lay.weights(w), bonuses[k])
            g = (path_vector(lay, path, p.band, p.ctx, p.cells) - targets[k]) / per_doc + lam * w
            sq += g * g
            w -= eta * g / np.sqrt(sq) * keep
            total += w
    return lay.weights(total / max(1, epochs * len(prepared)))


def _beads(path):
    return [(tuple(range(i0, i1)), tuple(range(j0, j1))) for (i0, j0), (i1, j1) in zip(path, path[1:])]


# ------------------------------------------------------------- targets ---


@dataclass
class Layout:
    """Every weight name in a fixed order, so a path's features are one vector."""

    names: list[str]
    index: dict[str, int]
    types: list[tuple[int, int]]

    @classmethod
    def for_config(cls, cfg: A.AlignConfig) -> "Layout":
        types = cfg.bead_types()
        names = list(A.FEATURES)
        for a, b in types:
            if a and b:
                names += [f"{A.type_name(a, b)}:{f}" for f in A.FEATURES if f in A.TYPED_FEATURES]
        names += [A.type_name(a, b) for a, b in types] + list(A.SKIP_FEATURES) + ["run01"]
        return cls(names, {k: n for n, k in enumerate(names)}, types)

    def vector(self, w: dict[str, float]) -> np.ndarray:
        return np.array([w.get(k, 0.0) for k in self.names], dtype=np.float64)

    def weights(self, v: np.ndarray) -> dict[str, float]:
        return {k: float(x) for k, x in zip(self.names, v)}


def path_vector(lay: Layout, path: Sequence[tuple[int, int]], band: A.Band, ctx: A.ScoreContext, cf: A.CellFeatures) -> np.ndarray:
    """Summed features of a path's beads, read from the band's feature table (no recomputation)."""
    out = np.zeros(len(lay.names))
    pts = np.asarray(path, dtype=np.int64)
    ab = pts[1:] - pts[:-1]
    ends = pts[1:]
    nf = len(A.FEATURES)
    gap = (ab[:, 0] == 0) & (ab[:, 1] == 1)
    out[lay.index["run01"]] = float(np.sum(gap[1:] & gap[:-1]))
    for a, b in lay.types:
        sel = (ab[:, 0] == a) & (ab[:, 1] == b)
        if not sel.any():
            continue
        i, j = ends[sel, 0], ends[sel, 1]
        if a == 0:
            rows = ctx.tgt_skipf[j - 1]
        else:
            rows = cf.feats[(a, b)][i, j - band.lo[i]]
        total = rows.sum(axis=0, dtype=np.float64)
        out[lay.index[A.type_name(a, b)]] += sel.sum()
        if a == 0 or b == 0:
            for q, k in enumerate(A.SKIP_FEATURES):
                out[lay.index[k]] += total[q]
            continue
        out[:nf] += total
        for f in A.TYPED_FEATURES:
            out[lay.index[f"{A.type_name(a, b)}:{f}"]] += total[A.FEATURES.index(f)]
    return out


def gold_cells(gold: Sequence[BeadPair], band: A.Band, types: Sequence[tuple[int, int]], n: int, m: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Where the gold beads are in the search's tables: (n+1, types, width) and, for
    unaligned target sentences, (m,). Indices come from the beads themselves, so a
    gold file with crossing or missing sentences marks only the beads a monotone
    path can reproduce."""
    slot = {t: k for k, t in enumerate(types)}
    cells = np.zeros((n + 1, len(types), band.width), dtype=np.float32)
    gaps = np.zeros(m, dtype=np.float32)
    for s, t in gold:
        if any(list(side) != list(range(side[0], side[0] + len(side))) for side in (s, t) if side):
            continue  # not a run of consecutive sentences
        if not s:
            gaps[t[0]] = 1.0
            continue
        k = slot.get((len(s), len(t)))
        if k is None:
            continue
        i = s[-1] + 1
        if not t:
            cells[i, k, :] = 1.0  # a skipped source sentence: the same bead in any column
            continue
        c = t[-1] + 1 - band.lo[i]
        if 0 <= c < band.width:
            cells[i, k, c] = 1.0
    return cells, gaps


def oracle_path(gold: Sequence[BeadPair], band: A.Band, ctx: A.ScoreContext, valid: dict, n: int, m: int
                ) -> list[tuple[int, int]]:
    """The monotone path with the most gold beads (fewest others among ties): the
    training target, since real gold files cross or leave sentences out."""
    types = list(valid)
    cells, gaps = gold_cells(gold, band, types, n, m)
    S = np.where(np.stack([valid[t] for t in types], axis=1), cells * 1.01 - 0.01, A.NEG).astype(np.float32)
    w = {A.type_name(0, 1): -0.01}
    ctx0 = A.ScoreContext(**{**ctx.__dict__, "tgt_best": np.zeros(m, dtype=np.float32), "tgt_skipf": None})
    return A.decode(band, (types, S), ctx0, w, n, m, True, gaps * 1.01)


# ------------------------------------------------------------- confidence ---

CONF_FEATURES = ["cos", "margin", "local", "len", "lex", "num", "cos_lp", "gain", "weakest",
                 "one_one", "many", "skip", "skip_best"]


def confidence_matrix(cols: dict[str, np.ndarray], a: np.ndarray, b: np.ndarray,
                      names: Sequence[str] = CONF_FEATURES) -> np.ndarray:
    """The inputs of the confidence model, one row per bead (``cols``: feature name ->
    values; ``names``: the inputs a stored model was fitted on)."""
    a, b = np.asarray(a), np.asarray(b)
    made = {"one_one": (a == 1) & (b == 1), "many": (a + b > 2) & (a > 0) & (b > 0), "skip": (a == 0) | (b == 0)}
    zero = np.zeros(len(a))
    return np.stack([made[k] if k in made else cols.get(k, zero) for k in names], axis=1).astype(np.float64)


def confidence_row(feats: dict[str, float], a: int, b: int, names: Sequence[str] = CONF_FEATURES) -> list[float]:
    """``confidence_matrix`` for one bead given as a feature dict."""
    return confidence_matrix({k: np.array([v]) for k, v in feats.items()}, np.array([a]), np.array([b]), names)[0].tolist()


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; returns [bias, coefs...]."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    reg = l2 * np.eye(xb.shape[1])
    reg[0, 0] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def calibration_table(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[tuple[float, float, int, float]]:
    """(bin low, bin high, beads, share correct) for predicted confidence bins."""
    rows = []
    edges = np.linspace(0, 1, bins + 1)
    for lo, hi in zip(edges, edges[1:]):
        sel = (p >= lo) & ((p < hi) | (hi == 1.0))
        if sel.any():
            rows.append((float(lo), float(hi), int(sel.sum()), float(y[sel].mean())))
    return rows
