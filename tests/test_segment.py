"""Sentence segmentation on the Joint Statement, MAC-Dev and random text."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from align.model import AlignError, Document
from align.segment import MAX_SEGMENT_CHARS, parse_number_label, part_number, segment, segment_lines, word_spans

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
MAC = SHARED / "bench" / "mac-dev"

ZH_SECTIONS = ["政治合作", "安全合作", "务实合作", "人文交流", "国际协作"]
EN_SECTIONS = ["Political cooperation", "Security cooperation", "Practical cooperation", "Cultural exchanges",
               "International collaboration"]


def _text(lang: str) -> str:
    return (REPO / "texts" / lang / "joint-statement.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def zh():
    return segment(Document(_text("zh"), "zh"))


@pytest.fixture(scope="module")
def en():
    return segment(Document(_text("en"), "en"))


def _mac(*parts: str) -> Path:
    path = MAC.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"MAC-Dev benchmark not found at {path} (needs <repo>/../shared)")
    return path


def assert_covers(text: str, segs, allow_empty: bool = False) -> None:
    """Segments plus whitespace-only gaps rebuild the text exactly."""
    pos = 0
    rebuilt = []
    for i, s in enumerate(segs):
        assert s.index == i
        assert pos <= s.start <= s.end
        gap = text[pos:s.start]
        assert all(ch.isspace() for ch in gap), repr(gap)
        assert text[s.start:s.end] == s.text
        assert s.text == s.text.strip()
        assert allow_empty or s.text
        rebuilt += [gap, s.text]
        pos = s.end
    assert all(ch.isspace() for ch in text[pos:])
    assert "".join(rebuilt) + text[pos:] == text


def starting(segs, prefix: str):
    found = [s for s in segs if s.text.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


# --------------------------------------------------------------------------
# the Joint Statement


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_joint_statement_is_covered_exactly(lang):
    text = _text(lang)
    segs = segment(Document(text, lang))
    assert_covers(text, segs)
    paragraphs = [s.paragraph for s in segs]
    assert paragraphs == sorted(paragraphs) and paragraphs[0] == 0
    # paragraph = blank-line block: the last one is the date line
    assert paragraphs[-1] == len([b for b in text.split("\n\n") if b.strip()]) - 1


def test_crlf_and_cr_give_the_same_segments():
    text = _text("en")
    base = [(s.text, s.kind, s.paragraph, s.clause) for s in segment(Document(text, "en"))]
    for eol in ("\r\n", "\r"):
        other = text.replace("\n", eol)
        segs = segment(Document(other, "en"))
        assert_covers(other, segs)
        assert [(s.text.replace(eol, "\n"), s.kind, s.paragraph, s.clause) for s in segs] == base


def test_headings_and_parts(zh, en):
    zh_head = [s.text for s in zh if s.kind == "heading"]
    en_head = [s.text for s in en if s.kind == "heading"]
    assert zh_head == ["中华人民共和国和俄罗斯联邦关于发展 新时代全面战略协作伙伴关系的联合声明", "—", "二", "三", "四",
                       *ZH_SECTIONS]
    assert en_head == ["Development of the People's Republic of China and the Russian Federation",
                       "Joint Statement of the New Era Comprehensive Strategic Collaboration Partnership",
                       "One", "Two", "three", "Four", *EN_SECTIONS]
    for segs in (zh, en):
        parts = [(s.part, s.number) for s in segs if s.kind == "heading" and s.number is not None]
        assert [n for _, n in parts] == [1, 2, 3, 4]
        # titles come before any part
        assert segs[0].kind == "heading" and segs[0].part is None
    assert [p for p, _ in [(s.part, s.number) for s in zh if s.kind == "heading" and s.number]] == ["—", "二", "三", "四"]
    # the section under a part without sub-heading is the part itself
    assert starting(zh, "2019 年是两国建交 70 周年").section == "—"
    assert starting(en, "The 2019 anniversary").section == "One"
    assert starting(en, "The 2019 anniversary").part == "One"


def test_signature_lines(zh, en):
    assert [s.text for s in zh if s.kind == "signature"] == [
        "中华人民共和国主席 俄罗斯联邦总统", "习近平（签字） 弗·弗·普京（签字）", "二〇一九年六月五日于莫斯科"]
    assert [s.text for s in en if s.kind == "signature"] == [
        "President of the people's president", "Xi Jinping (signed) F. Fu Putin (signed)", "Moscow, June 5, 2009"]
    for segs in (zh, en):
        assert [s.kind for s in segs[-3:]] == ["signature"] * 3
        assert all(s.clause is None and s.section is None for s in segs[-3:])


def test_same_enumerated_clauses_in_both_languages(zh, en):
    def clauses(segs, sections):
        out = {}
        for name in sections:
            labelled = [s for s in segs if s.section == name and s.clause and s.text.startswith(s.clause)]
            out[name] = [s.number for s in labelled]
        return out

    zc, ec = clauses(zh, ZH_SECTIONS), clauses(en, EN_SECTIONS)
    sizes = [len(v) for v in zc.values()]
    assert sizes == [5, 7, 17, 11, 23]
    assert [len(v) for v in ec.values()] == sizes
    for numbers in list(zc.values()) + list(ec.values()):
        assert numbers == list(range(1, len(numbers) + 1))
    # all clauses sit under part four in both texts
    assert {s.part for s in zh if s.clause} == {"四"}
    assert {s.part for s in en if s.clause} == {"Four"}


def test_clause_sixteen_of_practical_cooperation(zh, en):
    z = starting(zh, "(十六) 积极推进“一带一路”建设")
    assert (z.part, z.section, z.clause, z.number) == ("四", "务实合作", "(十六)", 16)
    e = starting(en, "(16) Actively promote the construction")
    assert (e.part, e.section, e.clause, e.number) == ("Four", "Practical cooperation", "(16)", 16)
    # the unlabelled paragraphs that follow still belong to the clause
    for seg in (starting(zh, "确保 2018 年 5 月 17 日"), starting(zh, "双方高度评价 2019 年 4 月 25 日")):
        assert (seg.section, seg.clause, seg.number) == ("务实合作", "(十六)", 16)
        assert seg.paragraph > z.paragraph
    for seg in (starting(en, "Ensuring that the Agreement"), starting(en, "The two sides spoke highly of the second")):
        assert (seg.section, seg.clause, seg.number) == ("Practical cooperation", "(16)", 16)
    # the next label starts a new clause
    assert starting(zh, "(十七) 继续深化双边领事合作").number == 17
    assert starting(en, "(17) Continue to deepen bilateral consular").number == 17
    # (十六) of 国际协作 is a different clause with the same number
    other = starting(zh, "(十六) 坚持构建开放型亚太经济")
    assert (other.section, other.number) == ("国际协作", 16)


def test_roman_and_fullwidth_labels(zh, en):
    v = starting(en, "(V) Deepen the accounting")
    assert (v.clause, v.number, v.section) == ("(V)", 5, "Practical cooperation")
    assert starting(en, "(VI) Expanding the depth").number == 6
    one = starting(zh, "（一）通过年度互访")
    assert (one.clause, one.number, one.section) == ("（一）", 1, "政治合作")


def test_english_sentence_rules(en):
    medvedev = starting(en, "President Xi Jinping met with the Prime Minister")
    assert medvedev.text.endswith("De A. Medvedev.")
    assert starting(en, "At the invitation of President Putin").text.endswith("23rd St. Petersburg International Economic Forum.")
    syria = starting(en, "(18) Stress that")
    assert syria.text == "(18) Stress that the Syrian issue can only be resolved through political and diplomatic means."
    assert (syria.clause, syria.number, syria.section) == ("(18)", 18, "International collaboration")
    assert any("radio electronics, etc., and promote" in s.text for s in en)
    assert any("2018-2022 space cooperation program" in s.text for s in en)
    assert "Xi Jinping (signed) F. Fu Putin (signed)" in [s.text for s in en]


def test_list_items(zh, en):
    items_zh = [s.text for s in zh if s.kind == "item"]
    assert items_zh[:5] == ["- 高度的政治互信；", "- 完备的高层交往和各领域合作机制；", "- 内容丰富、具有战略意义的务实合作；",
                            "- 坚实的世代友好民意基础；", "- 密切有效的国际协调。"]
    assert "——不结盟、不对抗、不针对第三方。" in items_zh
    items_en = [s.text for s in en if s.kind == "item"]
    assert items_en[0] == "- a high degree of political mutual trust;"
    assert "- Non-aligned, non-confrontation, not targeting third parties." in items_en
    assert starting(en, "——In-depth integration").kind == "item"
    assert starting(en, "-- Watching each other").kind == "item"
    # list items are under part one / two, not inside any clause
    assert all(s.clause is None for s in zh + en if s.kind == "item")


def test_page_break_paragraphs_are_not_joined(en):
    base = starting(en, "The two sides draw on historical experience")
    nxt = en[base.index + 1]
    assert base.text.endswith("historical experience, base")
    assert nxt.text.startswith("themselves on the interests") and nxt.paragraph == base.paragraph + 1
    # a clause continues across such a break
    assert starting(en, "coordination, and promote economic and social").number == 14


def test_chinese_semicolon_only_splits_list_items(zh):
    clause = starting(zh, "(二) 在以下人文交流合作领域加快实现突破")
    assert "师生学术交流; 利用远程教育技术" in clause.text
    assert starting(zh, "——深度融通").text.endswith("文化更加互鉴相融；")


# --------------------------------------------------------------------------
# rules on small inputs


@pytest.mark.parametrize("text,expected", [
    ("Mr. Smith met Dr. Jones. It rained.", ["Mr. Smith met Dr. Jones.", "It rained."]),
    ("The U.S. economy grew 1.5 percent in 2018-2022. Prices fell.",
     ["The U.S. economy grew 1.5 percent in 2018-2022.", "Prices fell."]),
    ("See No. 5 and Art. 3 vs. Art. 4, e.g. this, i.e. that. Done!", ["See No. 5 and Art. 3 vs. Art. 4, e.g. this, i.e. that.", "Done!"]),
    ("On Jan. 5 D. A. Medvedev and V. V. Putin met. They talked.", ["On Jan. 5 D. A. Medvedev and V. V. Putin met.", "They talked."]),
    ("He said \"Stop.\" Then he left. (16) Next.", ["He said \"Stop.\"", "Then he left.", "(16) Next."]),
    ("So was I. At noon they left.", ["So was I.", "At noon they left."]),
    ("It's just that. . . what now? Nothing . . . Really.", ["It's just that. . . what now?", "Nothing . . .", "Really."]),
    ("Two\n\nSome text here. More text.", ["Two", "Some text here.", "More text."]),
    # dialogue (MAC-Dev): a broken-off utterance ends where its quotation closes, unless the sentence goes on
    ("replied Trinket. 'But I—' 'You what?' snapped the old eunuch.",
     ["replied Trinket.", "'But I—'", "'You what?' snapped the old eunuch."]),
    ("'But I—' he began.", ["'But I—' he began."]),
    ("“Hello.” “Goodbye,” she said.", ["“Hello.”", "“Goodbye,” she said."]),
])
def test_english_rules(text, expected):
    segs = segment(Document(text, "en"))
    assert_covers(text, segs)
    assert [s.text for s in segs] == expected


@pytest.mark.parametrize("lang,text,expected", [
    ("de", "Am 5. Mai kam er, z. B. mit ca. 600 Leuten. „Hallo.“ Er ging.",
     ["Am 5. Mai kam er, z. B. mit ca. 600 Leuten.", "„Hallo.“", "Er ging."]),
    ("fr", "M. Dupont est arrivé. «Bonjour.» Voir p. 5 et cf. la note.",
     ["M. Dupont est arrivé.", "«Bonjour.»", "Voir p. 5 et cf. la note."]),
    ("zh", "他说：“好。”然后走了。真的吗？是的！我叫…… 叫小玄子。", ["他说：“好。”", "然后走了。", "真的吗？", "是的！", "我叫…… 叫小玄子。"]),
    ("zh", "包括以下内容：（一）甲；（二）乙。", ["包括以下内容：", "（一）甲；", "（二）乙。"]),
    ("zh", "那男孩道：“呸，你不会摔交。 ”韦小宝道：“谁说不会？”", ["那男孩道：“呸，你不会摔交。 ”", "韦小宝道：“谁说不会？”"]),
    # dialogue (MAC-Dev): a broken-off utterance, and two quotations side by side
    ("zh", "袭人笑问道：“你为什么——”说到这里，把眼又往四下里瞧了瞧。",
     ["袭人笑问道：“你为什么——”", "说到这里，把眼又往四下里瞧了瞧。"]),
    ("zh", "大喇叭说：“咚——咚——”“猛捅——猛捅——”轿前有人模仿着喇叭声说。",
     ["大喇叭说：“咚——咚——”", "“猛捅——猛捅——”", "轿前有人模仿着喇叭声说。"]),
    ("zh", "“你——”，他说不下去了。", ["“你——”，他说不下去了。"]),
])
def test_other_language_rules(lang, text, expected):
    segs = segment(Document(text, lang))
    assert_covers(text, segs)
    assert [s.text for s in segs] == expected


def test_heading_glued_to_text_but_not_wrapped_prose():
    text = "Political cooperation\nSino-Russian relations will continue to be based on solid trust.\n"
    segs = segment(Document(text, "en"))
    assert [(s.kind, s.text) for s in segs] == [
        ("heading", "Political cooperation"),
        ("sentence", "Sino-Russian relations will continue to be based on solid trust.")]
    assert segs[1].section == "Political cooperation"
    wrapped = "The quick brown fox jumps over\nthe lazy dog. Then it\nran away."
    assert [s.text for s in segment(Document(wrapped, "en"))] == [
        "The quick brown fox jumps over\nthe lazy dog.", "Then it\nran away."]


def test_bad_input_is_a_clear_error():
    with pytest.raises(AlignError, match="not decoded text"):
        segment(Document(b"bytes", "en"))  # type: ignore[arg-type]


@pytest.mark.parametrize("label,value", [
    ("（十六）", 16), ("(十六)", 16), ("(V)", 5), ("(16)", 16), ("（１６）", 16), ("十六", 16), ("二十三", 23),
    ("一百零五", 105), ("两千零一十九", 2019), ("二〇一九", 2019), ("三千", 3000), ("iv", 4), ("MMXIX", 2019),
    ("three", 3), ("Twenty-one", 21), ("十十", None), ("VX", None), ("abc", None), ("", None), ("()", None),
])
def test_parse_number_label(label, value):
    assert parse_number_label(label) == value


@pytest.mark.parametrize("heading,lang,value", [
    ("—", "zh", 1), ("三", "zh", 3), ("three", "en", 3), ("Part II", "en", 2), ("第三部分", "zh", 3),
    ("—", "en", None), ("2019", "en", None), ("政治合作", "zh", None), ("Political cooperation", "en", None),
])
def test_part_number(heading, lang, value):
    assert part_number(heading, lang) == value


# --------------------------------------------------------------------------
# pre-split input


def test_segment_lines_on_mac_dev():
    path = _mac("src", "001")
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[-1] == ""  # the file ends with a newline: no extra segment for it
    segs = segment_lines(Document(text, "zh"))
    assert len(segs) == len(lines) - 1
    assert [s.text for s in segs] == [ln.strip() for ln in lines[:-1]]
    assert [s.paragraph for s in segs] == list(range(len(segs)))
    assert_covers(text, segs)
    # empty and blank lines stay, so gold indices stay valid; CRLF and CR too
    holed = "\n".join(lines[:3] + ["", "   "] + lines[3:])
    for eol in ("\n", "\r\n", "\r"):
        t = holed.replace("\n", eol)
        got = segment_lines(Document(t, "zh"))
        assert_covers(t, got, allow_empty=True)
        assert len(got) == len(segs) + 2
        assert got[3].text == got[4].text == "" and got[3].start == got[3].end
        assert got[4].start == got[3].start + len(eol)  # at the blank line's own position
        assert [s.text for s in got[5:]] == [s.text for s in segs[3:]]


def test_segment_lines_edges():
    assert segment_lines(Document("", "en")) == []
    assert [(s.start, s.end) for s in segment_lines(Document("\n", "en"))] == [(0, 0)]
    assert [s.text for s in segment_lines(Document("a\n\n", "en"))] == ["a", ""]
    assert [s.text for s in segment_lines(Document("a\r\nb", "en"))] == ["a", "b"]


def test_segmentation_matches_mac_dev_gold_boundaries():
    """Running text segmented by us against MAC-Dev's one-sentence-per-line gold."""
    def boundaries(pieces):
        out, n = set(), 0
        for p in pieces:
            n += sum(1 for ch in p if not ch.isspace())
            out.add(n)
        return out

    for lang, side in (("zh", "src"), ("en", "tgt")):
        hit = ours = gold = 0
        for doc in ("001", "002", "003", "004", "005", "006"):
            raw = _mac("raw", f"{doc}.{lang}.txt").read_text(encoding="utf-8")
            gold_lines = [ln for ln in _mac(side, doc).read_text(encoding="utf-8").split("\n") if ln.strip()]
            g = boundaries(gold_lines)
            s = boundaries(seg.text for seg in segment(Document(raw, lang)))
            assert max(g) == max(s)
            hit, ours, gold = hit + len(g & s), ours + len(s), gold + len(g)
        f1 = 2 * hit / (ours + gold)
        print(f"MAC-Dev {lang} boundary P={hit / ours:.3f} R={hit / gold:.3f} F1={f1:.3f}")
        assert f1 > 0.97


