"""Exporters on a hand-checked alignment of the opening of the Joint Statement.

The alignment is built here (paragraph-level, checked by reading both texts)
so these tests do not depend on the segmenter or aligner.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from align import fsio
from align.export import (
    EXPORTERS,
    ExportOptions,
    export_warnings,
    read_beads_jsonl,
    render_outputs,
    sanitize_xml_text,
    write_outputs,
)
from align.export.jsonl import JsonlExporter
from align.model import AlignError, Alignment, Bead, Document, Finding, PairResult, Segment

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DTD_PATH = SHARED / "spec" / "tmx14.dtd"
MAC_GOLD = SHARED / "bench" / "mac-dev" / "gold" / "001.align"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Paragraph beads for zh paragraphs 0-12 / en paragraphs 0-12 of the texts.
# zh 0 (title) = en 0 + 1; zh 4 = en 5 + 6 (the English splits mid-sentence);
# zh 8 (four principles) + zh 9 (the fifth, "——不结盟") = en 10 (all five);
# zh 12 is translated by en 13, which lies outside the English excerpt: 1-0.
BEADS = [
    ((0,), (0, 1)),
    ((1,), (2,)),
    ((2,), (3,)),
    ((3,), (4,)),
    ((4,), (5, 6)),
    ((5,), (7,)),
    ((6,), (8,)),
    ((7,), (9,)),
    ((8, 9), (10,)),
    ((10,), (11,)),
    ((11,), (12,)),
    ((12,), ()),
]
N_SRC, N_TGT = 13, 13


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each block of non-blank lines, trimmed."""
    spans = []
    for m in re.finditer(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*", text):
        s, e = m.span()
        while text[s].isspace():
            s += 1
        while text[e - 1].isspace():
            e -= 1
        spans.append((s, e))
    return spans


def excerpt(lang: str, n: int) -> tuple[Document, tuple[Segment, ...]]:
    path = REPO / "texts" / lang / "joint-statement.txt"
    full = path.read_text(encoding="utf-8")
    spans = paragraphs(full)[:n]
    text = full[: spans[-1][1] + 1]  # a real prefix of the file, ending after paragraph n-1
    doc = Document(text=text, lang=lang, path=str(path))
    segs = tuple(Segment(i, s, e, text[s:e], paragraph=i) for i, (s, e) in enumerate(spans))
    return doc, segs


def make_pair(zh: Document | None = None, zh_segs=None, en: Document | None = None, en_segs=None,
              beads=None, findings=()) -> PairResult:
    if zh is None:
        zh, zh_segs = excerpt("zh", N_SRC)
    if en is None:
        en, en_segs = excerpt("en", N_TGT)
    beads = beads if beads is not None else BEADS
    alignment = Alignment(
        tuple(
            Bead(s, t, score=round(0.5 + 0.04 * i, 3), flags=("unaligned",) if not t else ())
            for i, (s, t) in enumerate(beads)
        ),
        "zh",
        "en",
    )
    return PairResult("joint-statement", zh, en, tuple(zh_segs), tuple(en_segs), alignment, tuple(findings))


@pytest.fixture(scope="module")
def pair() -> PairResult:
    zh, zh_segs = excerpt("zh", N_SRC)
    en, en_segs = excerpt("en", N_TGT)
    # Guard the hand alignment against edits of the texts.
    assert [s.text for s in zh_segs[3:4] + zh_segs[11:12]] == ["—", "二"]
    assert [s.text for s in en_segs[4:5] + en_segs[12:13]] == ["One", "Two"]
    assert en_segs[10].text.count("\n- ") == 4 and zh_segs[8].text.count("\n- ") == 3
    assert zh_segs[9].text.startswith("——不结盟") and en_segs[6].text.startswith("themselves on")
    # A real error of the English: "2019 年是两国建交 70 周年" lost its 70.
    z = zh.text.index("70 周年")
    e = en.text.index("2019 anniversary") + len("2019 ")
    seventy = Finding(
        kind="number", mqm="Accuracy/Mistranslation", severity="major", bead=4,
        src_spans=((z, z + 2),), tgt_spans=((e, e + len("anniversary")),),
        src_text="70", tgt_text="anniversary", score=0.93,
        message="the number 70 has no counterpart in the translation",
        extra={"number": 70, "kind": "should not overwrite", "tags": ("a", "b")},
    )
    untranslated = Finding(
        kind="omission", mqm="Accuracy/Omission", severity="critical", bead=11,
        src_spans=((zh_segs[12].start, zh_segs[12].end),), tgt_spans=(),
        src_text=zh_segs[12].text, tgt_text="", score=1.0, message="paragraph not translated",
    )
    return make_pair(zh, zh_segs, en, en_segs, findings=(seventy, untranslated))


def bead_text(segs, lang):
    return ("" if lang == "zh" else " ").join(s.text for s in segs)


def expected_units(p: PairResult) -> list[tuple[int, str, str]]:
    out = []
    for n, b in enumerate(p.alignment.beads):
        if b.src and b.tgt:
            out.append((n, bead_text([p.src_segments[i] for i in b.src], "zh"),
                        bead_text([p.tgt_segments[j] for j in b.tgt], "en")))
    return out


def tmx_units(data: bytes) -> list[tuple[int, str, str, str, str]]:
    root = etree.fromstring(data, parser=etree.XMLParser(huge_tree=True))
    units = []
    for tu in root.iter("tu"):
        props = {p.get("type"): p.text for p in tu.findall("prop")}
        (a, b) = tu.findall("tuv")
        units.append((int(props["x-bead"]), a.get(XML_LANG), a.findtext("seg"), b.get(XML_LANG), b.findtext("seg")))
    return units


needs_dtd = pytest.mark.skipif(
    not DTD_PATH.exists(), reason=f"TMX 1.4 DTD not found at {DTD_PATH} (shared data absent)"
)


@functools.lru_cache(maxsize=1)
def dtd() -> etree.DTD | None:
    return etree.DTD(str(DTD_PATH)) if DTD_PATH.exists() else None


def assert_valid_tmx(data: bytes) -> None:
    """Well-formed always; valid against the TMX 1.4 DTD when shared/ is present."""
    root = etree.fromstring(data, parser=etree.XMLParser(huge_tree=True))
    the_dtd = dtd()
    if the_dtd is not None:
        assert the_dtd.validate(root), the_dtd.error_log.filter_from_errors()


# ------------------------------------------------------------------ TMX


@needs_dtd
def test_tmx_validates_and_has_required_header(pair):
    data = EXPORTERS["tmx"].render(pair, ExportOptions())
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert_valid_tmx(data)
    root = etree.fromstring(data)
    assert root.tag == "tmx" and root.get("version") == "1.4"
    header = root.find("header")
    assert header.get("creationtool") == "align"
    assert re.fullmatch(r"\d+(\.\w+)*", header.get("creationtoolversion"))
    assert {k: header.get(k) for k in ("segtype", "o-tmf", "adminlang", "srclang", "datatype")} == {
        "segtype": "sentence", "o-tmf": "align", "adminlang": "en", "srclang": "zh-CN", "datatype": "plaintext",
    }


def test_tmx_units_texts_props_and_no_unaligned(pair):
    data = EXPORTERS["tmx"].render(pair, ExportOptions())
    units = tmx_units(data)
    expected = expected_units(pair)
    assert len(units) == len(expected) == 11
    assert [(n, s, t) for n, _, s, _, t in units] == expected
    assert {(a, b) for _, a, _, b, _ in units} == {("zh-CN", "en")}
    # The 1-0 bead (number 11, zh paragraph 12) has no <tu>, and no <seg> is empty.
    assert 11 not in [u[0] for u in units]
    root = etree.fromstring(data)
    assert all(seg.text and seg.text.strip() for seg in root.iter("seg"))
    # The 2-1 bead keeps both zh paragraphs, joined with no space.
    two_one = {u[0]: u for u in units}[8]
    assert two_one[2] == pair.src_segments[8].text + pair.src_segments[9].text
    tu = root.findall("body/tu")[8]
    props = {p.get("type"): p.text for p in tu.findall("prop")}
    assert props == {"x-bead": "8", "x-score": f"{pair.alignment.beads[8].score:.4f}",
                     "x-src-segments": "8,9", "x-tgt-segments": "10"}
    assert tu.findall("*")[-2:] == tu.findall("tuv")  # props come before tuvs


def test_tmx_flags_prop_only_when_flagged(pair):
    beads = list(pair.alignment.beads)
    beads[1] = replace(beads[1], flags=("length-ratio", "low-score"))
    p = replace(pair, alignment=replace(pair.alignment, beads=tuple(beads)))
    root = etree.fromstring(EXPORTERS["tmx"].render(p, ExportOptions()))
    flags = [tu.find("prop[@type='x-flags']") for tu in root.iter("tu")]
    assert flags[1].text == "length-ratio;low-score"
    assert all(f is None for i, f in enumerate(flags) if i != 1)


def test_tmx_read_back_by_translate_toolkit(pair):
    from translate.storage import tmx

    data = EXPORTERS["tmx"].render(pair, ExportOptions())
    store = tmx.tmxfile.parsestring(data)
    units = [u for u in store.units if not u.isheader()]
    expected = expected_units(pair)
    assert len(units) == len(expected)
    assert [(u.source, u.target) for u in units] == [(s, t) for _, s, t in expected]


def test_tmx_locale_options(pair):
    data = EXPORTERS["tmx"].render(pair, ExportOptions(src_locale="zh-Hans", tgt_locale="en-GB"))
    assert etree.fromstring(data).find("header").get("srclang") == "zh-Hans"
    assert {(a, b) for _, a, _, b, _ in tmx_units(data)} == {("zh-Hans", "en-GB")}


@needs_dtd
def test_tmx_forbidden_characters_removed_and_reported(pair):
    zh, en = pair.src, pair.tgt
    # Put forbidden characters into zh paragraph 1 and en paragraph 3.
    z1 = pair.src_segments[1]
    bad_zh = z1.text[:5] + "\x07\x00" + z1.text[5:10] + "\ufffe" + z1.text[10:]
    e3 = pair.tgt_segments[3]
    bad_en = e3.text[:3] + "\ud800" + e3.text[3:]
    zh2 = replace(zh, text=zh.text[: z1.start] + bad_zh + zh.text[z1.end:])
    en2 = replace(en, text=en.text[: e3.start] + bad_en + en.text[e3.end:])
    zh_segs, _ = resegment(zh2, N_SRC)
    en_segs, _ = resegment(en2, N_TGT)
    p = make_pair(zh2, zh_segs, en2, en_segs)
    assert zh_segs[1].text == bad_zh and en_segs[3].text == bad_en

    warnings = export_warnings(p, ["tmx"])
    assert len(warnings) == 2
    line = zh2.text.count("\n", 0, z1.start) + 1
    assert f"joint-statement.txt:{line}:6 (U+0007)" in warnings[0]
    assert f":{line}:7 (U+0000)" in warnings[0] and f":{line}:13 (U+FFFE)" in warnings[0]
    assert "bead 1" in warnings[0] and "(U+D800)" in warnings[1] and "bead 2" in warnings[1]

    data = EXPORTERS["tmx"].render(p, ExportOptions())
    assert_valid_tmx(data)
    units = {n: (s, t) for n, _, s, _, t in tmx_units(data)}
    assert units[1][0] == z1.text and units[2][1] == e3.text
    # Lossless formats keep them.
    jl = [json.loads(x) for x in render_outputs(p, ["jsonl"])[".jsonl"].decode("utf-8").splitlines()]
    assert jl[1]["zh"] == bad_zh and jl[2]["en"] == bad_en
    assert export_warnings(p, ["jsonl", "align", "audit"]) == []


def resegment(doc: Document, n: int):
    spans = paragraphs(doc.text)[:n]
    return tuple(Segment(i, s, e, doc.text[s:e], paragraph=i) for i, (s, e) in enumerate(spans)), spans


def tiny_pair(src_texts: list[str], tgt_texts: list[str], beads=None) -> PairResult:
    """Documents made of the given segments, one per line."""
    def doc(texts, lang):
        text, segs, pos = "", [], 0
        for i, t in enumerate(texts):
            segs.append(Segment(i, pos, pos + len(t), t, paragraph=i))
            text += t + "\n"
            pos = len(text)
        return Document(text, lang, path=f"tiny.{lang}"), tuple(segs)

    zh, zs = doc(src_texts, "zh")
    en, es = doc(tgt_texts, "en")
    beads = beads or [((i,), (i,)) for i in range(len(src_texts))]
    return make_pair(zh, zs, en, es, beads=beads)


def test_markup_characters_round_trip_everywhere():
    src = ["甲 < 乙 & 丙 ]]> 丁", "<seg>&amp;</seg>", '"引号", 逗号']
    tgt = ["A < B & C ]]> D", "]]]]><![CDATA[x]]>", '=HYPERLINK("x"), "quoted"']
    p = tiny_pair(src, tgt)
    out = render_outputs(p, ["tmx", "csv", "jsonl"])
    assert_valid_tmx(out[".tmx"])
    assert [(s, t) for _, _, s, _, t in tmx_units(out[".tmx"])] == list(zip(src, tgt))
    rows = list(csv.reader(io.StringIO(out[".csv"].decode("utf-8-sig"), newline="")))
    assert [(r[1], r[2]) for r in rows[1:]] == list(zip(src, tgt))
    recs = [json.loads(x) for x in out[".jsonl"].decode("utf-8").splitlines()]
    assert [(r["zh"], r["en"]) for r in recs] == list(zip(src, tgt))
    assert export_warnings(p, ["tmx", "csv"]) == []


def test_tmx_very_long_segment():
    long_zh = "中俄关系进入新时代。" * 120_000  # 1.2 M characters
    long_en = "Sino-Russian relations have entered a new era. " * 30_000
    p = tiny_pair([long_zh], [long_en])
    data = EXPORTERS["tmx"].render(p, ExportOptions())
    assert_valid_tmx(data)
    assert tmx_units(data)[0][2:5:2] == (long_zh, long_en)


def test_bead_left_out_when_only_forbidden_characters():
    p = tiny_pair(["\x01\x02", "正文"], ["text", "body"])
    assert [n for n, *_ in tmx_units(EXPORTERS["tmx"].render(p, ExportOptions()))] == [1]
    assert any("bead 0 left out" in w for w in export_warnings(p, ["tmx"]))


@needs_dtd
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            *[
                st.lists(
                    st.one_of(
                        st.text(st.characters(exclude_categories=()), max_size=12),
                        st.sampled_from(["]]>", "<", "&", "\x00", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff", "\r\n", " "]),
                    ),
                    max_size=5,
                ).map("".join)
            ]
            * 2
        ),
        min_size=1,
        max_size=6,
    )
)
def test_tmx_random_unicode_is_always_valid(pairs):
    p = tiny_pair([a for a, _ in pairs], [b for _, b in pairs])
    data = EXPORTERS["tmx"].render(p, ExportOptions())
    assert_valid_tmx(data)
    got = tmx_units(data)
    expected = [
        (n, sanitize_xml_text(a)[0], sanitize_xml_text(b)[0])
        for n, (a, b) in enumerate(pairs)
        if sanitize_xml_text(a)[0].strip() and sanitize_xml_text(b)[0].strip()
    ]
    # XML parsers normalise a literal CR; lxml writes it as &#13; so it survives.
    assert [(n, s, t) for n, _, s, _, t in got] == expected


