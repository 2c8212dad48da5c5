"""Audit findings as JSONL, one finding per line, in ``pair.findings`` order.

Keys: finding, bead, kind, mqm, severity, <src>_spans, <tgt>_spans, <src>,
<tgt> (the evidence words), score, message, then the finding's ``extra``
items. An ``extra`` key that would overwrite one of these is kept under
``extra_<key>`` instead, so nothing is lost and the fixed keys stay reliable.
"""

from __future__ import annotations

from align.export.base import Exporter, ExportOptions, round_score, side_keys
from align.export.jsonl import dumps_lines
from align.model import Finding, PairResult


def finding_record(n: int, finding: Finding, src_key: str, tgt_key: str) -> dict:
    record = {
        "finding": n,
        "bead": finding.bead,
        "kind": finding.kind,
        "mqm": finding.mqm,
        "severity": finding.severity,
        f"{src_key}_spans": [[s, e] for s, e in finding.src_spans],
        f"{tgt_key}_spans": [[s, e] for s, e in finding.tgt_spans],
        src_key: finding.src_text,
        tgt_key: finding.tgt_text,
        "score": round_score(finding.score),
        "message": finding.message,
    }
    for key, value in finding.extra.items():
        key = str(key)
        while key in record:
            key = f"extra_{key}"
        record[key] = value
    return record


def finding_records(pair: PairResult) -> list[dict]:
    src_key, tgt_key = side_keys(pair)
    return [finding_record(n, f, src_key, tgt_key) for n, f in enumerate(pair.findings)]


class AuditExporter(Exporter):
    name = "audit"
    suffix = ".audit.jsonl"

    def render(self, pair: PairResult, options: ExportOptions) -> bytes:
        return dumps_lines(finding_records(pair))
