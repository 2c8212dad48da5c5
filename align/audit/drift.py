"""Sentence-level drift: a bead whose English as a whole strays from its Chinese.

Four signals per aligned bead, each read against faithful human translations:

* **zh coverage**: share of the Chinese content words with a dictionary
  rendering in the English, where their clause is rendered (local links);
* **en coverage**: share of the English content words explained by the Chinese;
* **similarity**: embedding similarity of the two sides (with an encoder);
* **length ratio**: English to Chinese content words.

How literal a translation is differs from document to document (a machine
translation is far more literal than a novel), so each signal is first made
relative to its own document: a robust z-score (median / MAD; coverage
deviations weighted by the square root of the number of words, since a
short sentence varies more). That z-score is then turned into a percentile
against the z-scores of MAC-Dev gold beads (human translations) of similar
length, stored in ``calibration.json`` by ``bench/audit_calibration.py``.
The percentiles are combined (Fisher's method, the two coverages counted
once since they share their links): a bead is flagged when the combination
is rarer than in 99% of the faithful beads *and* both kinds of evidence
agree: its dictionary coverage and (with an encoder) its similarity are each
in the faithful beads' lowest decile. Dictionaries miss synonyms and
embeddings blur long lists; a bead only one of them doubts is not flagged.
Severity is major when the combination is rarer than in 99.8% of them.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from align.audit.base import AuditContext, BeadView, Check, is_numeric
from align.audit.calibration import calibrated, reference
from align.model import Finding, Span

FEATURES = ("zh_cov", "en_cov", "sim", "len")
LENGTH_BINS = (5, 10, 20)          # Chinese content words: 1-5, 6-10, 11-20, 21+
MIN_BEADS = 20                     # a document needs this many beads to know what is normal for it
SIM_GATE = 0.10                    # the embedding must put the bead in the faithful beads' lowest decile
LEX_GATE = 0.10                    # and so must the dictionary coverage (either side)
MAX_LISTED = 6                     # words named in a message


@dataclass
class DriftRow:
    """One bead's signals, their within-document z-scores and percentiles."""

    bead: int
    n_zh: int
    n_en: int
    values: dict[str, float]
    missing_zh: list[int]
    unexplained_en: list[int]
    z: dict[str, float] = field(default_factory=dict)
    p: dict[str, float] = field(default_factory=dict)
    stat: float = 0.0


def length_bin(n: int) -> int:
    return bisect.bisect_left(LENGTH_BINS, n)


class DriftCheck(Check):
    name = "drift"
    kinds = ("mistranslation",)

    def __init__(self, flag: float | None = None, major: float | None = None,
                 sim_gate: float | None = None) -> None:
        self.flag = flag
        self.major = major
        self.sim_gate = calibrated("drift.sim_gate", SIM_GATE) if sim_gate is None else sim_gate

    def run(self, ctx: AuditContext) -> list[Finding]:
        ref = reference("drift")
        if not ref:
            return []  # not calibrated: nothing to compare with
        rows = drift_rows(ctx)
        if len(rows) < MIN_BEADS:
            return []
        score_rows(rows, ref, with_sim=ctx.encoder is not None)
        mode = "" if ctx.encoder is not None else "_lexical"
        flag = calibrated(f"drift.flag{mode}", math.inf) if self.flag is None else self.flag
        major = calibrated(f"drift.major{mode}", math.inf) if self.major is None else self.major
        out = []
        for r in rows:
            if r.stat < flag or not gated(r, ctx.encoder is not None, self.sim_gate):
                continue
            out.append(self._finding(ctx, r, "major" if r.stat >= major else "minor"))
        return out

    @staticmethod
    def _finding(ctx: AuditContext, r: DriftRow, severity: str) -> Finding:
        b = ctx.fine(r.bead)
        zh_words = [b.src_toks[i].text for i in r.missing_zh]
        en_words = [b.tgt_toks[j].text for j in r.unexplained_en]
        n_ok = r.n_zh - len(r.missing_zh)
        parts = [f"Only {n_ok} of {r.n_zh} Chinese content words have a rendering in the English"
                 + (f" (none for {_listing(zh_words)})" if zh_words else "")]
        if en_words:
            parts.append(f"English words with no basis in the Chinese: {_listing(en_words)}")
        if "sim" in r.p:
            parts.append(f"meaning similarity lower than in {100 * (1 - r.p['sim']):.0f}% of faithful sentences")
        return ctx.finding(
            "mistranslation", severity, r.bead,
            _runs(b.src_toks, r.missing_zh), _runs(b.tgt_toks, r.unexplained_en),
            score=min(1.0, r.stat / 50.0), message="; ".join(parts) + ": the sentence drifts from the source",
            signal="drift", drift=round(r.stat, 2), percentiles={k: round(v, 4) for k, v in r.p.items()},
        )


# ---------------------------------------------------------------- signals
def drift_rows(ctx: AuditContext) -> list[DriftRow]:
    """Signals of every aligned bead with content on both sides (one encoder call)."""
    views: list[BeadView] = []
    for k, b in enumerate(ctx.beads):
        if b.src_segs and b.tgt_segs:
            fb = ctx.fine(k)
            if _content(fb.src_toks) and _content(fb.tgt_toks):
                views.append(fb)
    texts = [(_zh_text(b), _en_text(b)) for b in views]
    ctx.prefetch([t for pair in texts for t in pair])
    rows = []
    for b, (zt, et) in zip(views, texts):
        zc, ec = _content(b.src_toks), _content(b.tgt_toks)
        rendered, explained = b.local.zh_rendered, b.local.en_explained
        missing = [i for i in zc if i not in rendered]
        unexplained = [j for j in ec if j not in explained]
        values = {
            "zh_cov": 1 - len(missing) / len(zc),
            "en_cov": 1 - len(unexplained) / len(ec),
            "len": math.log(len(ec) / len(zc)),
        }
        if ctx.encoder is not None:
            v = ctx.vectors([zt, et])
            values["sim"] = float(v[0] @ v[1])
        rows.append(DriftRow(b.index, len(zc), len(ec), values, missing, unexplained))
    standardise(rows)
    return rows