def test_sanitize_xml_text_positions():
    assert sanitize_xml_text("a\x00b\tc\ud83d\ude00\U0001F600\uffff") == ("ab\tc\U0001F600", (1, 5, 6, 8))
    assert sanitize_xml_text("普通文本") == ("普通文本", ())


# ------------------------------------------------------------------ CSV


def test_csv_rfc4180_bom_crlf_all_beads(pair):
    data = EXPORTERS["csv"].render(pair, ExportOptions())
    assert data.startswith(b"\xef\xbb\xbfbead,zh,en,score,flags\r\n")
    # Record ends are CRLF; the only bare LFs are inside quoted cells (list paragraphs).
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert text.count("\r\n") == len(rows) and "\r" not in text.replace("\r\n", "")
    assert rows[0] == ["bead", "zh", "en", "score", "flags"]
    body = rows[1:]
    assert len(body) == len(BEADS)  # unaligned bead included
    for n, (row, (s, t)) in enumerate(zip(body, BEADS)):
        assert row[0] == str(n)
        assert row[1] == bead_text([pair.src_segments[i] for i in s], "zh")
        assert row[2] == bead_text([pair.tgt_segments[j] for j in t], "en")
        assert float(row[3]) == pytest.approx(pair.alignment.beads[n].score, abs=1e-4)
    assert body[-1][2] == "" and body[-1][4] == "unaligned"
    assert "\n- " in body[6][2]  # a multi-line cell survived


