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


def read_judged_beads(path: Path, pair: PairResult) -> list[int]:
    """Bead numbers listed in a judgement file, re-located in ``pair``.

    Each non-comment line is ``NUMBER<TAB>start of the bead's Chinese``; the
    text (whitespace ignored) finds the bead again when the aligner has shifted
    the numbering since the judgement was written. A line whose text matches
    no bead of ``pair`` is an error: the judgement no longer fits the data.
    """
    from align.model import AlignError

    def key(text: str) -> str:
        return "".join(text.split())

    starts: dict[str, list[int]] = {}
    for k, b in enumerate(pair.alignment.beads):
        z = key("".join(pair.src_segments[i].text for i in b.src))
        if z:
            starts.setdefault(z, []).append(k)
    out: list[int] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        num, _, prefix = line.partition("\t")
        try:
            k = int(num)
        except ValueError:
            raise AlignError(f"{path}:{n}: expected a bead number, got {num!r}") from None
        prefix = key(prefix)
        if not prefix:
            out.append(k)
            continue
        cands = [b for z, bs in starts.items() if z.startswith(prefix) for b in bs]
        if not cands:
            raise AlignError(f"{path}:{n}: no bead of {pair.stem} starts with {prefix!r}")
        out.append(min(cands, key=lambda b: abs(b - k)))
    return out
