"""Scoring the raw-text path against presplit gold (``evaluate.project_beads``)."""

from pathlib import Path

import pytest

from align.evaluate import locate_lines, project_beads, read_align, score
from align.read import read_document
from align.segment import segment

MAC = Path(__file__).resolve().parents[2] / "shared" / "bench" / "mac-dev"
needs_mac = pytest.mark.skipif(not MAC.is_dir(), reason=f"benchmark data not found at {MAC} (only in the project's workspace)")


@needs_mac
def test_gold_sentences_are_found_in_the_raw_text_in_order():
    doc = read_document(MAC / "raw" / "004.zh.txt", "zh")
    lines = (MAC / "src" / "004").read_text(encoding="utf-8").splitlines()
    spans = locate_lines(doc.text, lines)
    assert all(s is not None for s, line in zip(spans, lines) if line.strip())
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert [doc.text[s:e] for s, e in spans] == [line.strip() for line in lines]


@needs_mac
def test_projection_of_our_segments_onto_gold():
    """Document 004: our splitter keeps some gold sentences together (a speech and
    the quotation after its colon). Gold beads re-expressed over our segments and
    projected back are exactly gold where we cut as gold does; where we merged two
    gold sentences, they land in one bead."""
    gold = read_align(MAC / "gold" / "004.align")
    docs = {lang: read_document(MAC / "raw" / f"004.{lang}.txt", lang) for lang in ("zh", "en")}
    segs = {lang: segment(d) for lang, d in docs.items()}
    spans = {lang: [(s.start, s.end) for s in segs[lang]] for lang in segs}
    gold_spans = {lang: locate_lines(docs[lang].text, (MAC / side / "004").read_text(encoding="utf-8").splitlines())
                  for lang, side in (("zh", "src"), ("en", "tgt"))}

    def ours(lang: str, g: int) -> int:  # our segment holding a gold sentence's first character
        start = gold_spans[lang][g][0]
        return next(k for k, (s, e) in enumerate(spans[lang]) if s <= start < e)

    # gold beads over our segments: merged where one of our segments holds two gold sentences
    beads: list[tuple[set, set]] = []
    for src, tgt in gold:
        s, t = {ours("zh", g) for g in src}, {ours("en", g) for g in tgt}
        if beads and (s & beads[-1][0] or t & beads[-1][1]):
            beads[-1][0].update(s)
            beads[-1][1].update(t)
        else:
            beads.append((s, t))
    ours_beads = [(tuple(sorted(s)), tuple(sorted(t))) for s, t in beads]
    back = project_beads(ours_beads, spans["zh"], spans["en"], gold_spans["zh"], gold_spans["en"])
    result = score(back, gold)
    assert len(segs["zh"]) < sum(1 for line in (MAC / "src" / "004").read_text(encoding="utf-8").splitlines() if line.strip())
    assert 0.9 < result.f1 < 1.0  # the merged sentences cost a few beads, nothing else does
    assert sorted(g for b in back for g in b[0]) == sorted(g for b in gold for g in b[0])


def test_a_gold_sentence_we_cut_in_two_joins_the_bead_holding_most_of_it():
    text_src, text_tgt = "AAAA BB. CCC.", "xx. yy. zz."
    ours_src = [(0, 4), (5, 8), (9, 13)]  # we cut gold's first sentence "AAAA BB." after AAAA
    ours_tgt = [(0, 3), (4, 7), (8, 11)]
    gold_src = locate_lines(text_src, ["AAAA BB.", "CCC."])
    gold_tgt = locate_lines(text_tgt, ["xx.", "yy.", "zz."])
    beads = [((0,), (0,)), ((1,), (1,)), ((2,), (2,))]
    assert project_beads(beads, ours_src, ours_tgt, gold_src, gold_tgt) == [((0,), (0,)), ((), (1,)), ((1,), (2,))]