def test_csv_keeps_formula_like_text_and_replaces_lone_surrogates():
    p = tiny_pair(["=1+2", "@SUM(A1)", "坏\udc80字"], ["-3", "+cmd|' /C calc'!A0", "bad"])
    data = EXPORTERS["csv"].render(p, ExportOptions())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r[1:3] for r in rows[1:]] == [["=1+2", "-3"], ["@SUM(A1)", "+cmd|' /C calc'!A0"], ["坏\ufffd字", "bad"]]
    (w,) = EXPORTERS["csv"].warnings(p, ExportOptions())
    assert "tiny.zh:3:2 (U+DC80)" in w


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="libreoffice not on PATH")
def test_csv_opens_in_libreoffice(pair, tmp_path):
    (path,) = write_outputs(pair, tmp_path, ["csv"])
    subprocess.run(
        ["libreoffice", "--headless", "--convert-to", "xlsx", "--outdir", str(tmp_path), str(path)],
        check=True, timeout=120, capture_output=True,
    )
    assert (tmp_path / "joint-statement.xlsx").stat().st_size > 0


# ------------------------------------------------------------------ JSONL


def test_jsonl_spans_index_original_texts(pair, tmp_path):
    (path,) = write_outputs(pair, tmp_path, ["jsonl"])
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(BEADS)
    recs = [json.loads(x) for x in lines[:-1]]
    assert list(recs[0]) == ["bead", "zh", "en", "zh_spans", "en_spans", "score", "flags", "section", "clause", "number"]
    assert "中华人民共和国" in lines[0]  # ensure_ascii=False
    for n, (rec, bead) in enumerate(zip(recs, pair.alignment.beads)):
        assert rec["bead"] == n
        for key, doc, idx, segs, sep in (("zh", pair.src, bead.src, pair.src_segments, ""),
                                         ("en", pair.tgt, bead.tgt, pair.tgt_segments, " ")):
            pieces = [doc.text[s:e] for s, e in rec[f"{key}_spans"]]
            assert pieces == [segs[i].text for i in idx]
            assert sep.join(pieces) == rec[key]
        assert rec["score"] == round(bead.score, 4) and rec["flags"] == list(bead.flags)
    assert recs[11]["en"] == "" and recs[11]["en_spans"] == []
    assert recs[0]["section"] == {"zh": None, "en": None} and recs[0]["number"] is None
    assert read_beads_jsonl(path) == recs


