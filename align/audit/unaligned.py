"""Whole sentences with no counterpart: 1-0 beads (omission), 0-1 (addition).

An unaligned sentence whose words are well covered by a neighbouring bead's
other side is an alignment/segmentation split (the English broke a sentence
across lines), not a translation error, and is not reported.
"""

from __future__ import annotations

from align.audit.base import AuditContext, BeadView, Check
from align.model import Finding

NEIGHBOUR_COVERAGE = 0.5  # share of content words found next door => a split, not a loss
MIN_CONTENT = 1


class UnalignedCheck(Check):
    name = "unaligned"
    kinds = ("omission", "addition")

    def run(self, ctx: AuditContext) -> list[Finding]:
        out: list[Finding] = []
        beads = ctx.beads
        for b in beads:
            if b.src_segs and not b.tgt_segs:
                f = self._one(ctx, b, "src")
                if f:
                    out.append(f)
            elif b.tgt_segs and not b.src_segs:
                f = self._one(ctx, b, "tgt")
                if f:
                    out.append(f)
        return out

    def _one(self, ctx: AuditContext, b: BeadView, side: str) -> Finding | None:
        toks = b.src_toks if side == "src" else b.tgt_toks
        content = [t for t in toks if t.content]
        if len(content) < MIN_CONTENT:
            return None  # a dash, a number or a label: nothing a reader misses
        prev = ctx.beads[b.index - 1] if b.index > 0 else None
        nxt = ctx.beads[b.index + 1] if b.index + 1 < len(ctx.beads) else None
        other_bag: set[str] = set()
        for nb in (prev, nxt):
            if nb is not None:
                other_bag |= nb.tgt_bag if side == "src" else nb.src_bag
        covered = sum(1 for t in content if t.stems & other_bag) / len(content)
        if covered >= NEIGHBOUR_COVERAGE and len(content) <= 12:
            return None
        # where the missing text would go on the other side: end of the previous bead
        if side == "src":
            at = _anchor(prev, "tgt") if prev else _anchor(nxt, "tgt", start=True)
            span = b.src_span
            severity = "major" if len(content) >= 3 else "minor"
            words = "".join(t.text for t in content[:8])
            return ctx.finding(
                "omission", severity, b.index, [span], [at] if at else [],
                score=1.0 - covered,
                message=f"Chinese sentence has no English translation ({len(content)} content words, e.g. {words[:30]})",
                where="sentence", insert_at=at[1] if at else None,
            )
        at = _anchor(prev, "src") if prev else _anchor(nxt, "src", start=True)
        severity = "major" if len(content) >= 4 else "minor"
        return ctx.finding(
            "addition", severity, b.index, [at] if at else [], [b.tgt_span],
            score=1.0 - covered,
            message=f"English sentence has no Chinese source ({len(content)} content words)",
            where="sentence", insert_at=at[1] if at else None,
        )


def _anchor(b: BeadView | None, side: str, start: bool = False) -> tuple[int, int] | None:
    """The last (or first) words of a neighbouring bead's side: where the gap is."""
    if b is None:
        return None
    toks = b.tgt_toks if side == "tgt" else b.src_toks
    if not toks:
        return None
    if start:
        return (toks[0].start, toks[min(2, len(toks) - 1)].end)
    return (toks[max(0, len(toks) - 3)].start, toks[-1].end)
