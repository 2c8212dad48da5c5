"""Build a PairResult from a gold sentence alignment (Vecalign layout).

Calibration needs audited pairs whose beads are known to be right, so that
every finding on them is a false alarm of the audit, not of the aligner.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from align.model import Alignment, Bead, Document, PairResult, Segment


def pair_from_lines(stem: str, src_lines: Sequence[str], tgt_lines: Sequence[str],
                    beads: Sequence[tuple[Sequence[int], Sequence[int]]],
                    src_lang: str = "zh", tgt_lang: str = "en") -> PairResult:
    """One segment per line, documents joined with newlines, gold beads as given."""

    def doc(lines: Sequence[str], lang: str) -> tuple[Document, tuple[Segment, ...]]:
        segs, pos = [], 0
        for i, line in enumerate(lines):
            segs.append(Segment(i, pos, pos + len(line), line, paragraph=i))
            pos += len(line) + 1
        return Document("\n".join(lines), lang), tuple(segs)

    sd, ss = doc(src_lines, src_lang)
    td, ts = doc(tgt_lines, tgt_lang)
    al = Alignment(tuple(Bead(tuple(s), tuple(t), 1.0) for s, t in beads), src_lang, tgt_lang)
    return PairResult(stem, sd, td, ss, ts, al)


def load_vecalign(root: Path, name: str) -> PairResult:
    """``root/src/NAME``, ``root/tgt/NAME``, ``root/gold/NAME.align`` as a PairResult."""
    from align.evaluate import read_align

    src = (root / "src" / name).read_text(encoding="utf-8").splitlines()
    tgt = (root / "tgt" / name).read_text(encoding="utf-8").splitlines()
    return pair_from_lines(name, src, tgt, read_align(root / "gold" / f"{name}.align"))