def test_jsonl_section_clause_number_from_first_segment_that_has_them(pair):
    zs = list(pair.src_segments)
    es = list(pair.tgt_segments)
    zs[9] = replace(zs[9], section="政治合作", clause="（五）", number=5)
    es[10] = replace(es[10], clause="(5)", number=6)
    p = replace(pair, src_segments=tuple(zs), tgt_segments=tuple(es))
    recs = [json.loads(x) for x in EXPORTERS["jsonl"].render(p, ExportOptions()).splitlines()]
    assert recs[8]["section"] == {"zh": "政治合作", "en": None}
    assert recs[8]["clause"] == {"zh": "（五）", "en": "(5)"}
    assert recs[8]["number"] == 5  # source side wins
    assert [r["number"] for r in recs].count(None) == len(recs) - 1


def test_jsonl_lone_surrogate_round_trips():
    p = tiny_pair(["坏\udc80字"], ["ok\ud800"])
    data = EXPORTERS["jsonl"].render(p, ExportOptions())
    text = data.decode("utf-8")  # still valid UTF-8
    rec = json.loads(text)
    assert (rec["zh"], rec["en"]) == ("坏\udc80字", "ok\ud800")


@pytest.mark.parametrize(
    "lines, problem",
    [
        (['{"bead": 0, "zh": "a", "en": "b", "zh_spans": [[0, 1]], "en_spans": [], "score": 1, "flags": []}', "{oops"], ":2: not a bead record"),
        (['{"bead": 0, "zh": "a", "en": "b", "zh_spans": [[2, 1]], "en_spans": [], "score": 1, "flags": []}'], "zh_spans"),
        (['{"bead": 0, "zh": "a", "zh_spans": [], "score": 1, "flags": []}'], "two sides"),
        (['{"bead": "0", "zh": "a", "en": "b", "zh_spans": [], "en_spans": [], "score": 1, "flags": []}'], '"bead"'),
        (['{"bead": 0, "zh": "a", "en": "b", "zh_spans": [], "en_spans": [], "score": NaN, "flags": []}'], "NaN"),
        (['{"bead": 0, "zh": "a", "en": "b", "zh_spans": [], "en_spans": [], "score": 1, "flags": "x"}'], '"flags"'),
        (['{"bead": 1, "zh": "a", "en": "b", "zh_spans": [], "en_spans": [], "score": 1, "flags": []}',
          '{"bead": 1, "zh": "a", "en": "b", "zh_spans": [], "en_spans": [], "score": 1, "flags": []}'], ":2:"),
        (["[1, 2]"], "JSON object"),
    ],
)
def test_read_beads_jsonl_rejects_malformed(tmp_path, lines, problem):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(AlignError) as err:
        read_beads_jsonl(path)
    assert str(path) in str(err.value) and problem in str(err.value)
    assert "\n" not in str(err.value)


