"""Clauses dropped, added or changed inside an aligned bead.

Each clause (text between punctuation) of one side looks for its counterpart
among windows of 1-3 consecutive clauses of the other side. Its *support* is
the share of its content words that have a dictionary link into the best
window. How literal a translation is varies a lot (a political text
machine-translated vs. a novel), so a clause is suspicious only when its
support is an outlier for this document: below ``median - Z * MAD`` of all
clauses of the pair (robust z-score). An embedding of the clause against the
other side's windows can then clear it (paraphrases the dictionary misses).

A suspicious Chinese clause with a suspicious English clause in the same
bead is a mistranslation; one without is an omission; a suspicious English
clause left over is an addition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from align.audit.base import AuditContext, BeadView, Check, Clause
from align.model import Finding

# calibrated on MAC-Dev gold beads and the Joint Statement (bench/audit_calibration.py)
Z = 2.5
MAD_FLOOR = 0.12
MAX_SUPPORT = 0.5     # never flag a clause with half of its words translated
MIN_CONTENT = 2       # content words a clause needs to be judged
SIM_CLEAR = 0.60      # embedding similarity that clears a suspicious clause (JS: paraphrases 0.62-0.81, 相向而行 error 0.58)
WINDOW = 3


@dataclass
class _Row:
    bead: int
    side: str          # "src" or "tgt"
    clause: Clause
    n: int
    support: float
    window: tuple[int, int]  # best window on the other side: clause index range [a, b)


class ClauseCheck(Check):
    name = "clauses"
    kinds = ("omission", "addition", "mistranslation")

    def __init__(self, z: float = Z, sim_clear: float = SIM_CLEAR) -> None:
        self.z = z
        self.sim_clear = sim_clear

    def run(self, ctx: AuditContext) -> list[Finding]:
        rows = {"src": [], "tgt": []}
        for b in ctx.beads:
            if b.src_segs and b.tgt_segs:
                for side in ("src", "tgt"):
                    rows[side].extend(_rows(ctx, b, side))
        cands: dict[int, dict[str, list[_Row]]] = {}
        for side, rs in rows.items():
            judged = [r.support for r in rs if r.n >= MIN_CONTENT]
            if len(judged) < 5:
                continue
            med = float(np.median(judged))
            mad = max(float(np.median(np.abs(np.array(judged) - med))) * 1.4826, MAD_FLOOR)
            thr = min(med - self.z * mad, MAX_SUPPORT)
            for r in rs:
                if r.n >= MIN_CONTENT and r.support < thr and not self._cleared(ctx, r):
                    cands.setdefault(r.bead, {"src": [], "tgt": []})[side].append(r)
        out: list[Finding] = []
        for bead, c in sorted(cands.items()):
            out += self._report(ctx, ctx.beads[bead], c["src"], c["tgt"])
        return out

    # ------------------------------------------------------------ evidence
    def _cleared(self, ctx: AuditContext, r: _Row) -> bool:
        """Embedding evidence that the clause is translated after all."""
        if ctx.encoder is None:
            return False
        b = ctx.beads[r.bead]
        other = b.tgt_clauses if r.side == "src" else b.src_clauses
        text_of = ctx.src_text if r.side == "src" else ctx.tgt_text
        other_text = ctx.tgt_text if r.side == "src" else ctx.src_text
        windows = [other_text((other[a].start, other[min(a + w, len(other)) - 1].end))
                   for a in range(len(other)) for w in (1, 2) if a + w <= len(other)]
        if not windows:
            return False
        v = ctx.vectors([text_of((r.clause.start, r.clause.end))])
        m = ctx.vectors(windows)
        sim = float((m @ v[0]).max())
        r.sim = sim  # type: ignore[attr-defined]
        return sim >= self.sim_clear

    # ------------------------------------------------------------ findings
    def _report(self, ctx: AuditContext, b: BeadView, zh: list[_Row], en: list[_Row]) -> list[Finding]:
        out: list[Finding] = []
        en_left = list(en)
        for r in zh:
            partner = _closest(ctx, b, r, en_left)
            if partner is not None:
                en_left.remove(partner)
                out.append(ctx.finding(
                    "mistranslation", "major", b.index,
                    [(r.clause.start, r.clause.end)], [(partner.clause.start, partner.clause.end)],
                    score=1.0 - (r.support + partner.support) / 2,
                    message=(f"\"{ctx.tgt_text((partner.clause.start, partner.clause.end))}\" does not "
                             f"render {ctx.src_text((r.clause.start, r.clause.end))}: meaning changed"),
                    support=round(r.support, 3), **_sim(r),
                ))
                continue
            at = _place(b, r)
            words = ctx.src_text((r.clause.start, r.clause.end))
            out.append(ctx.finding(
                "omission", "major" if r.n >= 3 else "minor", b.index,
                [(r.clause.start, r.clause.end)], [at] if at else [],
                score=1.0 - r.support,
                message=f"Clause {words} has no counterpart in the English translation of this sentence",
                where="clause", insert_at=at[1] if at else None,
                support=round(r.support, 3), **_sim(r),
            ))
        for r in en_left:
            words = ctx.tgt_text((r.clause.start, r.clause.end))
            out.append(ctx.finding(
                "addition", "major" if r.n >= 4 else "minor", b.index,
                [], [(r.clause.start, r.clause.end)], score=1.0 - r.support,
                message=f"\"{words}\" has no basis in the Chinese of this sentence",
                where="clause", support=round(r.support, 3), **_sim(r),
            ))
        return out


def _sim(r: _Row) -> dict:
    """The embedding similarity, when one was computed (JSON has no NaN)."""
    return {"sim": round(r.sim, 3)} if hasattr(r, "sim") else {}


def _rows(ctx: AuditContext, b: BeadView, side: str) -> list[_Row]:
    mine = b.src_clauses if side == "src" else b.tgt_clauses
    other = b.tgt_clauses if side == "src" else b.src_clauses
    toks = b.src_toks if side == "src" else b.tgt_toks
    link_to: dict[int, set[int]] = {}
    for i, j in b.links:
        a, c = (i, j) if side == "src" else (j, i)
        link_to.setdefault(a, set()).add(c)
    # clause index of every token on the other side
    where: dict[int, int] = {t: k for k, cl in enumerate(other) for t in cl.toks}
    extra = _unaligned_neighbour_bag(ctx, b, side)
    out = []
    for cl in mine:
        content = [t for t in cl.toks if toks[t].content]
        if not content:
            continue
        best, best_w = -1.0, (0, 0)
        for a in range(len(other)):
            for w in range(1, WINDOW + 1):
                if a + w > len(other):
                    break
                hit = sum(1 for t in content if any(a <= where.get(j, -1) < a + w for j in link_to.get(t, ())))
                s = hit / len(content)
                if s > best + 1e-9:
                    best, best_w = s, (a, a + w)
        if extra:
            s = sum(1 for t in content if toks[t].stems & extra) / len(content)
            best = max(best, s)
        out.append(_Row(b.index, side, cl, len(content), max(best, 0.0), best_w))
    return out


def _unaligned_neighbour_bag(ctx: AuditContext, b: BeadView, side: str) -> frozenset[str]:
    """Words of adjacent unaligned sentences: text the aligner split off this bead."""
    bag: set[str] = set()
    for k in (b.index - 1, b.index + 1):
        if 0 <= k < len(ctx.beads):
            nb = ctx.beads[k]
            if side == "src" and not nb.src_segs:
                bag |= nb.tgt_bag
            if side == "tgt" and not nb.tgt_segs:
                bag |= nb.src_bag
    return frozenset(bag)


def _rel(span: tuple[int, int], whole: tuple[int, int]) -> float:
    return ((span[0] + span[1]) / 2 - whole[0]) / max(1, whole[1] - whole[0])


def _closest(ctx: AuditContext, b: BeadView, r: _Row, en: list[_Row]) -> _Row | None:
    if not en:
        return None
    pos = _rel((r.clause.start, r.clause.end), b.src_span)
    best = min(en, key=lambda e: abs(_rel((e.clause.start, e.clause.end), b.tgt_span) - pos))
    if abs(_rel((best.clause.start, best.clause.end), b.tgt_span) - pos) > 0.35:
        return None
    return best


def _place(b: BeadView, r: _Row) -> tuple[int, int] | None:
    """English words after which the missing clause belongs: the rendering of the
    nearest preceding Chinese clause that is linked, else the start of the bead."""
    prev_links = [j for i, j in b.links if b.src_toks[i].end <= r.clause.start]
    if prev_links:
        # the last English token linked from the closest preceding Chinese token
        last_src = max(i for i, j in b.links if b.src_toks[i].end <= r.clause.start)
        j = max(j for i, j in b.links if i == last_src)
        t = b.tgt_toks[j]
        return (t.start, t.end)
    if b.tgt_toks:
        t = b.tgt_toks[0]
        return (t.start, t.end)
    return None