def standardise(rows: list[DriftRow]) -> None:
    """Robust z-scores within the document (coverage deviations times sqrt(n))."""
    if not rows:
        return
    n = np.array([r.n_zh for r in rows], dtype=float)
    for key in FEATURES:
        if key not in rows[0].values:
            continue
        x = np.array([r.values[key] for r in rows])
        d = x - np.median(x)
        if key in ("zh_cov", "en_cov"):
            d = d * np.sqrt(n)
        mad = 1.4826 * float(np.median(np.abs(d - np.median(d))))
        scale = mad if mad > 1e-6 else float(np.std(d)) or 1.0
        for r, v in zip(rows, d / scale):
            r.z[key] = float(v)


def score_rows(rows: list[DriftRow], ref: dict, with_sim: bool) -> None:
    """Percentiles against the faithful reference and the combined statistic."""
    levels = ref["levels"]
    for r in rows:
        b = str(length_bin(r.n_zh))
        floor = 0.5 / (ref["n"].get(b, 100) + 1)
        for key in FEATURES:
            if key in r.z and (key != "sim" or with_sim):
                r.p[key] = percentile(levels, ref["quantiles"][key][b], r.z[key], floor)
        r.stat = combine(r.p)


def percentile(levels: list[float], quantiles: list[float], value: float, floor: float) -> float:
    """Share of the reference below ``value``, interpolated between stored
    quantiles; never below ``floor`` (half a bead of the reference) nor above
    1 - floor."""
    p = float(np.interp(value, quantiles, levels)) / 100.0
    return min(max(p, floor), 1 - floor)


def lexical_p(p: dict[str, float]) -> float:
    """Dictionary evidence as one percentile: the lower coverage, Bonferroni-corrected."""
    return min(1.0, 2 * min(p["zh_cov"], p["en_cov"]))


def gated(r: DriftRow, with_sim: bool, sim_gate: float = SIM_GATE, lex_gate: float = LEX_GATE) -> bool:
    """Both kinds of evidence doubt the bead (the dictionary, and the embedding when there is one)."""
    return lexical_p(r.p) <= lex_gate and (not with_sim or r.p.get("sim", 1.0) <= sim_gate)


def combine(p: dict[str, float]) -> float:
    """Fisher's statistic: low coverage (either side, Bonferroni), low
    similarity, unusual length ratio (two-sided)."""
    terms = []
    if "zh_cov" in p and "en_cov" in p:
        terms.append(lexical_p(p))
    if "sim" in p:
        terms.append(p["sim"])
    if "len" in p:
        terms.append(min(1.0, 2 * min(p["len"], 1 - p["len"])))
    return float(-2 * sum(math.log(max(t, 1e-9)) for t in terms))


# quantile levels stored for each signal: dense in the tails, where beads are flagged
LEVELS = (0, 0.1, 0.2, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 75, 80, 85, 90,
          92.5, 95, 97, 98, 99, 99.5, 99.8, 99.9, 100)


def reference_quantiles(rows: list[DriftRow]) -> dict:
    """Per signal and length bin, quantiles of the within-document z-scores of
    faithful beads (what ``calibration.json`` stores under ``reference.drift``)."""
    out: dict = {"levels": list(LEVELS), "n": {}, "quantiles": {}}
    for b in range(len(LENGTH_BINS) + 1):
        out["n"][str(b)] = sum(1 for r in rows if length_bin(r.n_zh) == b)
    for key in FEATURES:
        out["quantiles"][key] = {}
        for b in range(len(LENGTH_BINS) + 1):
            vals = [r.z[key] for r in rows if key in r.z and length_bin(r.n_zh) == b]
            if len(vals) < 20:
                vals = [r.z[key] for r in rows if key in r.z]
            q = np.percentile(vals, LEVELS)
            q = np.maximum.accumulate(q)
            out["quantiles"][key][str(b)] = [round(float(v), 4) for v in q]
    return out


# ---------------------------------------------------------------- helpers
def _content(toks) -> list[int]:
    return [i for i, t in enumerate(toks) if t.content and not is_numeric(t.text)]


def _zh_text(b: BeadView) -> str:
    return "".join(s.text for s in b.src_segs)


def _en_text(b: BeadView) -> str:
    return " ".join(s.text for s in b.tgt_segs)


def _listing(words: list[str]) -> str:
    uniq = list(dict.fromkeys(words))
    return ", ".join(uniq[:MAX_LISTED]) + (", …" if len(uniq) > MAX_LISTED else "")


def _runs(toks, idx: list[int]) -> list[Span]:
    """Adjacent tokens joined into one span."""
    out: list[list[int]] = []
    for i in sorted(idx):
        if out and out[-1][2] == i - 1:
            out[-1][1], out[-1][2] = toks[i].end, i
        else:
            out.append([toks[i].start, toks[i].end, i])
    return [(s, e) for s, e, _ in out]


__all__ = ["DriftCheck", "DriftRow", "combine", "drift_rows", "gated", "lexical_p", "reference_quantiles",
           "score_rows"]
