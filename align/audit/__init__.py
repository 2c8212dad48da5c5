"""Translation audit: findings with evidence spans in both texts.

Each check lives in its own module and reads a shared :class:`AuditContext`;
:func:`audit` runs them and returns the findings sorted by bead. Thresholds
were calibrated on MAC-Dev gold beads (human translations), see
``bench/audit_calibration.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from align.audit.base import MQM, SEVERITY_RANK, AuditContext, Check
from align.audit.clauses import ClauseCheck
from align.audit.consistency import ConsistencyCheck
from align.audit.entities import EntityCheck
from align.audit.numbers import NumberCheck
from align.audit.terms import TermCheck
from align.audit.unaligned import UnalignedCheck
from align.audit.untranslated import UntranslatedCheck
from align.model import Finding, PairResult

CHECKS: dict[str, type[Check]] = {
    c.name: c
    for c in (UnalignedCheck, ClauseCheck, TermCheck, EntityCheck, NumberCheck, ConsistencyCheck,
              UntranslatedCheck)
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
    return sort_findings(_dedupe(findings))


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.bead, f.src_spans[:1] or f.tgt_spans[:1],
                                           SEVERITY_RANK.get(f.severity, 9), f.kind))


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop a finding whose evidence is already inside a stronger one of the same bead."""
    keep: list[Finding] = []
    order = sorted(findings, key=lambda f: (SEVERITY_RANK.get(f.severity, 9), -f.score))
    for f in order:
        dup = False
        for g in keep:
            if g.bead != f.bead or g.kind != f.kind:
                continue
            if _inside(f.tgt_spans, g.tgt_spans) and _inside(f.src_spans, g.src_spans) and (f.tgt_spans or f.src_spans):
                dup = True
                break
        if not dup:
            keep.append(f)
    return keep


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
