"""Learning the aligner's weights from gold alignments.

An averaged structured perceptron: decode each training document with the
current weights and move them towards the gold path's features. It learns the
balance between evidence types and the prior of every bead type directly for
the objective we care about (the whole path), with no hand tuning.
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


def gold_path(gold: Sequence[BeadPair]) -> list[tuple[int, int]]:
    """DP points of a gold alignment (ends of every bead)."""
    i = j = 0
    pts = [(0, 0)]
    for s, t in gold:
        i += len(s)
        j += len(t)
        pts.append((i, j))
    return pts


def path_features(ev: A.Evidence, ctx: A.ScoreContext, path: Sequence[tuple[int, int]], max_side: int) -> dict[str, float]:
    total: dict[str, float] = {}
    for (i0, j0), (i1, j1) in zip(path, path[1:]):
        a, b = i1 - i0, j1 - j0
        if a > max_side or b > max_side:
            continue
        for k, v in A.bead_feature_dict(ev, ctx, a, b, i1, j1).items():
            total[k] = total.get(k, 0.0) + v
    return total


def prepare(docs: Sequence[TrainingDoc], cfg: A.AlignConfig) -> list[tuple[TrainingDoc, A.Band, A.ScoreContext, dict[str, float]]]:
    """Per-document band, context and gold features: fixed across epochs."""
    out = []
    for d in docs:
        ev = d.evidence
        band = A.coarse_band(ev, cfg)
        ctx = A.score_context(ev, band, cfg.neighbours, cfg.max_side)
        cf = A.cell_features(ev, band, ctx, cfg.bead_types())
        out.append((d, band, ctx, cf, path_features(ev, ctx, gold_path(d.gold), cfg.max_side)))
    return out


def train_perceptron(docs: Sequence[TrainingDoc] | None, cfg: A.AlignConfig | None = None, epochs: int = 8, seed: int = 0,
                     init: dict[str, float] | None = None, log=None,
                     frozen: set[str] = frozenset(), prepared=None) -> dict[str, float]:
    """Averaged perceptron; pass ``prepared`` (from ``prepare``) to reuse features."""
    cfg = cfg or A.AlignConfig()
    prepared = prepared if prepared is not None else prepare(docs, cfg)
    with_gaps = (0, 1) in cfg.bead_types()
    w = dict(init or A._prior_weights())
    total = {k: 0.0 for k in w}
    steps = 0
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        errors = 0
        for idx in rng.permutation(len(prepared)):
            d, band, ctx, cf, gold_f = prepared[idx]
            path = A.decode(band, A.cell_scores(cf, w), ctx, w, d.evidence.n, d.evidence.m, with_gaps)
            pred_f = path_features(d.evidence, ctx, path, cfg.max_side)
            gold_set = set(d.gold)
            errors += sum(1 for bead in _beads(path) if bead not in gold_set)
            for k in set(gold_f) | set(pred_f):
                if k in frozen:
                    continue
                delta = gold_f.get(k, 0.0) - pred_f.get(k, 0.0)
                if delta:
                    w[k] = w.get(k, 0.0) + delta
            steps += 1
            for k, v in w.items():
                total[k] = total.get(k, 0.0) + v
        if log:
            log(f"epoch {epoch + 1}: {errors} wrong beads")
    return {k: v / steps for k, v in total.items()}


def _beads(path):
    return [(tuple(range(i0, i1)), tuple(range(j0, j1))) for (i0, j0), (i1, j1) in zip(path, path[1:])]


# ------------------------------------------------------------- confidence ---

CONF_FEATURES = ["cos", "margin", "local", "len", "lex", "num", "cos_lp", "one_one", "many", "skip", "skip_best"]


def confidence_vector(feats: dict[str, float], a: int, b: int) -> np.ndarray:
    """The inputs of the confidence model for one bead."""
    row = [feats.get(k, 0.0) for k in CONF_FEATURES[:7]]
    row += [float(a == 1 and b == 1), float(a + b > 2 and a > 0 and b > 0), float(a == 0 or b == 0), feats.get("skip_best", 0.0)]
    return np.array(row, dtype=np.float64)


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