# --------------------------------------------------------------------------
# words


def test_word_spans_chinese():
    text = "中华人民共和国和俄罗斯联邦关于发展新时代全面战略协作伙伴关系的联合声明。2019 年，"
    spans = word_spans(text, "zh")
    words = [text[a:b] for a, b in spans]
    assert "中华人民共和国" in words and "2019" in words
    assert "。" not in words and "，" not in words and " " not in words
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert "".join(words) == "".join(ch for ch in text if ch.isalnum())


def test_word_spans_english():
    text = "Sino-Russian trade rose 1.5 percent in 2018-2022; the People's Republic (46/182)."
    words = [text[a:b] for a, b in word_spans(text, "en")]
    assert words == ["Sino-Russian", "trade", "rose", "1.5", "percent", "in", "2018-2022", "the", "People's",
                     "Republic", "46/182"]
    composed = "cafe\u0301 Straße"
    assert [composed[a:b] for a, b in word_spans(composed, "de")] == ["cafe\u0301", "Straße"]


def test_word_spans_on_joint_statement():
    for lang in ("zh", "en"):
        text = _text(lang)[:3000]
        spans = word_spans(text, lang)
        assert spans == sorted(spans)
        assert all(any(ch.isalnum() for ch in text[a:b]) for a, b in spans)
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))


