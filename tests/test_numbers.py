"""Number / date normalisation on Joint Statement phrases."""

from pathlib import Path

import pytest

from align.numbers import compare_numbers, en_words_value, extract_numbers, zh_numeral_value

REPO = Path(__file__).resolve().parents[1]


def one(text, lang, kind=None):
    ms = [m for m in extract_numbers(text, lang) if not m.weak and (kind is None or m.kind == kind)]
    assert len(ms) == 1, ms
    m = ms[0]
    assert text[m.start:m.end] == m.text
    return m


@pytest.mark.parametrize("s,v", [("二〇一九", 2019), ("二十三", 23), ("十六", 16), ("两", 2),
                                 ("一百零五", 105), ("10 万", 100000), ("3.5亿", 350000000),
                                 ("１９", 19), ("十万", 100000), ("二十一", 21), ("十三五", None)])
def test_zh_numeral_value(s, v):
    assert zh_numeral_value(s) == v


def test_zh_dates_and_ordinals():
    m = one("二〇一九年六月五日于莫斯科", "zh")
    assert (m.kind, m.parts, m.text) == ("date", (2019, 6, 5), "二〇一九年六月五日")
    ms = [m for m in extract_numbers("于 2019 年 6 月 5 日至 7 日对俄罗斯进行国事访问", "zh") if m.kind == "date"]
    assert [m.parts for m in ms] == [(2019, 6, 5), (2019, 6, 7)]
    m = one("出席第二十三届圣彼得堡国际经济论坛", "zh")
    assert (m.kind, m.value) == ("ordinal", 23)
    m = one("2019 年是两国建交 70 周年", "zh", "ordinal")
    assert m.value == 70 and m.text == "70 周年"
    m = one("每年互派留学生规模达到 10 万人", "zh")
    assert m.value == 100000
    m = one("（十六）双方将深化", "zh")
    assert (m.kind, m.value) == ("enum", 16)


def test_zh_word_numerals_are_weak():
    for phrase in ("两国元首", "一带一路", "进一步加强", "一体化进程"):
        assert all(m.weak for m in extract_numbers(phrase, "zh")), phrase
    assert not extract_numbers("双方", "zh")


def test_en_numbers():
    m = one("signed in Moscow on June 5, 2019", "en")
    assert (m.kind, m.parts) == ("date", (2019, 6, 5))
    ms = extract_numbers("from June 5 to 7, 2019 and attended", "en")
    assert [m.parts for m in ms] == [(2019, 6, 5), (2019, 6, 7)]
    assert one("the 23rd St. Petersburg", "en").value == 23
    assert one("up to 100,000 students", "en").value == 100000
    assert one("1.5 million tons", "en").value == 1500000
    assert one("(16) The two sides", "en").kind == "enum"
    assert one("the 70th anniversary", "en").value == 70
    assert one("over the past 70 years", "en").value == 70
    assert en_words_value("twenty-three") == 23
    assert en_words_value("one hundred and five") == 105
    assert all(m.weak for m in extract_numbers("the two sides and one another", "en"))
    assert not extract_numbers("the parties may agree", "en")


def test_compare_tolerates_equivalent_forms():
    pairs = [
        ("二〇一九年六月五日", "June 5, 2019"),
        ("2019 年 6 月 5 日至 7 日", "from June 5 to 7, 2019"),
        ("第二十三届圣彼得堡国际经济论坛", "the 23rd St. Petersburg International Economic Forum"),
        ("建交 70 周年", "the 70th anniversary of diplomatic relations"),
        ("（十六）", "(16)"),
        ("两国元首", "the heads of state"),
        ("10 万人", "100,000 people"),
        ("二十国集团", "the G20"),
    ]
    for zh, en in pairs:
        d = compare_numbers(extract_numbers(zh, "zh"), extract_numbers(en, "en"))
        assert d.ok, (zh, en, d)


def test_compare_finds_wrong_year():
    zh, en = "二〇一九年六月五日于莫斯科", "Moscow, June 5, 2009"
    d = compare_numbers(extract_numbers(zh, "zh"), extract_numbers(en, "en"))
    assert [m.text for m in d.src_only] == ["二〇一九年六月五日"]
    assert [m.text for m in d.tgt_only] == ["June 5, 2009"]
    d = compare_numbers(extract_numbers("（十七）", "zh"), extract_numbers("(16)", "en"))
    assert not d.ok


def test_joint_statement_document_level():
    zh = (REPO / "texts/zh/joint-statement.txt").read_text(encoding="utf-8")
    en = (REPO / "texts/en/joint-statement.txt").read_text(encoding="utf-8")
    z, e = extract_numbers(zh, "zh"), extract_numbers(en, "en")
    for ms, text in ((z, zh), (e, en)):
        for m in ms:
            assert text[m.start:m.end] == m.text
    # every enumeration label （一）..（二十三） is recognised on both sides
    assert max(m.value for m in z if m.kind == "enum") == 23
    assert max(m.value for m in e if m.kind == "enum") == 23
    d = compare_numbers(z, e)
    # the English year 2009 has no Chinese basis anywhere in the document
    assert any(m.kind == "date" and m.parts[0] == 2009 for m in d.tgt_only)
