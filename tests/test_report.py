"""The HTML report: highlights at the evidence words, safe escaping, filters that work in a real browser.

The PairResult is built here from the real Joint Statement texts split into
paragraphs by hand, so these tests do not depend on the segmenter, aligner or
audit being right.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from lxml import html as lxml_html

from align.model import Alignment, AlignError, Bead, Document, Finding, PairResult, Segment
from align.report import NO_COUNTERPART, render_report

try:
    from browser import browser_fixture
except ImportError:  # tests/ imported as a package
    from tests.browser import browser_fixture

ROOT = Path(__file__).resolve().parents[1]
ZH_PATH = ROOT / "texts" / "zh" / "joint-statement.txt"
EN_PATH = ROOT / "texts" / "en" / "joint-statement.txt"


# ------------------------------------------------------------------ test data


def _read(path: Path) -> str:
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path.read_text(encoding="utf-8")


def _paragraph_segments(text: str) -> tuple[tuple[Segment, ...], dict[int, int]]:
    """One segment per non-empty line; also line number (1-based) -> segment index."""
    segs, by_line = [], {}
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    for line_no, start in enumerate(line_starts, 1):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if text[start:end].strip():
            by_line[line_no] = len(segs)
            segs.append(Segment(len(segs), start, end, text[start:end], paragraph=len(segs)))
    return tuple(segs), by_line


def _span(text: str, seg: Segment, words: str, nth: int = 0) -> tuple[int, int]:
    """Offsets of the nth occurrence of ``words`` inside ``seg`` (asserting it is there)."""
    pos = seg.start - 1
    for _ in range(nth + 1):
        pos = text.find(words, pos + 1, seg.end)
        assert pos >= 0, f"{words!r} not in segment {seg.index}"
    return (pos, pos + len(words))


# (zh lines, en lines, score) — paragraphs by line number in the real files.
BEADS = [
    ((1,), (1, 3), 0.93),
    ((3,), (5,), 0.88),
    ((5,), (7,), 0.90),
    ((7,), (9,), 0.41),  # "—" (OCR for 一) vs "One"
    ((9,), (11, 13), 0.72),  # English paragraph broken by a page break
    ((11,), (15,), 0.95),
    ((30,), (), 0.20),  # 1-0
    ((), (33,), 0.20),  # 0-1
    ((44,), (49,), 0.81),
    ((126,), (135,), 0.77),
    ((220,), (235,), 0.62),
    ((234,), (249,), 0.55),
    ((236,), (251,), 0.45),
]
LOW = {3, 6, 7, 12}  # beads under the default low_score of 0.5


def build_pair() -> PairResult:
    zh_text, en_text = _read(ZH_PATH), _read(EN_PATH)
    zh_segs, zh_line = _paragraph_segments(zh_text)
    en_segs, en_line = _paragraph_segments(en_text)
    beads = tuple(
        Bead(tuple(zh_line[n] for n in zs), tuple(en_line[n] for n in es), score, ("low",) if score < 0.5 else ())
        for zs, es, score in BEADS
    )
    zs = lambda line: zh_segs[zh_line[line]]  # noqa: E731
    es = lambda line: en_segs[en_line[line]]  # noqa: E731

    def f(kind, mqm, sev, bead, src, tgt, msg, score=0.9):
        return Finding(kind, mqm, sev, bead, tuple(src), tuple(tgt),
                       " … ".join(zh_text[a:b] for a, b in src), " … ".join(en_text[a:b] for a, b in tgt), score, msg)

    ee = "European-European Economic Union"
    findings = (
        f("entity", "Accuracy/Mistranslation", "major", 8,
          [_span(zh_text, zs(44), "欧亚经济联盟", 1)], [_span(en_text, es(49), ee)],
          "欧亚经济联盟 is the Eurasian Economic Union"),
        f("inconsistency", "Terminology/Inconsistent use", "minor", 8,
          [_span(zh_text, zs(44), "欧亚经济联盟", 0), _span(zh_text, zs(44), "欧亚经济联盟", 1)],
          [_span(en_text, es(49), "Eurasian Economic Union"), _span(en_text, es(49), ee)],
          "the same term is translated two ways in one paragraph"),
        f("number", "Locale/Number format", "critical", 12,
          [_span(zh_text, zs(236), "二〇一九年六月五日")], [_span(en_text, es(251), "June 5, 2009")],
          "year 2019 became 2009"),
        f("entity", "Accuracy/Mistranslation", "major", 11,
          [_span(zh_text, zs(234), "弗·弗·普京")], [_span(en_text, es(249), "F. Fu Putin")],
          "initials of V. V. Putin transliterated as words"),
        f("omission", "Accuracy/Omission", "major", 6,
          [(zs(30).start, zs(30).end)], [], "heading 二 has no English counterpart"),
        f("addition", "Accuracy/Addition", "minor", 7,
          [], [(es(33).start, es(33).end)], "heading Two has no Chinese counterpart"),
        f("mistranslation", "Accuracy/Mistranslation", "minor", 4,
          [_span(zh_text, zs(9), "立足")],
          [(_span(en_text, es(11), "base")[0], _span(en_text, es(13), "themselves")[1])],
          "sentence split across a page break"),
        f("omission", "Accuracy/Omission", "major", 10,
          [_span(zh_text, zs(220), "就排雷等向叙提供协助")],
          [(_span(en_text, es(235), "Assistance")[0],) * 2],
          "assistance with demining is missing"),
        f("entity", "Accuracy/Mistranslation", "major", 9,
          [_span(zh_text, zs(126), "欧亚经济委员会"), _span(zh_text, zs(126), "欧亚经济联盟")],
          [_span(en_text, es(135), "Economic Commission for Europe and Asia"), _span(en_text, es(135), ee)],
          "Eurasian Economic Commission / Union mistranslated"),
        f("repetition", "Fluency/Grammar", "minor", 9,
          [], [_span(en_text, es(135), "European-European")], "repeated word artefact"),
    )
    return PairResult(
        stem="joint-statement",
        src=Document(zh_text, "zh", str(ZH_PATH)),
        tgt=Document(en_text, "en", str(EN_PATH)),
        src_segments=zh_segs,
        tgt_segments=en_segs,
        alignment=Alignment(beads, "zh", "en"),
        findings=findings,
    )


def build_hostile_pair() -> PairResult:
    """Markup-like text everywhere a user or an upstream stage could put it."""
    src = 'A <script>alert("x")</script> & B'
    tgt = "C </script><!--<script>window.__pwned=1</script> & D \u2028 E"
    seg_s = Segment(0, 0, len(src), src, 0)
    seg_t = Segment(0, 0, len(tgt), tgt, 0)
    finding = Finding(
        kind="<b>kind</b>", mqm="A&B", severity="major", bead=0,
        src_spans=((2, 10),), tgt_spans=((2, 11),), src_text=src[2:10], tgt_text=tgt[2:11],
        score=float("nan"), message="</script><img src=x onerror=alert(1)> & done",
        extra={"k": ("</script>", float("inf"))},
    )
    return PairResult(
        stem="<stem>", src=Document(src, "zh"), tgt=Document(tgt, "en"),
        src_segments=(seg_s,), tgt_segments=(seg_t,),
        alignment=Alignment((Bead((0,), (0,), 0.5, ("<flag>",)),), "zh", "en"),
        findings=(finding,),
    )


@pytest.fixture(scope="module")
def pair() -> PairResult:
    return build_pair()


@pytest.fixture(scope="module")
def page(pair) -> str:
    return render_report(pair)


@pytest.fixture(scope="module")
def tree(page):
    return lxml_html.fromstring(page)


def _marks_for(tree, fid: int, lang: str) -> list[str]:
    """Texts of the marks carrying finding ``fid`` in the ``lang`` column, in document order."""
    out = []
    for m in tree.xpath(f'//td[@lang="{lang}"]//mark'):
        if str(fid) in m.get("data-f", "").split():
            out.append(m.text_content())
    return out


# ------------------------------------------------------------------ unit tests


def test_highlights_sit_on_the_evidence_words(pair, tree):
    ee = "European-European Economic Union"
    assert _marks_for(tree, 0, "en") == [ee]
    assert _marks_for(tree, 0, "zh") == ["欧亚经济联盟"]
    assert _marks_for(tree, 2, "zh") == ["二〇一九年六月五日"]
    assert _marks_for(tree, 2, "en") == ["June 5, 2009"]
    assert _marks_for(tree, 3, "en") == ["F. Fu Putin"]
    # Every finding's marks, joined, are exactly its evidence (gaps between segments aside).
    for fid, f in enumerate(pair.findings):
        for lang, doc, spans in (("zh", pair.src, f.src_spans), ("en", pair.tgt, f.tgt_spans)):
            want = re.sub(r"\s+", "", "".join(doc.text[a:b] for a, b in sorted(spans)))
            assert re.sub(r"\s+", "", "".join(_marks_for(tree, fid, lang))) == want, (fid, lang)


def test_overlapping_findings_share_pieces(tree):
    bead9 = tree.get_element_by_id("b-9")
    pieces = [(m.text_content(), m.get("data-f")) for m in bead9.xpath('./td[@lang="en"]//mark')]
    assert ("European-European", "8 9") in pieces  # entity + repetition
    assert (" Economic Union", "8") in pieces
    assert ("Economic Commission for Europe and Asia", "8") in pieces
    # The same words under two findings are one mark, not nested marks.
    bead8 = tree.get_element_by_id("b-8")
    assert not bead8.xpath(".//mark//mark")
    assert ("European-European Economic Union", "0 1") in [
        (m.text_content(), m.get("data-f")) for m in bead8.xpath(".//mark")
    ]


def test_span_across_a_segment_boundary_is_split_per_segment(tree):
    segs = tree.get_element_by_id("b-4").xpath('./td[@lang="en"]/span[@class="seg"]')
    assert len(segs) == 2
    assert [m.text_content() for m in segs[0].xpath(".//mark")] == ["base"]
    assert [m.text_content() for m in segs[1].xpath(".//mark")] == ["themselves"]


def test_insertion_point_marks_where_missing_words_belong(pair, tree):
    (ins,) = tree.xpath('//mark[contains(@class,"ins")]')
    assert ins.get("data-f") == "7" and ins.text_content() == ""
    assert (ins.tail or "").startswith("Assistance and willing")
    before = "".join(ins.xpath("preceding-sibling::text() | preceding-sibling::*//text()"))
    assert before.endswith("urgency of Syria's reconstruction. ")


def test_unaligned_sides_say_no_counterpart(tree):
    one_zero = tree.get_element_by_id("b-6").xpath("./td")
    zero_one = tree.get_element_by_id("b-7").xpath("./td")
    assert one_zero[0].text_content() == "二" and one_zero[1].text_content() == NO_COUNTERPART
    assert zero_one[0].text_content() == NO_COUNTERPART and zero_one[1].text_content() == "Two"
    assert "1-0" in tree.get_element_by_id("b-6").xpath("./th")[0].text_content()


def test_bead_rows_show_number_type_score_and_low_confidence(pair, tree):
    rows = tree.xpath('//tr[contains(@class,"bead")]')
    assert len(rows) == len(pair.alignment.beads)
    for n, (row, bead) in enumerate(zip(rows, pair.alignment.beads)):
        meta = row.xpath("./th")[0]
        assert meta.xpath('./a[@class="bn"]')[0].text == str(n)
        assert meta.xpath('./span[@class="bt"]')[0].text == bead.kind
        assert f"{bead.score:.2f}" in meta.text_content()
        assert ("low" in row.get("class").split()) == (n in LOW)


def test_notes_and_list_give_kind_severity_mqm_message(pair, tree):
    for fid, f in enumerate(pair.findings):
        note = tree.get_element_by_id(f"fn-{fid}")
        assert note.xpath("ancestor::tr")[0].get("id") == f"b-{f.bead}"
        text = note.text_content()
        assert f.kind in text and f.severity in text and f.mqm in text and f.message in text
        item = tree.get_element_by_id(f"fl-{fid}")
        assert item.xpath('.//a[@class="goto"]')[0].get("href") == f"#b-{f.bead}"
        assert f.message in item.text_content()


def test_summary_counts_by_kind_and_severity(pair, tree):
    table = tree.xpath('//table[@class="counts"]')[0]
    severities = [th.text_content() for th in table.xpath("./thead/tr/th")[1:-1]]
    assert severities == ["critical", "major", "minor"]
    counts = Counter((f.kind, f.severity) for f in pair.findings)
    for row in table.xpath("./tbody/tr"):
        kind = row.xpath("./th")[0].text_content()
        cells = [td.text_content() for td in row.xpath("./td")]
        assert cells[:-1] == [str(counts[(kind, s)] or "") for s in severities]
        assert cells[-1] == str(sum(counts[(kind, s)] for s in severities))
    assert {r.xpath("./th")[0].text_content() for r in table.xpath("./tbody/tr")} == {k for k, _ in counts}


def test_data_json_is_parseable_and_matches_the_model(pair, tree):
    data = json.loads(tree.get_element_by_id("report-data").text)
    assert len(data["beads"]) == len(pair.alignment.beads)
    assert [b["kind"] for b in data["beads"]] == [b.kind for b in pair.alignment.beads]
    for got, f in zip(data["findings"], pair.findings):
        assert got["src_spans"] == [list(s) for s in f.src_spans]
        assert got["tgt_spans"] == [list(s) for s in f.tgt_spans]
        assert got["message"] == f.message and got["severity"] == f.severity


def test_plots_are_inline_svg_with_low_beads_marked(pair, tree):
    path = tree.xpath('//figure[contains(@class,"plot-path")]/svg')[0]
    points = path.xpath('.//polyline[@class="path"]')[0].get("points").split()
    assert len(points) == len(pair.alignment.beads) + 1
    # The path ends at (all source, all target) segments in the beads: top-right corner.
    xs = [float(p.split(",")[0]) for p in points]
    ys = [float(p.split(",")[1]) for p in points]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)
    linked = {int(a.get("data-bead")) for a in path.xpath(".//a")}
    assert linked == LOW
    conf = tree.xpath('//figure[contains(@class,"plot-conf")]/svg')[0]
    assert {int(a.get("data-bead")) for a in conf.xpath(".//a")} == LOW
    assert len(conf.xpath('.//polyline[@class="conf"]')[0].get("points").split()) == len(pair.alignment.beads)
    rug = {round(float(line.get("x1")), 1) for line in conf.xpath('.//line[@class="rug"]')}
    assert len(rug) == len({f.bead for f in pair.findings})


def test_page_is_self_contained(page):
    assert not re.search(r"""\ssrc\s*=""", page)  # no external images or scripts
    assert "@import" not in page and "url(" not in page
    hrefs = re.findall(r"""\shref="([^"]*)\"""", page)
    assert hrefs and all(h.startswith("#") for h in hrefs)
    assert "<link" not in page


def test_markup_in_text_is_escaped():
    bad = build_hostile_pair()
    page = render_report(bad)
    assert "<script>alert" not in page and "<img" not in page and "<!--<script>" not in page
    tree = lxml_html.fromstring(page)
    assert len(tree.xpath("//script")) == 2  # the data block and the page script, nothing injected
    row = tree.get_element_by_id("b-0")
    assert row.xpath('./td[@lang="zh"]')[0].text_content() == bad.src.text
    assert row.xpath('./td[@lang="en"]')[0].text_content() == bad.tgt.text
    assert [m.text_content() for m in row.xpath(".//mark")] == ['<script>', '</script>']
    assert bad.findings[0].message in tree.get_element_by_id("fn-0").text_content()
    assert "<stem>" in tree.xpath("//title")[0].text
    data = json.loads(tree.get_element_by_id("report-data").text)
    f = data["findings"][0]
    assert f["message"] == bad.findings[0].message and f["kind"] == "<b>kind</b>"
    assert f["score"] is None and f["extra"] == {"k": ["</script>", None]}
    assert "</" not in tree.get_element_by_id("report-data").text


def test_offsets_map_into_normalised_segment_text(pair):
    """A segmenter that collapsed the page break to one space still gets its highlight."""
    en = pair.tgt.text
    a = en.index("base\n\nthemselves")
    start = en.rfind("\n", 0, a) + 1
    end = en.index("\n", a + len("base\n\nthemselves"))
    seg = Segment(0, start, end, " ".join(en[start:end].split()), 0)
    zh = Segment(0, 0, 4, pair.src.text[:4], 0)
    f = Finding("mistranslation", "Accuracy/Mistranslation", "minor", 0, ((0, 2),),
                ((a, a + len("base\n\nthemselves")),), "", "", 0.5, "m")
    one = PairResult("x", pair.src, pair.tgt, (zh,), (seg,), Alignment((Bead((0,), (0,), 0.9),), "zh", "en"), (f,))
    tree = lxml_html.fromstring(render_report(one))
    assert _marks_for(tree, 0, "en") == ["base themselves"]
    assert _marks_for(tree, 0, "zh") == [pair.src.text[:2]]


def test_odd_spans_do_not_break_the_page(pair):
    """Out-of-range, reversed, gap-only and unknown-bead findings still render and are listed."""
    odd = (
        Finding("x", "m", "weird", 99, ((10**9, 10**9 + 5),), ((-5, 3),), "", "", float("inf"), "out of range"),
        Finding("x", "m", "minor", 0, ((5, 2),), (), "", "", 0.1, "reversed"),
        Finding("y", "m", "minor", 1, ((pair.src_segments[0].end, pair.src_segments[1].start),), (), "", "", 0.1, "gap"),
    )
    p = PairResult(pair.stem, pair.src, pair.tgt, pair.src_segments, pair.tgt_segments, pair.alignment, odd)
    tree = lxml_html.fromstring(render_report(p))
    assert [tree.get_element_by_id(f"fl-{i}") is not None for i in range(3)] == [True] * 3
    assert _marks_for(tree, 1, "zh") == [pair.src.text[2:5]]
    assert _marks_for(tree, 0, "en") == [pair.tgt.text[0:3]]
    assert "outside every segment" in tree.get_element_by_id("fl-2").text_content()
    assert "weird" in [th.text_content() for th in tree.xpath('//table[@class="counts"]/thead/tr/th')]


def test_empty_pair_renders():
    doc = Document("", "zh")
    p = PairResult("empty", doc, Document("", "en"), (), (), Alignment((), "zh", "en"))
    tree = lxml_html.fromstring(render_report(p))
    assert "No beads." in tree.text_content() and "No findings." in tree.text_content()


def test_bead_pointing_at_a_missing_segment_is_a_clear_error(pair):
    broken = Alignment(pair.alignment.beads + (Bead((9999,), (), 0.1),), "zh", "en")
    p = PairResult(pair.stem, pair.src, pair.tgt, pair.src_segments, pair.tgt_segments, broken, pair.findings)
    with pytest.raises(AlignError, match="bead 13 refers to source segment 9999"):
        render_report(p)


def build_large_pair(n_beads: int = 3000) -> PairResult:
    """The real sentences repeated to book length (~3,000 sentence beads), a finding on every 7th bead."""
    zh_text, en_text = _read(ZH_PATH), _read(EN_PATH)
    zh_sents = [x for x in re.split(r"(?<=[。；！？])|\n+", zh_text) if x.strip()]
    en_sents = [x for x in re.split(r"(?<=[.;!?])\s+|\n+", en_text) if x.strip()]
    zh_segs, en_segs, beads, findings = [], [], [], []
    zh_parts, en_parts, zpos, epos = [], [], 0, 0
    for n in range(n_beads):
        z, e = zh_sents[n % len(zh_sents)], en_sents[n % len(en_sents)]
        zh_segs.append(Segment(n, zpos, zpos + len(z), z, n))
        en_segs.append(Segment(n, epos, epos + len(e), e, n))
        zh_parts.append(z)
        en_parts.append(e)
        zpos += len(z) + 1
        epos += len(e) + 1
        beads.append(Bead((n,), (n,), (n * 37 % 100) / 100))
        if n % 7 == 0:
            findings.append(Finding(("entity", "omission", "number")[n % 3], "Accuracy/Mistranslation",
                                    ("critical", "major", "minor")[n % 3], n,
                                    ((zh_segs[-1].start, zh_segs[-1].start + min(2, len(z))),),
                                    ((en_segs[-1].start, en_segs[-1].start + min(5, len(e))),), z[:2], e[:5], 0.5, "msg"))
    return PairResult("big", Document("\n".join(zh_parts), "zh"), Document("\n".join(en_parts), "en"),
                      tuple(zh_segs), tuple(en_segs), Alignment(tuple(beads), "zh", "en"), tuple(findings))


def test_3000_bead_document_renders_quickly():
    big = build_large_pair()
    t0 = time.perf_counter()
    page = render_report(big)
    elapsed = time.perf_counter() - t0
    assert page.count('<tr id="b-') == 3000
    assert page.count('<mark class="hl"') == 2 * len(big.findings)
    assert elapsed < 5, f"render took {elapsed:.2f} s"


# ------------------------------------------------------------ headless browser

browser = browser_fixture()

_NONE_BG = ("rgba(0, 0, 0, 0)", "transparent")


def _mark_state(browser, fid: int) -> list[tuple[bool, str]]:
    """(highlighted?, background colour) of every mark carrying finding ``fid``."""
    return browser.js(
        """var fid = String(arguments[0]);
           return [].slice.call(document.querySelectorAll('mark.hl')).filter(function (m) {
             return m.getAttribute('data-f').split(' ').indexOf(fid) >= 0;
           }).map(function (m) {
             return [!m.classList.contains('off'), getComputedStyle(m).backgroundColor];
           });""",
        fid,
    )


def _click(browser, selector: str) -> None:
    """A real click, as a user would, on an element that must be visible."""
    browser.driver.find_element("css selector", selector).click()


@pytest.fixture(scope="module")
def loaded(browser, page):
    browser.open_html(page, "joint-statement.report.html")
    assert browser.js("return document.documentElement.getAttribute('data-ready')") == "1"
    return browser


def test_browser_page_loads_clean_and_offline(loaded):
    assert loaded.severe_logs() == []
    assert loaded.js("return performance.getEntriesByType('resource').length") == 0
    assert loaded.js("return document.querySelectorAll('svg polyline.path, svg polyline.conf').length") == 2
    assert loaded.js("return document.querySelectorAll('figure.plot-path svg circle.lowpt').length") == len(LOW)
    width = loaded.js("return document.querySelector('figure.plot-conf svg').getBoundingClientRect().width")
    assert width > 300


def test_browser_shows_highlights(loaded, pair):
    for fid in range(len(pair.findings)):
        states = _mark_state(loaded, fid)
        assert states, fid
        assert all(on and bg not in _NONE_BG for on, bg in states), (fid, states)
    status = loaded.js("return document.getElementById('status').textContent")
    assert status == f"Showing {len(pair.findings)} of {len(pair.findings)} findings, 13 of 13 beads"


def test_browser_kind_filter_hides_and_restores(loaded, pair):
    entity = [i for i, f in enumerate(pair.findings) if f.kind == "entity"]
    _click(loaded, 'input[data-filter="kind"][value="entity"]')
    for fid in entity:
        assert not loaded.driver.find_element("id", f"fl-{fid}").is_displayed()
        assert loaded.js("return document.getElementById(arguments[0]).hidden", f"fn-{fid}") is True
    # Finding 3 is entity only: its mark goes plain. Marks shared with another kind stay lit.
    assert [(on, bg in _NONE_BG) for on, bg in _mark_state(loaded, 3)] == [(False, True)] * 2
    shared = loaded.js("return document.querySelector('#b-8 mark[data-f=\"0 1\"]').getAttribute('data-sev')")
    assert shared == "minor"  # only the minor inconsistency is left on it
    assert loaded.driver.find_element("id", "fl-2").is_displayed()
    _click(loaded, 'input[data-filter="kind"][value="entity"]')
    for fid in entity:
        assert loaded.driver.find_element("id", f"fl-{fid}").is_displayed()
        assert all(on and bg not in _NONE_BG for on, bg in _mark_state(loaded, fid))
    assert loaded.js("return document.querySelector('#b-8 mark[data-f=\"0 1\"]').getAttribute('data-sev')") == "major"
    assert loaded.severe_logs() == []


def test_browser_severity_filter_hides_and_restores(loaded, pair):
    minor = [i for i, f in enumerate(pair.findings) if f.severity == "minor"]
    _click(loaded, 'input[data-filter="severity"][value="minor"]')
    for fid in minor:
        assert not loaded.driver.find_element("id", f"fl-{fid}").is_displayed()
        assert not loaded.driver.find_element("id", f"fn-{fid}").is_displayed()
        assert loaded.js("return document.getElementById(arguments[0]).hidden", f"fn-{fid}") is True
    assert all(not on and bg in _NONE_BG for on, bg in _mark_state(loaded, 6))  # "base" / "themselves"
    assert loaded.driver.find_element("id", "fl-2").is_displayed()
    _click(loaded, 'input[data-filter="severity"][value="minor"]')
    for fid in minor:
        assert loaded.driver.find_element("id", f"fn-{fid}").is_displayed()
        assert all(on for on, _ in _mark_state(loaded, fid))


def test_browser_only_beads_with_findings(loaded, pair):
    with_findings = {f.bead for f in pair.findings}
    _click(loaded, "#only-findings")
    shown = set(loaded.js("return [].slice.call(document.querySelectorAll('tr.bead')).filter("
                          "function (r) { return r.offsetParent !== null; }).map(function (r) { return +r.id.slice(2); })"))
    assert shown == with_findings
    _click(loaded, 'input[data-filter="severity"][value="critical"]')  # bead 12's only finding is critical
    assert not loaded.driver.find_element("id", "b-12").is_displayed()
    _click(loaded, 'input[data-filter="severity"][value="critical"]')
    _click(loaded, "#only-findings")
    assert loaded.js("return document.querySelectorAll('tr.bead[hidden]').length") == 0


def test_browser_clicking_a_finding_scrolls_to_its_bead(loaded):
    loaded.js("window.scrollTo(0, 0)")
    _click(loaded, "#fl-2 a.goto")
    in_view = ("var r = document.getElementById(arguments[0]).getBoundingClientRect();"
               "return r.top >= 0 && r.bottom <= innerHeight;")
    loaded.wait_until(in_view, "b-12")
    assert loaded.js("return document.activeElement.id") == "b-12"
    assert loaded.severe_logs() == []


def test_browser_opening_a_bead_link_shows_that_bead(browser, page):
    path = browser.open_html(page, "anchor.html")
    browser.driver.get(path.as_uri() + "#b-10")
    in_view = ("var r = document.getElementById('b-10').getBoundingClientRect();"
               "return r.top < innerHeight && r.bottom > 0;")
    browser.wait_until(in_view)


def test_browser_hostile_text_stays_text(browser):
    browser.open_html(render_report(build_hostile_pair()), "hostile.html")
    assert browser.js("return window.__pwned === undefined && document.querySelectorAll('img').length === 0")
    assert browser.js("return document.querySelector('#b-0 td[lang=en]').textContent") == build_hostile_pair().tgt.text
    assert browser.severe_logs() == []


def test_browser_3000_beads_stay_fast(browser):
    big = build_large_pair()
    t0 = time.perf_counter()
    browser.open_html(render_report(big), "big.html")
    load = time.perf_counter() - t0
    toggle_ms = browser.js(
        "var b = document.querySelector('input[data-filter=kind][value=entity]'), t = performance.now();"
        "b.click(); document.body.offsetHeight; b.click(); document.body.offsetHeight;"
        "return performance.now() - t;"
    )
    assert browser.severe_logs() == []
    assert load < 15, f"render + load took {load:.1f} s"
    assert toggle_ms < 2000, f"two filter toggles took {toggle_ms:.0f} ms"
