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


# ------------------------------------------------------------------ quantities
from align.numbers import en_number_phrases, extract_quantities  # noqa: E402


def values(text, lang, strong_only=False):
    return [m.value for m in extract_quantities(text, lang) if not (strong_only and m.weak)]


@pytest.mark.parametrize("text,expected", [
    ("twenty-three", [(23, False)]),
    ("twenty three", [(23, False)]),
    ("two hundred", [(200, False)]),
    ("one hundred and five", [(105, False)]),
    ("three thousand five hundred", [(3500, False)]),
    ("ten billion years", [(10**10, False)]),
    ("a hundred times", [(100, True)]),      # article + scale: a figure of speech
    ("two dozen eggs", [(24, True)]),
    ("dozens of people", [(12, True)]),
    ("tens of thousands of", [(10000, True)]),
    ("fourteen or fifteen", [(14, False), (15, False)]),
    ("one and five", [(1, False), (5, False)]),  # two numbers, not 6
    ("ten and twenty", [(10, False), (20, False)]),
    ("the parties may agree", []),
])
def test_en_number_phrases(text, expected):
    got = [(v, approx) for _, _, v, approx in en_number_phrases(text)]
    assert got == expected
    for s, e, _, _ in en_number_phrases(text):
        assert text[s:e].strip() == text[s:e] and text[s:e]


def test_en_quantities_in_context():
    ms = extract_quantities("a boy of fourteen or fifteen", "en")
    assert [(m.text, m.value, m.weak) for m in ms] == [("fourteen", 14, False), ("fifteen", 15, False)]
    assert values("FOUR DECADES THE story spans", "en") == [40]
    assert values("almost half a century ago", "en") == [50]
    ms = extract_quantities("between one and five percent", "en")
    assert [m.value for m in ms] == [1, 5] and ms[-1].kind == "percent"
    m, = [m for m in extract_quantities("launched in November of 1989 and", "en")]
    assert (m.kind, m.parts) == ("date", (1989, 11, None))
    assert 80 in values("during the eighties", "en") and 80 in values("in the 1980s", "en")
    # the aligner's extractor is unchanged: the same words still read as one number there
    assert [m.value for m in extract_numbers("one and five", "en")] == [6]


def test_zh_quantities_ranges_and_figures_of_speech():
    ms = extract_quantities("约莫十四五岁年纪", "zh")
    assert sorted(m.value for m in ms) == [14, 15] and all(m.weak for m in ms)
    assert sorted(values("闹吵吵三二十个孩子", "zh")) == [20, 30]
    assert sorted(values("还有八九两剩下", "zh")) == [8, 9]
    assert sorted(values("二十三四岁", "zh")) == [23, 24]
    assert values("二〇一二年", "zh") == [2012]  # a year is not the range 一二
    assert values("一百多亿年前", "zh") == [10**10]
    for phrase in ("你千万别让人惦记上", "千般的温存，万种的风流", "一百个不服", "几百年的大事", "四十多年前"):
        assert extract_quantities(phrase, "zh") and not values(phrase, "zh", strong_only=True), phrase
    # real quantities stay strong
    assert values("出席第二十三届圣彼得堡国际经济论坛", "zh", strong_only=True) == [23]
    assert values("每年互派留学生规模达到 10 万人", "zh", strong_only=True) == [100000]


@pytest.mark.parametrize("zh,en", [
    ("约莫十四五岁年纪", "a boy of fourteen or fifteen"),
    ("今年不过十八九岁罢了", "she can't be more than eighteen or nineteen years old"),
    ("振幅在百分之一至百分之五之间", "between one and five percent"),
    ("四十年的故事", "FOUR DECADES THE story spans"),
    ("1989年11月升空", "launched in November of 1989"),
    ("这红光来自于一百多亿年前", "The red light had come from more than ten billion years ago"),
    ("千般的温存，万种的风流", "gentility of a thousand kinds, and ten thousand varieties of elegance"),
    ("上世纪八十年代末的寻呼台", "the paging stations during the eighties"),
])
def test_quantities_match_free_human_renderings(zh, en):
    """MAC-Dev sentences that the digit-only comparison reported as number errors."""
    d = compare_numbers(extract_quantities(zh, "zh"), extract_quantities(en, "en"))
    assert d.ok, (d.src_only, d.tgt_only)


def test_quantities_still_catch_wrong_numbers():
    d = compare_numbers(extract_quantities("二〇一九年六月五日于莫斯科", "zh"),
                        extract_quantities("Moscow, June 5, 2009", "en"))
    assert [m.text for m in d.tgt_only] == ["June 5, 2009"]
    d = compare_numbers(extract_quantities("二十三个国家", "zh"), extract_quantities("thirty-two countries", "en"))
    assert not d.ok
