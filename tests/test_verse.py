"""Verse-level merging used to score the Bible benchmark (bench/bible.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from align.evaluate import read_align, score
from align.model import AlignError
from align.verse import bead_verse, merge_by_verse, read_verses

BIBLE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "bible-en-zh"


def test_merge_joins_only_runs_inside_one_verse():
    src = ["v1", "v1", "v2", "v3"]
    tgt = ["v1", "v2", "v2", "v3", "v3"]
    beads = [((0,), (0,)), ((1,), ()), ((2,), (1,)), ((), (2,)), ((3,), (3,)), ((), (4,))]
    assert merge_by_verse(beads, src, tgt) == [((0, 1), (0,)), ((2,), (1, 2)), ((3,), (3, 4))]
    # A bead whose sides lie in different verses, or that spans two, is never merged.
    assert bead_verse(((1,), (1,)), src, tgt) is None
    assert bead_verse(((1, 2), (1,)), src, tgt) is None
    assert merge_by_verse([((0,), (0,)), ((1, 2), (1,)), ((3,), (3,))], src, tgt) == [((0,), (0,)), ((1, 2), (1,)), ((3,), (3,))]
    with pytest.raises(AlignError, match="no verse label"):
        merge_by_verse([((9,), (0,))], src, tgt)


def test_bible_gold_is_verse_level_and_sentence_beads_merge_back():
    if not BIBLE.is_dir():
        pytest.skip(f"{BIBLE} not found (shared benchmark data)")
    gold = read_align(BIBLE / "gold" / "006.align")
    n_src = 1 + max(i for s, _ in gold for i in s)
    n_tgt = 1 + max(j for _, t in gold for j in t)
    sv, tv = read_verses(BIBLE / "src.verse", n_src), read_verses(BIBLE / "tgt.verse", n_tgt)
    assert merge_by_verse(gold, sv, tv) == gold
    # Split every gold bead into sentence-sized pieces, as a sentence aligner would
    # produce them: strict scoring punishes that, verse merging undoes it.
    pieces = []
    for s, t in gold:
        if len(s) == len(t):
            pieces += [((a,), (b,)) for a, b in zip(s, t)]
        elif len(s) > 1 and len(t) > 1:
            pieces += [((s[0],), (t[0],)), (s[1:], t[1:])]
        else:
            pieces.append((s, t))
    assert len(pieces) > len(gold) + 1000
    assert score(pieces, gold).f1 < 0.92
    assert score(merge_by_verse(pieces, sv, tv), gold).f1 > 0.99
