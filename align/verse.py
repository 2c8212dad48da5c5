"""Verse-level scoring for Bible-style gold standards.

The Bible gold of the aligner-evaluation benchmarks is given per verse, not
per sentence: a verse split into two sentences on one side is one gold bead.
An aligner that (correctly) pairs the two sentences separately would be
counted wrong by strict scoring, so consecutive predicted beads that fall in
the same verse are merged first, then scored strictly. Each sentence's verse
is listed one per line (``Gen:1:2``) in ``src.verse`` / ``tgt.verse``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from .model import AlignError

BeadPair = tuple[tuple[int, ...], tuple[int, ...]]


def read_verses(path: str | Path, limit: int | None = None) -> list[str]:
    """Verse label of each sentence, in order (the first ``limit`` if given)."""
    path = Path(path)
    try:
        labels = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AlignError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return labels[:limit] if limit is not None else labels


def bead_verse(bead: BeadPair, src_verse: Sequence[str], tgt_verse: Sequence[str]) -> str | None:
    """The one verse a bead lies in, or None if it spans verses or its sides disagree.

    An empty side takes no part: a lone sentence belongs to its own verse.
    """
    try:
        src = {src_verse[i] for i in bead[0]}
        tgt = {tgt_verse[j] for j in bead[1]}
    except IndexError:
        raise AlignError(f"bead {list(bead[0])}:{list(bead[1])} refers to a sentence with no verse label") from None
    both = src | tgt
    if len(src) > 1 or len(tgt) > 1 or len(both) != 1:
        return None
    return next(iter(both))


def merge_by_verse(beads: Iterable[BeadPair], src_verse: Sequence[str], tgt_verse: Sequence[str]) -> list[BeadPair]:
    """Join runs of consecutive beads that lie in the same single verse."""
    merged: list[BeadPair] = []
    previous: str | None = None
    for bead in beads:
        verse = bead_verse(bead, src_verse, tgt_verse)
        if verse is not None and verse == previous:
            src, tgt = merged[-1]
            merged[-1] = (src + tuple(bead[0]), tgt + tuple(bead[1]))
        else:
            merged.append((tuple(bead[0]), tuple(bead[1])))
        previous = verse
    return merged
