"""Vecalign/Bertalign gold format: ``[i, i+1]:[j]`` per bead, 0-based indices.

The benchmark tools score against files in exactly this form, so the spacing
(``", "`` between indices, ``[]`` for an empty side) matches MAC-Dev's gold.
"""

from __future__ import annotations

from align.export.base import Exporter, ExportOptions
from align.model import PairResult


def format_bead(src: tuple[int, ...], tgt: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, src))}]:[{', '.join(map(str, tgt))}]"


class VecalignExporter(Exporter):
    name = "align"
    suffix = ".align"

    def render(self, pair: PairResult, options: ExportOptions) -> bytes:
        return "".join(format_bead(b.src, b.tgt) + "\n" for b in pair.alignment.beads).encode("ascii")
