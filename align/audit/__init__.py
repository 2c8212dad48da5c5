"""Translation audit: findings with evidence spans in both texts.

Each check lives in its own module and reads a shared :class:`AuditContext`;
:func:`audit` runs them, merges findings that describe one defect, and
returns them sorted by bead. Checks: unaligned sentences, clauses dropped or
changed, idioms rendered in part (terms), wrong names (entities), names
lost or rendered in part (names), word-level garbling (garble: repeats,
misread words, stitched sentences, brand names), English sentences cut out
of a Chinese phrase (fragments), words the document always renders lost at
the head of their phrase (habits), numbers, inconsistent renderings,
untranslated text, and sentence-level drift. Thresholds were
calibrated on MAC-Dev gold beads (human translations), see
``bench/audit_calibration.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from align.audit.base import MQM, SEVERITY_RANK, AuditContext, Check
from align.audit.clauses import ClauseCheck
from align.audit.consistency import ConsistencyCheck
from align.audit.drift import DriftCheck
from align.audit.entities import EntityCheck
from align.audit.fragments import FragmentCheck
from align.audit.garble import GarbleCheck
from align.audit.habits import HabitCheck
from align.audit.names import NameCheck
from align.audit.numbers import NumberCheck
from align.audit.terms import TermCheck
from align.audit.unaligned import UnalignedCheck
from align.audit.untranslated import UntranslatedCheck
from align.model import Finding, PairResult

CHECKS: dict[str, type[Check]] = {
    c.name: c
    for c in (UnalignedCheck, ClauseCheck, TermCheck, EntityCheck, NameCheck, GarbleCheck, FragmentCheck,
              HabitCheck, NumberCheck, ConsistencyCheck, UntranslatedCheck, DriftCheck)
}


def audit(pair: PairResult, encoder=None, checks: Sequence[str | Check] | None = None,
          lexicon=None) -> list[Finding]:
    """Run the checks (all by default) on an aligned pair; findings sorted by bead.

    ``encoder`` (an :class:`align.embed.Encoder`) enables the embedding
    evidence of the clause check; without it the audit is lexical only.
    """
    ctx = AuditContext(pair, encoder=encoder, lexicon=lexicon)
    chosen: list[Check] = []
    for c in checks if checks is not None else list(CHECKS):
        if isinstance(c, Check):
            chosen.append(c)
        elif c in CHECKS:
            chosen.append(CHECKS[c]())
        else:
            from align.model import AlignError

            raise AlignError(f"unknown audit check {c!r} (known: {', '.join(CHECKS)})")
    findings: list[Finding] = []
    for check in chosen:
        findings.extend(check.run(ctx))
    return sort_findings(_dedupe(findings, pair))


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.bead, f.src_spans[:1] or f.tgt_spans[:1],
                                           SEVERITY_RANK.get(f.severity, 9), f.kind))


# kinds that may describe the same defect from two sides: one finding is kept
_SAME_DEFECT = {"entity": "accuracy", "mistranslation": "accuracy", "omission": "accuracy",
                "addition": "accuracy"}


def _dedupe(findings: list[Finding], pair: PairResult | None = None) -> list[Finding]:
    """One finding per defect.

    A finding whose evidence lies inside a stronger one of the same kind is
    dropped. Findings of the accuracy kinds (entity, mistranslation, omission,
    addition) on the same bead whose evidence overlaps in both texts (or that
    point at the very same Chinese words) describe one defect seen by two
    checks ("F. Fu Putin" as a wrong name and as a changed meaning): the
    strongest is kept, its spans widened to the other's, and the other's
    explanation kept under ``also``. A whole-sentence drift finding joins any
    specific accuracy finding of its bead (which gets its severity if higher).
    Everything else stays separate.
    """
    keep: list[Finding] = []
    drift = [f for f in findings if f.extra.get("signal") == "drift"]
    order = sorted((f for f in findings if f.extra.get("signal") != "drift"),
                   key=lambda f: (SEVERITY_RANK.get(f.severity, 9), -f.score))
    for f in order:
        merged = False
        for k, g in enumerate(keep):
            if g.bead != f.bead:
                continue
            if g.kind == f.kind and (f.tgt_spans or f.src_spans) and \
                    _inside(f.tgt_spans, g.tgt_spans) and _inside(f.src_spans, g.src_spans):
                merged = True
                break
            if (_SAME_DEFECT.get(f.kind) and _SAME_DEFECT.get(f.kind) == _SAME_DEFECT.get(g.kind)
                    and _overlap(f.src_spans, g.src_spans)
                    and (not f.tgt_spans or not g.tgt_spans or _overlap(f.tgt_spans, g.tgt_spans)
                         or f.kind == g.kind or f.src_spans == g.src_spans)):
                keep[k] = _absorb(g, f, pair)
                merged = True
                break
        if not merged:
            keep.append(f)
    # a drifting sentence with a specific finding: the specific one says where
    for f in drift:
        same = [k for k, g in enumerate(keep) if g.bead == f.bead and _SAME_DEFECT.get(g.kind)]
        if not same:
            keep.append(f)
            continue
        k = min(same, key=lambda k: (SEVERITY_RANK.get(keep[k].severity, 9), -keep[k].score))
        g = _absorb(keep[k], f, pair)
        if SEVERITY_RANK.get(f.severity, 9) < SEVERITY_RANK.get(g.severity, 9):
            from dataclasses import replace

            g = replace(g, severity=f.severity)
        keep[k] = g
    return keep


def _overlap(a, b) -> bool:
    return any(s < e2 and s2 < e for s, e in a for s2, e2 in b)


def _absorb(g: Finding, f: Finding, pair: PairResult | None) -> Finding:
    """``g`` with ``f``'s evidence added: spans joined, f's message kept under ``also``."""
    from dataclasses import replace

    from align.audit.base import _merge

    extra = dict(g.extra)
    extra["also"] = list(extra.get("also", [])) + [f"{f.kind}: {f.message}"]
    if pair is None:
        return replace(g, extra=extra)
    if f.extra.get("signal") == "drift":  # whole-sentence evidence: the specific finding says more
        return replace(g, extra=extra)
    # the other finding's spans join only where they overlap this one's: a slot
    # word ("construction") is no evidence of a garbled name next to it
    src = tuple(_merge(list(g.src_spans) + [s for s in f.src_spans if _overlap([s], g.src_spans)]))
    tgt = tuple(_merge(list(g.tgt_spans) + [s for s in f.tgt_spans if _overlap([s], g.tgt_spans)]))
    return replace(g, src_spans=src, tgt_spans=tgt, extra=extra,
                   src_text=" … ".join(pair.src.text[s:e] for s, e in src if e > s),
                   tgt_text=" … ".join(pair.tgt.text[s:e] for s, e in tgt if e > s))


def _inside(a, b) -> bool:
    return all(any(s >= s2 and e <= e2 for s2, e2 in b) for s, e in a)


def summarize(findings: Sequence[Finding], top: int = 10) -> str:
    """A short terminal summary: counts by kind and severity, then the top findings."""
    if not findings:
        return "audit: no findings"
    by_kind = Counter(f.kind for f in findings)
    by_sev = Counter(f.severity for f in findings)
    lines = [f"audit: {len(findings)} findings"]
    lines.append("  by kind:     " + ", ".join(f"{k} {n}" for k, n in by_kind.most_common()))
    lines.append("  by severity: " + ", ".join(
        f"{s} {by_sev[s]}" for s in sorted(by_sev, key=lambda s: SEVERITY_RANK.get(s, 9))))
    ranked = sorted(findings, key=lambda f: (SEVERITY_RANK.get(f.severity, 9), -f.score, f.bead))
    lines.append(f"  top {min(top, len(ranked))}:")
    for f in ranked[:top]:
        zh = _short(f.src_text)
        en = _short(f.tgt_text)
        ev = " | ".join(x for x in (zh, en) if x)
        lines.append(f"    [{f.severity}] {f.kind} bead {f.bead}: {f.message}" + (f"  «{ev}»" if ev else ""))
    return "\n".join(lines)


def _short(s: str, n: int = 40) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


__all__ = ["CHECKS", "MQM", "AuditContext", "Check", "audit", "sort_findings", "summarize"]
