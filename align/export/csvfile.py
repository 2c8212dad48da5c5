"""CSV for spreadsheets: one row per bead, unaligned ones included.

RFC 4180 (CRLF, quotes only where needed) in UTF-8 with a BOM, which is what
makes Excel read Chinese correctly. Cell text is written exactly as it is,
formula-like text included, so the file round-trips; the only change is for
lone surrogates, which UTF-8 cannot encode (they become U+FFFD, reported).
"""

from __future__ import annotations

import csv
import io
import re

from align.export.base import (
    Exporter,
    ExportOptions,
    describe_removed,
    iter_beads,
    join_texts,
    round_score,
    side_keys,
)
from align.model import PairResult

_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


class CsvExporter(Exporter):
    name = "csv"
    suffix = ".csv"

    def render(self, pair: PairResult, options: ExportOptions) -> bytes:
        src_key, tgt_key = side_keys(pair)
        src_lang, tgt_lang = pair.alignment.src_lang, pair.alignment.tgt_lang
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(["bead", src_key, tgt_key, "score", "flags"])
        for n, bead, src_segs, tgt_segs in iter_beads(pair):
            score = round_score(bead.score)
            writer.writerow(
                [
                    n,
                    join_texts([s.text for s in src_segs], src_lang),
                    join_texts([s.text for s in tgt_segs], tgt_lang),
                    "" if score is None else f"{score:.4f}",
                    ";".join(bead.flags),
                ]
            )
        return _encodable(buf.getvalue()).encode("utf-8-sig")

    def warnings(self, pair: PairResult, options: ExportOptions) -> list[str]:
        found = []
        for n, _bead, src_segs, tgt_segs in iter_beads(pair):
            for doc, segs in ((pair.src, src_segs), (pair.tgt, tgt_segs)):
                for seg in segs:
                    positions = [m.start() for m in _SURROGATE.finditer(seg.text)]
                    if positions:
                        found.append(
                            describe_removed(
                                doc, seg, positions,
                                f"CSV: bead {n}: replaced lone surrogates (not encodable in UTF-8) by U+FFFD",
                            )
                        )
        return found
