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
        if not ev.src_span_vecs:
            ev.src_span_vecs = A.span_vectors(ev.src_vecs, cfg.max_side)
        if not ev.tgt_span_vecs:
            ev.tgt_span_vecs = A.span_vectors(ev.tgt_vecs, cfg.max_side)
        band = A.coarse_band(ev, cfg)
        ctx = A.score_context(ev, band, cfg.neighbours)
        out.append((d, band, ctx, path_features(ev, ctx, gold_path(d.gold), cfg.max_side)))
    return out


def train_perceptron(docs: Sequence[TrainingDoc], cfg: A.AlignConfig | None = None, epochs: int = 8, seed: int = 0,
                     init: dict[str, float] | None = None, log=None) -> dict[str, float]:
    cfg = cfg or A.AlignConfig()
    prepared = prepare(docs, cfg)
    types = cfg.bead_types()
    w = dict(init or A._prior_weights())
    total = {k: 0.0 for k in w}
    steps = 0
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        errors = 0
        for idx in rng.permutation(len(prepared)):
            d, band, ctx, gold_f = prepared[idx]
            path = A.decode(d.evidence, band, ctx, w, types)
            pred_f = path_features(d.evidence, ctx, path, cfg.max_side)
            gold_set = set(d.gold)
            errors += sum(1 for bead in _beads(path) if bead not in gold_set)
            for k in set(gold_f) | set(pred_f):
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
