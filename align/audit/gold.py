"""Build a PairResult from a gold sentence alignment (Vecalign layout).

Calibration needs audited pairs whose beads are known to be right, so that
every finding on them is a false alarm of the audit, not of the aligner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    out: list[int] = []
    locate = _locator(pair)
    for n, line in _lines(path):
        num, _, prefix = line.partition("\t")
        out.append(locate(path, n, num, prefix))
    return out


@dataclass(frozen=True)
class Problem:
    """One listed problem of a translation (``tests/data/js_problem_beads.txt``)."""

    bead: int
    severity: str
    zh: str            # the Chinese words of the problem ("" when not given)
    en: str            # the English words of the problem ("" when the English has nothing there)
    description: str


def read_problem_list(path: Path, pair: PairResult) -> list[Problem]:
    """Problems listed one a line: ``NUMBER, start of the Chinese, major|minor,
    Chinese words, English words, description`` (TAB-separated; ``-`` for no
    words), re-located in ``pair`` like :func:`read_judged_beads`."""
    from align.model import AlignError

    locate = _locator(pair)
    out: list[Problem] = []
    for n, line in _lines(path):
        cols = line.split("\t")
        if len(cols) != 6 or cols[2] not in ("major", "minor"):
            raise AlignError(f"{path}:{n}: expected 6 TAB-separated columns "
                             "(bead, Chinese start, major|minor, Chinese words, English words, description)")
        k = locate(path, n, cols[0], cols[1])
        zh, en = ("" if c == "-" else c for c in cols[3:5])
        out.append(Problem(k, cols[2], zh, en, cols[5]))
    return out


def problem_flagged(problem: Problem, pair: PairResult, findings) -> bool:
    """A finding on the problem's bead whose evidence overlaps the problem's
    words (in either text) flags it."""
    bead = pair.alignment.beads[problem.bead]
    zh_spans = _occurrences(pair.src.text, [pair.src_segments[i] for i in bead.src], problem.zh)
    en_spans = _occurrences(pair.tgt.text, [pair.tgt_segments[j] for j in bead.tgt], problem.en)
    for f in findings:
        if f.bead != problem.bead:
            continue
        if any(s < e2 and s2 < e for s, e in f.src_spans for s2, e2 in zh_spans):
            return True
        if any(s < e2 and s2 < e for s, e in f.tgt_spans for s2, e2 in en_spans):
            return True
    return False


def _occurrences(text: str, segs, words: str) -> list[tuple[int, int]]:
    if not words or not segs:
        return []
    lo, hi = segs[0].start, segs[-1].end
    out, k = [], text.find(words, lo, hi)
    while k >= 0:
        out.append((k, k + len(words)))
        k = text.find(words, k + 1, hi)
    return out


def _lines(path: Path):
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield n, line


def _locator(pair: PairResult):
    """A function (path, line number, number, Chinese start) -> bead index."""
    from align.model import AlignError

    def key(text: str) -> str:
        return "".join(text.split())

    starts: dict[str, list[int]] = {}
    for k, b in enumerate(pair.alignment.beads):
        z = key("".join(pair.src_segments[i].text for i in b.src))
        if z:
            starts.setdefault(z, []).append(k)

    def locate(path, n: int, num: str, prefix: str) -> int:
        try:
            k = int(num)
        except ValueError:
            raise AlignError(f"{path}:{n}: expected a bead number, got {num!r}") from None
        prefix = key(prefix)
        if not prefix:
            return k
        cands = [b for z, bs in starts.items() if z.startswith(prefix) for b in bs]
        if not cands:
            raise AlignError(f"{path}:{n}: no bead of {pair.stem} starts with {prefix!r}")
        return min(cands, key=lambda b: abs(b - k))

    return locate