def test_read_beads_jsonl_bad_bytes_and_missing_file(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"bead": 0, "zh": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(AlignError, match=r"latin1\.jsonl:1: not UTF-8"):
        read_beads_jsonl(path)
    with pytest.raises(AlignError, match="cannot read"):
        read_beads_jsonl(tmp_path / "missing.jsonl")


# ------------------------------------------------------------------ .align

ALIGN_LINE = re.compile(r"\[((?:\d+(?:, \d+)*)?)\]:\[((?:\d+(?:, \d+)*)?)\]")


def parse_align(text: str) -> list[tuple[list[int], list[int]]]:
    out = []
    for line in text.splitlines():
        m = ALIGN_LINE.fullmatch(line)
        assert m, line
        out.append(tuple([int(x) for x in g.split(", ")] if g else [] for g in m.groups()))
    return out


def test_align_format_matches_gold_style_and_covers_each_segment_once(pair):
    if MAC_GOLD.exists():  # our parser accepts the gold file itself, [] sides included
        assert len(parse_align(MAC_GOLD.read_text(encoding="utf-8"))) > 100
    data = EXPORTERS["align"].render(pair, ExportOptions())
    text = data.decode("ascii")
    assert text.endswith("\n") and text.splitlines()[0] == "[0]:[0, 1]" and text.splitlines()[-1] == "[12]:[]"
    beads = parse_align(text)
    assert [(tuple(s), tuple(t)) for s, t in beads] == BEADS
    assert [i for s, _ in beads for i in s] == list(range(N_SRC))
    assert [j for _, t in beads for j in t] == list(range(N_TGT))


# ------------------------------------------------------------------ audit


def test_audit_jsonl(pair):
    data = EXPORTERS["audit"].render(pair, ExportOptions())
    recs = [json.loads(x) for x in data.decode("utf-8").splitlines()]
    assert len(recs) == len(pair.findings) == 2
    first = recs[0]
    assert list(first)[:11] == ["finding", "bead", "kind", "mqm", "severity", "zh_spans", "en_spans",
                                "zh", "en", "score", "message"]
    assert first["kind"] == "number" and first["extra_kind"] == "should not overwrite"
    assert first["number"] == 70 and first["tags"] == ["a", "b"]
    for rec, f in zip(recs, pair.findings):
        assert rec["finding"] == recs.index(rec) and rec["bead"] == f.bead
        assert [pair.src.text[s:e] for s, e in rec["zh_spans"]] == [rec["zh"]]
        assert "".join(pair.tgt.text[s:e] for s, e in rec["en_spans"]) == rec["en"]
    assert pair.src.text[slice(*recs[0]["zh_spans"][0])] == "70"
    assert recs[1]["en_spans"] == [] and recs[1]["severity"] == "critical"


# ------------------------------------------------------------------ registry and writing


def test_unknown_format_lists_valid_names(pair, tmp_path):
    with pytest.raises(AlignError, match=r"unknown export format 'xliff'; valid formats: tmx, csv, jsonl, align, audit"):
        write_outputs(pair, tmp_path, ["tmx", "xliff"])
    assert list(tmp_path.iterdir()) == []


def test_write_outputs_all_formats(pair, tmp_path):
    paths = write_outputs(pair, tmp_path / "out", ["tmx", "csv", "jsonl", "align", "audit", "TMX"])
    assert [p.name for p in paths] == ["joint-statement.tmx", "joint-statement.csv", "joint-statement.jsonl",
                                       "joint-statement.align", "joint-statement.audit.jsonl"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)
    assert paths[0].read_bytes() == EXPORTERS["tmx"].render(pair, ExportOptions())


def test_write_outputs_rejects_bad_stem(pair, tmp_path):
    with pytest.raises(AlignError, match="plain file name"):
        write_outputs(replace(pair, stem="../x"), tmp_path, ["csv"])


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_and_keeps_mode(tmp_path):
    target = tmp_path / "a.txt"
    fsio.atomic_write(target, b"one")
    os.chmod(target, 0o640)
    fsio.atomic_write(target, b"two")
    assert target.read_bytes() == b"two" and (target.stat().st_mode & 0o777) == 0o640
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_atomic_write_failure_keeps_old_file(tmp_path, monkeypatch, broken):
    target = tmp_path / "a.tmx"
    target.write_bytes(b"old")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsio.os, broken, boom)
    with pytest.raises(AlignError, match=r"a\.tmx: cannot write: No space left on device"):
        fsio.atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["a.tmx"]