# --------------------------------------------------------------------------
# properties and speed

_ALPHABET = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(list("。！？…；;:：.!?,，、()（）[]“”‘’\"'「」——-- \n\n\r\t\u3000\u200b\ufeff\x00\x0c\u2028"
                         "一二十六VI16１６abcAB中文\u0301\u05d0\u0627\U0001F600")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=400), st.sampled_from(["zh", "en", "de"]))
def test_property_segments_rebuild_any_text(text, lang):
    assert_covers(text, segment(Document(text, lang)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=400))
def test_property_segment_lines(text):
    segs = segment_lines(Document(text, "en"))
    assert_covers(text, segs, allow_empty=True)
    expected = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    if text.endswith(("\n", "\r")) or not text:
        expected -= 1
    assert len(segs) == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=200), st.sampled_from(["zh", "en"]))
def test_property_word_spans(text, lang):
    spans = word_spans(text, lang)
    assert all(0 <= a < b <= len(text) and any(ch.isalnum() for ch in text[a:b]) for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))


@pytest.mark.parametrize("name,text,lang", [
    ("2 MB one line, no punctuation", "abc def ghi " * 174_763, "en"),
    ("2 MB Chinese", None, "zh"),
])
def test_large_inputs_are_fast(name, text, lang):
    if text is None:
        base = _text("zh")
        text = base * (2_000_000 // len(base) + 1)
    t0 = time.perf_counter()
    segs = segment(Document(text, lang))
    elapsed = time.perf_counter() - t0
    print(f"{name}: {len(text):,} chars -> {len(segs):,} segments in {elapsed:.2f} s")
    assert segs[0].start == len(text) - len(text.lstrip())
    assert segs[-1].end == len(text.rstrip())
    assert max(len(s.text) for s in segs) <= MAX_SEGMENT_CHARS  # no megabyte "sentence"
    assert elapsed < 30  # generous: catches quadratic blow-ups, not slow machines


@pytest.mark.parametrize("lang, unit", [("zh", "这是一个没有句号的很长的文本，"), ("en", "a line that never ends "), ("en", "x")])
def test_text_without_sentence_ends_is_cut_into_bounded_pieces(lang, unit):
    text = unit * (20_000 // len(unit))
    segs = segment(Document(text=text, lang=lang))
    assert len(segs) > 10 and max(len(s.text) for s in segs) <= MAX_SEGMENT_CHARS
    assert all(text[s.start : s.end] == s.text for s in segs)
    # nothing lost: only whitespace lies between consecutive pieces
    assert "".join(text[a.end : b.start] for a, b in zip(segs, segs[1:])).strip() == ""
    if unit.strip() != "x":  # a soft break was available, so no word or clause was cut
        assert all(s.text.endswith("，") or text[s.end].isspace() for s in segs[:-1])
