"""Numbers, dates, ordinals and enumeration labels that differ inside a bead.

Values are compared after normalisation (:mod:`align.numbers`), so 二〇一九
matches 2019 and （十六） matches (16); "June 5, 2009" for 二〇一九年六月五日
does not. Unaligned neighbours (0-1 / 1-0 beads) are searched too, so a
sentence split by the aligner does not look like a lost number.
"""

from __future__ import annotations

import re

from align.audit.base import AuditContext, Check
from align.model import Finding
from align.numbers import NumberMention, compare_numbers


class NumberCheck(Check):
    name = "numbers"
    kinds = ("number",)

    def run(self, ctx: AuditContext) -> list[Finding]:
        out: list[Finding] = []
        for b in ctx.beads:
            if not b.src_segs or not b.tgt_segs or not (b.src_nums or b.tgt_nums):
                continue
            src, tgt = list(b.src_nums), list(b.tgt_nums)
            for k in (b.index - 1, b.index + 1):
                if 0 <= k < len(ctx.beads):
                    nb = ctx.beads[k]
                    if not nb.src_segs:
                        tgt += nb.tgt_nums
                    if not nb.tgt_segs:
                        src += nb.src_nums
            d = compare_numbers(src, tgt)
            roman = _roman_labels(b.tgt_segs)
            s_only = [m for m in d.src_only if m in b.src_nums and not (m.kind == "enum" and m.value in roman)]
            t_only = [m for m in d.tgt_only if m in b.tgt_nums]
            if not s_only and not t_only:
                continue
            for s, t in _pair(s_only, t_only, b.src_span, b.tgt_span):
                out.append(self._finding(ctx, b.index, s, t))
        return out

    @staticmethod
    def _finding(ctx: AuditContext, bead: int, s: NumberMention | None, t: NumberMention | None) -> Finding:
        kind_of = (s or t).kind  # type: ignore[union-attr]
        severity = "minor" if kind_of == "enum" else "major"
        if s and t:
            msg = f"{s.text} is rendered as {t.text}: the {_label(s)} differs"
            score = 1.0
        elif s:
            msg = f"{_label(s).capitalize()} {s.text} ({_value(s)}) is missing from the English"
            score = 0.8
        else:
            msg = f"{_label(t).capitalize()} {t.text} in the English has no counterpart in the Chinese"  # type: ignore[union-attr]
            score = 0.8
        return ctx.finding(
            "number", severity, bead,
            [(s.start, s.end)] if s else [], [(t.start, t.end)] if t else [],
            score=score, message=msg,
            src_value=_value(s) if s else None, tgt_value=_value(t) if t else None,
        )


_ROMAN_LABEL = re.compile(r"[(（]\s*([IVXLC]{1,7})\s*[)）]")


def _roman_labels(segs) -> set[int]:
    """Values of item labels written in Roman numerals ("(VI)" for （六）)."""
    from align.segment import parse_number_label

    out = set()
    for seg in segs:
        for m in _ROMAN_LABEL.finditer(seg.text):
            v = parse_number_label(m.group(0))
            if v is not None:
                out.add(v)
    return out


def _label(m: NumberMention) -> str:
    return {"date": "date", "year": "year", "enum": "item number", "ordinal": "ordinal",
            "percent": "percentage"}.get(m.kind, "number")


def _value(m: NumberMention) -> str:
    if m.kind == "date" and m.parts:
        y, mo, d = m.parts
        return "-".join(f"{p:02d}" if p is not None else "?" for p in (y, mo, d))
    return f"{m.value:g}" if isinstance(m.value, float) else str(m.value)


def _pair(src: list[NumberMention], tgt: list[NumberMention], sspan, tspan):
    """Match each missing source number with the nearest unexplained target one."""
    def rel(m, span):
        return (m.start - span[0]) / max(1, span[1] - span[0])

    group = {"date": 0, "year": 0, "enum": 1}
    left = list(tgt)
    pairs = []
    for s in src:
        cands = [t for t in left if group.get(t.kind, 2) == group.get(s.kind, 2)]
        if cands:
            t = min(cands, key=lambda t: abs(rel(t, tspan) - rel(s, sspan)))
            left.remove(t)
            pairs.append((s, t))
        else:
            pairs.append((s, None))
    pairs.extend((None, t) for t in left)
    return pairs