def test_atomic_write_non_os_error_propagates_and_cleans(tmp_path, monkeypatch):
    target = tmp_path / "a.csv"
    target.write_bytes(b"old")
    monkeypatch.setattr(fsio.os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        fsio.atomic_write(target, b"new")
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_write_all_atomic_changes_nothing_if_one_file_fails(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"old a")
    with pytest.raises(AlignError, match="cannot write"):
        fsio.write_all_atomic({a: b"new a", tmp_path / "missing-dir" / "b.txt": b"new b"})
    assert a.read_bytes() == b"old a" and leftovers(tmp_path) == []


def test_write_outputs_render_failure_leaves_previous_outputs(pair, tmp_path, monkeypatch):
    before = write_outputs(pair, tmp_path, ["tmx", "csv", "jsonl"])
    old = {p: p.read_bytes() for p in before}
    changed = replace(pair, alignment=replace(pair.alignment, beads=pair.alignment.beads[:-1]))

    def boom(self, pair, options):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(JsonlExporter, "render", boom)
    with pytest.raises(RuntimeError):
        write_outputs(changed, tmp_path, ["tmx", "csv", "jsonl"])
    assert {p: p.read_bytes() for p in before} == old
    assert leftovers(tmp_path) == []


def _hammer(args: tuple[str, int]) -> None:
    path, worker = args
    for i in range(40):
        fsio.atomic_write(Path(path), (f"{worker}:{i}\n" * 2000).encode())


def test_atomic_write_concurrent_processes(tmp_path):
    target = tmp_path / "shared.jsonl"
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_hammer, [(str(target), w) for w in range(4)]))
    content = target.read_text()
    lines = content.splitlines()
    assert len(lines) == 2000 and len(set(lines)) == 1  # one complete version, never a mix
    assert leftovers(tmp_path) == []


def test_options_default_locales(pair):
    assert ExportOptions().locales(pair) == ("zh-CN", "en")
    de_fr = replace(pair.alignment, src_lang="de", tgt_lang="fr")
    assert ExportOptions().locales(replace(pair, alignment=de_fr)) == ("de", "fr")
    assert ExportOptions(tgt_locale="en-US").locales(pair) == ("zh-CN", "en-US")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
