"""The audit report as one self-contained HTML page (see ``align.report``)."""

from __future__ import annotations

from align.export.base import Exporter, ExportOptions
from align.model import PairResult


class ReportExporter(Exporter):
    name = "report"
    suffix = ".report.html"

    def render(self, pair: PairResult, options: ExportOptions) -> bytes:
        from align.report import render_report

        return render_report(pair).encode("utf-8")
