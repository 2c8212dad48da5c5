"""The audit report as one self-contained HTML page (see ``align.report``)."""

from __future__ import annotations

import re

from align.export.base import Exporter, ExportOptions
from align.model import PairResult


class ReportExporter(Exporter):
    name = "report"
    suffix = ".report.html"

    def render(self, pair: PairResult, options: ExportOptions) -> bytes:
        from align.report import render_report

        # Lone surrogates (from text decoded with surrogateescape) cannot be
        # encoded in UTF-8; the page shows U+FFFD for them, like a browser would.
        return re.sub("[\ud800-\udfff]", "\ufffd", render_report(pair)).encode("utf-8")
