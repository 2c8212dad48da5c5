"""Export a ``PairResult`` in the formats other tools read.

One module per format behind ``Exporter`` (see ``base``); this module holds
the registry and the two entry points the CLI uses::

    paths = write_outputs(pair, Path("out"), ["tmx", "csv", "jsonl", "align", "audit"])
    for line in export_warnings(pair, ["tmx", "csv"]):
        print("warning:", line)

All formats are rendered in memory before any file is replaced, so a
failure in one format leaves every previous output as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from align.export.audit import AuditExporter
from align.export.base import ExportOptions, Exporter, default_locale, join_texts
from align.export.csvfile import CsvExporter
from align.export.jsonl import JsonlExporter, read_beads_jsonl
from align.export.report import ReportExporter
from align.export.tmx import TmxExporter, sanitize_xml_text
from align.export.vecalign import VecalignExporter
from align.fsio import write_all_atomic
from align.model import AlignError, PairResult

__all__ = [
    "EXPORTERS",
    "ExportOptions",
    "Exporter",
    "default_locale",
    "export_warnings",
    "get_exporters",
    "join_texts",
    "read_beads_jsonl",
    "render_outputs",
    "sanitize_xml_text",
    "write_outputs",
]

EXPORTERS: dict[str, Exporter] = {
    e.name: e
    for e in (TmxExporter(), CsvExporter(), JsonlExporter(), VecalignExporter(), AuditExporter(), ReportExporter())
}


def get_exporters(formats: Sequence[str] | str) -> list[Exporter]:
    """Exporters for format names, in order, duplicates dropped.

    A single string may list names separated by commas ("tmx,csv").
    """
    if isinstance(formats, str):
        formats = formats.split(",")
    chosen: dict[str, Exporter] = {}
    for raw in formats:
        name = raw.strip().lower()
        if name not in EXPORTERS:
            raise AlignError(
                f"unknown export format {raw.strip()!r}; valid formats: {', '.join(EXPORTERS)}"
            )
        chosen.setdefault(name, EXPORTERS[name])
    return list(chosen.values())


def render_outputs(
    pair: PairResult, formats: Sequence[str] | str, options: ExportOptions | None = None
) -> dict[str, bytes]:
    """File suffix -> content for each requested format."""
    options = options or ExportOptions()
    return {e.suffix: e.render(pair, options) for e in get_exporters(formats)}


def export_warnings(
    pair: PairResult, formats: Sequence[str] | str, options: ExportOptions | None = None
) -> list[str]:
    """What the requested formats had to change to stay valid (one line each)."""
    options = options or ExportOptions()
    return [w for e in get_exporters(formats) for w in e.warnings(pair, options)]


def write_outputs(
    pair: PairResult,
    out_dir: Path,
    formats: Sequence[str] | str,
    options: ExportOptions | None = None,
) -> list[Path]:
    """Write ``out_dir/<pair.stem><suffix>`` for each format; return the paths."""
    stem = pair.stem
    if not stem or stem in (".", "..") or "/" in stem or "\\" in stem or "\0" in stem:
        raise AlignError(f"cannot name output files after {stem!r}: not a plain file name")
    rendered = render_outputs(pair, formats, options)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AlignError(f"{out_dir}: cannot create output folder: {exc.strerror or exc}") from exc
    files = {out_dir / f"{stem}{suffix}": data for suffix, data in rendered.items()}
    write_all_atomic(files)
    return list(files)
