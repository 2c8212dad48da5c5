"""Numbers, dates, ordinals and enumeration labels that differ inside a bead.

Values are compared after normalisation (:func:`align.numbers.extract_quantities`),
so 二〇一九 matches 2019, （十六） matches (16), 十四五岁 matches "fourteen or
fifteen" and 六十公斤 matches "130 pounds" (measures are converted); "June 5,
2009" for 二〇一九年六月五日 does not. Unaligned neighbours (0-1 / 1-0 beads) are searched too, so a
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
            s_only, t_only = _converted(ctx, s_only, t_only, src, tgt)
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


# measures a translator may convert (60 公斤 -> "130 pounds", 二十英尺 -> "six-meter")
_ZH_MEASURES = {"公斤": ("kg", 1.0), "千克": ("kg", 1.0), "斤": ("kg", 0.5), "吨": ("kg", 1000.0),
                "公里": ("m", 1000.0), "千米": ("m", 1000.0), "米": ("m", 1.0), "厘米": ("m", 0.01),
                "英尺": ("m", 0.3048), "英寸": ("m", 0.0254), "英里": ("m", 1609.34), "里": ("m", 500.0)}
_EN_MEASURES = {"pound": ("kg", 0.4536), "lb": ("kg", 0.4536), "kilogram": ("kg", 1.0), "kg": ("kg", 1.0),
                "ton": ("kg", 1000.0), "tonne": ("kg", 1000.0), "foot": ("m", 0.3048), "feet": ("m", 0.3048),
                "ft": ("m", 0.3048), "inch": ("m", 0.0254), "meter": ("m", 1.0), "metre": ("m", 1.0),
                "m": ("m", 1.0), "centimeter": ("m", 0.01), "centimetre": ("m", 0.01), "cm": ("m", 0.01),
                "kilometer": ("m", 1000.0), "kilometre": ("m", 1000.0), "km": ("m", 1000.0),
                "mile": ("m", 1609.34)}
_EN_UNIT_WORD = re.compile(r"[\s-]*([A-Za-z]+)")
CONVERSION_TOLERANCE = 0.1  # rounding a converted measure ("about 130 pounds")


def _measure(ctx: AuditContext, m: NumberMention, side: str) -> tuple[str, float] | None:
    """The mention as an SI quantity when a unit of measure follows it."""
    text = ctx.pair.src.text if side == "src" else ctx.pair.tgt.text
    after = text[m.end:m.end + 8]
    if side == "src":
        after = after.lstrip()
        for unit in sorted(_ZH_MEASURES, key=len, reverse=True):
            if after.startswith(unit):
                dim, f = _ZH_MEASURES[unit]
                return dim, float(m.value) * f
        return None
    w = _EN_UNIT_WORD.match(text, m.end)
    if not w:
        return None
    word = w.group(1).lower()
    for cand in (word, word[:-1] if word.endswith("s") else word, word[:-2] if word.endswith("es") else word):
        if cand in _EN_MEASURES:
            dim, f = _EN_MEASURES[cand]
            return dim, float(m.value) * f
    return None


def _converted(ctx: AuditContext, s_only, t_only, src, tgt):
    """Drop mismatches that are the same measure in other units."""
    if not s_only and not t_only:
        return s_only, t_only
    sm = {id(m): _measure(ctx, m, "src") for m in src}
    tm = {id(m): _measure(ctx, m, "tgt") for m in tgt}

    def same(a, b) -> bool:
        return a is not None and b is not None and a[0] == b[0] and \
            abs(a[1] - b[1]) <= CONVERSION_TOLERANCE * max(abs(a[1]), abs(b[1]))

    s_keep = [m for m in s_only if not any(same(sm[id(m)], tm[id(t)]) for t in tgt)]
    t_keep = [m for m in t_only if not any(same(tm[id(m)], sm[id(s)]) for s in src)]
    return s_keep, t_keep


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
