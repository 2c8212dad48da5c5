"""Numbers, dates, ordinals and enumeration labels in Chinese and English.

String comparison of numbers fails on this kind of text: 二〇一九 is 2019,
第二十三届 is "23rd", （十六） is "(16)", 10 万 is "100,000". So both sides are
normalised to values first, and compared as values.

Comparison rule (:func:`compare_numbers`):

* Each mention is reduced to atoms: a date to its year / month / day values,
  anything else to its value. A mention is matched when every atom occurs
  among the other side's atoms (set semantics: a value the translation
  mentions once may answer several source mentions; kinds are ignored, so
  "70 周年" ~ "70th anniversary" and "第三方" ~ "third parties").
* *Weak* mentions are numerals that are really words: a lone Chinese numeral
  character not followed by a unit (两国 "both countries", 一带一路,
  进一步) and English number words up to ten ("the two sides", "first").
  They can answer the other side's mentions but are never reported missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberMention:
    """One number in a text; offsets are into the string given to the extractor.

    ``kind`` is one of year, date, ordinal, cardinal, enum, percent.
    For dates ``parts`` is (year, month, day) with None where not written and
    ``value`` packs it as YYYYMMDD (0 for a missing part).
    """

    start: int
    end: int
    value: int | float
    kind: str
    text: str
    weak: bool = False
    unit: str | None = None
    parts: tuple[int | None, int | None, int | None] | None = None

    def atoms(self) -> tuple[float, ...]:
        if self.kind == "date" and self.parts:
            return tuple(float(p) for p in self.parts if p is not None)
        return (float(self.value),)

    def shifted(self, offset: int) -> NumberMention:
        return NumberMention(self.start + offset, self.end + offset, self.value, self.kind,
                             self.text, self.weak, self.unit, self.parts)


@dataclass
class NumberDiff:
    """Mentions of one side whose value the other side lacks."""

    src_only: list[NumberMention] = field(default_factory=list)
    tgt_only: list[NumberMention] = field(default_factory=list)
    matched_src: list[NumberMention] = field(default_factory=list)
    matched_tgt: list[NumberMention] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.src_only and not self.tgt_only


# --------------------------------------------------------------------------
# Chinese
# --------------------------------------------------------------------------

ZH_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "叁": 3, "肆": 4,
             "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9}
ZH_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
ZH_BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_ZH_NUM_CHARS = "".join(ZH_DIGITS) + "".join(ZH_SMALL_UNITS) + "".join(ZH_BIG_UNITS)
_DIG = r"[0-9\uff10-\uff19]"
_NUM_ARABIC = rf"{_DIG}+(?:[,，]{_DIG}{{3}})*(?:[.．]{_DIG}+)?"
_NUM_ZH = rf"[{_ZH_NUM_CHARS}]+"
# a numeral: arabic (optionally followed by 万/亿) or Chinese characters
_ZH_NUMERAL = rf"(?:{_NUM_ARABIC}(?:\s*[万亿萬億]+)?|{_NUM_ZH})"
# units that make a lone Chinese numeral character a real quantity
_ZH_UNITS = ("周年", "年", "月", "日", "号", "届", "次", "个", "位", "名", "项", "条", "点",
             "倍", "岁", "天", "周", "小时", "分钟", "秒", "公里", "千米", "米", "吨", "元",
             "美元", "卢布", "人民币", "家", "所", "部", "架", "艘", "座", "批", "份", "轮",
             "期", "场", "届", "种", "类", "国集团", "%", "％")
_ZH_UNITS_LONGEST_FIRST = sorted(set(_ZH_UNITS), key=len, reverse=True)


def _ascii_digits(s: str) -> str:
    return "".join(chr(ord(c) - 0xFEE0) if "\uff10" <= c <= "\uff19" else c for c in s)


def zh_numeral_value(s: str) -> int | float | None:
    """Value of a Chinese (or Arabic, or mixed "10 万") numeral; None if malformed.

    二〇一九 -> 2019 (digit by digit), 二十三 -> 23, 一百零五 -> 105,
    十六 -> 16, 两 -> 2, 3.5 亿 -> 350000000.
    """
    s = _ascii_digits(s).replace(" ", "").replace(",", "").replace("，", "").replace("．", ".")
    if not s:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([万亿萬億]*)", s)
    if m:
        v: float = float(m.group(1))
        for c in m.group(2):
            v *= ZH_BIG_UNITS[c]
        return int(v) if v == int(v) else v
    if any(c not in ZH_DIGITS and c not in ZH_SMALL_UNITS and c not in ZH_BIG_UNITS for c in s):
        return None
    if all(c in ZH_DIGITS for c in s):
        if len(s) == 1:
            return ZH_DIGITS[s]
        return int("".join(str(ZH_DIGITS[c]) for c in s))  # 二〇一九
    total, section, number = 0, 0, None
    for c in s:
        if c in ZH_DIGITS:
            if number is not None and number != 0 and ZH_DIGITS[c] != 0:
                return None  # 十三五: two digits in a row inside a unit numeral
            number = ZH_DIGITS[c]
        elif c in ZH_SMALL_UNITS:
            section += (1 if number is None else number) * ZH_SMALL_UNITS[c]
            number = None
        else:
            unit = ZH_BIG_UNITS[c]
            section += number or 0
            if unit == 100_000_000:
                total = (total + section) * unit
            else:
                total += section * unit
            section, number = 0, None
    return total + section + (number or 0)


_ZH_DATE = re.compile(
    rf"(?:(?P<y>{_DIG}{{4}}|[〇零○一二三四五六七八九]{{4}})\s*年\s*)?"
    rf"(?:(?P<m>{_DIG}{{1,2}}|十[一二]?|[一二三四五六七八九])\s*月\s*)"
    rf"(?:(?P<d>{_DIG}{{1,2}}|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])\s*[日号])?"
    rf"(?:\s*(?:至|到|－|—|-|~|～)\s*(?:(?P<m2>{_DIG}{{1,2}}|十[一二]?|[一二三四五六七八九])\s*月\s*)?"
    rf"(?P<d2>{_DIG}{{1,2}}|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])\s*[日号])?"
)
_ZH_YEAR = re.compile(rf"(?P<y>{_DIG}{{4}}|[〇零○一二三四五六七八九]{{4}})\s*年(?!代)")
_ZH_ENUM = re.compile(rf"[（(]\s*(?P<n>{_DIG}{{1,3}}|[{_ZH_NUM_CHARS}]{{1,4}})\s*[）)]"
                      rf"|(?m:^[ \t]*(?P<n2>[一二三四五六七八九十]{{1,3}}|{_DIG}{{1,3}})\s*[、.．])")
_ZH_PERCENT = re.compile(rf"百分之(?P<p>{_ZH_NUMERAL})|(?P<q>{_NUM_ARABIC})\s*[%％]")
_ZH_ORDINAL = re.compile(rf"第\s*(?P<n>{_ZH_NUMERAL})")
_ZH_ANY = re.compile(_ZH_NUMERAL)


def _zh_extract(text: str) -> list[NumberMention]:
    out: list[NumberMention] = []
    taken = [False] * (len(text) + 1)

    def free(s: int, e: int) -> bool:
        return not any(taken[s:e])

    def take(m: NumberMention) -> None:
        for i in range(m.start, m.end):
            taken[i] = True
        out.append(m)

    def val(s: str | None) -> int | None:
        if s is None:
            return None
        v = zh_numeral_value(s)
        return int(v) if v is not None else None

    for m in _ZH_DATE.finditer(text):
        if not free(m.start(), m.end()):
            continue
        y, mo, d = val(m.group("y")), val(m.group("m")), val(m.group("d"))
        if mo is None or not 1 <= mo <= 12:
            continue
        end1 = _after_unit(text, m.end("d") if m.group("d") else m.end("m"))
        take(NumberMention(m.start(), end1, _pack(y, mo, d), "date", text[m.start():end1],
                           parts=(y, mo, d)))
        if m.group("d2"):
            mo2 = val(m.group("m2")) or mo
            d2 = val(m.group("d2"))
            s2 = m.start("m2") if m.group("m2") else m.start("d2")
            take(NumberMention(s2, m.end(), _pack(y, mo2, d2), "date", text[s2:m.end()],
                               parts=(y, mo2, d2)))
    for m in _ZH_YEAR.finditer(text):
        if free(m.start(), m.end()):
            y = val(m.group("y"))
            if y is not None:
                take(NumberMention(m.start(), m.end(), y, "year", m.group(0)))
    for m in _ZH_ENUM.finditer(text):
        g = "n" if m.group("n") else "n2"
        v = val(m.group(g))
        if v is not None and free(m.start(g), m.end(g)):
            take(NumberMention(m.start(), m.end(), v, "enum", m.group(0).strip()))
    for m in _ZH_PERCENT.finditer(text):
        if free(m.start(), m.end()):
            v = zh_numeral_value(m.group("p") or m.group("q"))
            if v is not None:
                take(NumberMention(m.start(), m.end(), v, "percent", m.group(0)))
    for m in _ZH_ORDINAL.finditer(text):
        if free(m.start(), m.end()):
            v = zh_numeral_value(m.group("n"))
            if v is not None:
                unit, end = _unit_after(text, m.end())
                take(NumberMention(m.start(), end, v, "ordinal", text[m.start():end], unit=unit))
    for m in _ZH_ANY.finditer(text):
        if not free(m.start(), m.end()):
            continue
        raw = m.group(0).strip()
        mend = m.end()
        if len(raw) > 1 and raw.endswith("两"):
            raw, mend = raw[:-1].rstrip(), mend - 1  # 三两 / 五十两: 两 is the tael, a unit
        v = zh_numeral_value(raw)
        if v is None:
            continue
        unit, end = _unit_after(text, mend)
        if unit is None:
            end = mend
        is_cjk = not re.search(r"\d", raw)
        weak = is_cjk and len(raw) == 1 and unit is None
        if is_cjk and v <= 10:
            weak = True  # 三个, 一日: small counts written as words, like English "three"
        if is_cjk and 2 <= len(raw) <= 3 and all(c in ZH_DIGITS for c in raw):
            weak = True  # 七八个, 八九: an approximate range, not a number
        if is_cjk and raw == "一" and unit not in ("年", "月", "日", "周年", "%", "％"):
            weak = True  # 一个 / 一场: an article rather than a count
        kind = "cardinal"
        if unit == "周年":
            kind = "ordinal"
        take(NumberMention(m.start(), end, v, kind, text[m.start():end].strip(), weak=weak,
                           unit=unit))
    out.sort(key=lambda x: x.start)
    return out


def _unit_after(text: str, pos: int) -> tuple[str | None, int]:
    """The unit word right after a numeral (spaces allowed) and where it ends."""
    chunk = text[pos:pos + 6]
    rest = chunk.lstrip(" \t\u3000")
    skip = len(chunk) - len(rest)
    for u in _ZH_UNITS_LONGEST_FIRST:
        if rest.startswith(u):
            return u, pos + skip + len(u)
    return None, pos


def _after_unit(text: str, pos: int) -> int:
    """End of the 日/月 character that closes a date part starting its search at pos."""
    m = re.compile(r"\s*[日号月]").match(text, pos)
    return m.end() if m else pos


def _pack(y: int | None, m: int | None, d: int | None) -> int:
    return (y or 0) * 10000 + (m or 0) * 100 + (d or 0)


# --------------------------------------------------------------------------
# English (and European digits)
# --------------------------------------------------------------------------

MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
MONTHS.update({m[:3]: v for m, v in list(MONTHS.items())})
MONTHS["sept"] = 9
_ONES = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
         "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
         "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9,
           "trillion": 10**12}
_ORD_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
              "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
              "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
              "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
              "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50,
              "sixtieth": 60, "seventieth": 70, "eightieth": 80, "ninetieth": 90,
              "hundredth": 100}
_NUMWORD = "|".join(sorted(list(_ONES) + list(_TENS) + list(_SCALES), key=len, reverse=True))
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_EN_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"

_EN_DATE_MDY = re.compile(
    rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"(?:\s*(?:to|through|until|and|-|–|—)\s*(?:(?P<mon2>{_MONTH_RE})\.?\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b)?"
    rf"(?:,?\s+(?P<y>\d{{4}})\b)?", re.I)
_EN_DATE_DMY = re.compile(
    rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\b\.?(?:,?\s+(?P<y>\d{{4}})\b)?",
    re.I)
_EN_MONTH_YEAR = re.compile(rf"\b(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>\d{{4}})\b", re.I)
_EN_PERCENT = re.compile(rf"(?P<n>{_EN_NUM})\s*(?:%|per\s*cent\b|percent\b)", re.I)
_EN_ORD = re.compile(r"\b(?P<n>\d+)(?:st|nd|rd|th)\b", re.I)
_EN_ORD_WORD = re.compile(r"\b(?:(?P<t>" + "|".join(_TENS) + r")[-\s])?(?P<o>"
                          + "|".join(sorted(_ORD_WORDS, key=len, reverse=True)) + r")\b", re.I)
_EN_ENUM = re.compile(r"\(\s*(?P<n>\d{1,3})\s*\)|(?m:^[ \t]*(?P<n2>\d{1,3})[.)]\s)")
_EN_CARD = re.compile(rf"(?<![\d.,])(?P<n>{_EN_NUM})(?:\s+(?P<s>hundred|thousand|million|billion|trillion)\b)?")
_EN_WORDS = re.compile(rf"\b(?:{_NUMWORD})(?:(?:[-\s]+|\s+and\s+)(?:{_NUMWORD}))*\b", re.I)


def en_words_value(s: str) -> int | None:
    """Value of written-out English numbers: "twenty-three", "one hundred and five"."""
    total, current = 0, 0
    seen = False
    for w in re.split(r"[-\s]+", s.lower()):
        if w in ("and", ""):
            continue
        if w in _ONES:
            current += _ONES[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = (current or 1) * 100
        elif w in _SCALES:
            total += (current or 1) * _SCALES[w]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


_ANY_DIGIT = re.compile(r"\d")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
_NUMBER_WORDS = frozenset(_ONES) | frozenset(_TENS) | frozenset(_SCALES) | frozenset(_ORD_WORDS)


def _en_extract(text: str) -> list[NumberMention]:
    out: list[NumberMention] = []
    taken = [False] * (len(text) + 1)
    # all patterns but the number and ordinal words need a digit: most sentences have
    # none, and skipping those scans makes a book's worth of sentences much cheaper
    digits = _ANY_DIGIT.search(text) is not None
    # likewise the word patterns need a number word (one pass instead of two
    # scans trying some fifty alternatives at every word)
    words = not _NUMBER_WORDS.isdisjoint(_LETTER_RUN.findall(text.casefold()))

    def free(s: int, e: int) -> bool:
        return not any(taken[s:e])

    def take(m: NumberMention) -> None:
        for i in range(m.start, m.end):
            taken[i] = True
        out.append(m)

    for m in (_EN_DATE_MDY.finditer(text) if digits else ()):
        mo = MONTHS[m.group("mon").lower()]
        if m.group("mon").lower() == "may" and not m.group("y") and not text[m.start()].isupper():
            continue  # the verb "may"
        y = int(m.group("y")) if m.group("y") else None
        d = int(m.group("d"))
        if not 1 <= d <= 31:
            continue
        end1 = m.end("d")
        if m.group("d2"):
            mo2 = MONTHS[m.group("mon2").lower()] if m.group("mon2") else mo
            d2 = int(m.group("d2"))
            take(NumberMention(m.start(), end1, _pack(y, mo, d), "date", text[m.start():end1],
                               parts=(y, mo, d)))
            s2 = m.start("mon2") if m.group("mon2") else m.start("d2")
            take(NumberMention(s2, m.end(), _pack(y, mo2, d2), "date", text[s2:m.end()],
                               parts=(y, mo2, d2)))
        else:
            take(NumberMention(m.start(), m.end(), _pack(y, mo, d), "date", m.group(0),
                               parts=(y, mo, d)))
    for m in (_EN_DATE_DMY.finditer(text) if digits else ()):
        if free(m.start(), m.end()):
            y = int(m.group("y")) if m.group("y") else None
            mo, d = MONTHS[m.group("mon").lower()], int(m.group("d"))
            if 1 <= d <= 31 and not (m.group("mon").lower() == "may" and y is None):
                take(NumberMention(m.start(), m.end(), _pack(y, mo, d), "date", m.group(0),
                                   parts=(y, mo, d)))
    for m in (_EN_MONTH_YEAR.finditer(text) if digits else ()):
        if free(m.start(), m.end()):
            y, mo = int(m.group("y")), MONTHS[m.group("mon").lower()]
            take(NumberMention(m.start(), m.end(), _pack(y, mo, None), "date", m.group(0),
                               parts=(y, mo, None)))
    for m in (_EN_PERCENT.finditer(text) if digits else ()):
        if free(m.start(), m.end()):
            take(NumberMention(m.start(), m.end(), _num(m.group("n")), "percent", m.group(0)))
    for m in (_EN_ENUM.finditer(text) if digits else ()):
        g = "n" if m.group("n") else "n2"
        if free(m.start(g), m.end(g)):
            take(NumberMention(m.start(), m.end(), int(m.group(g)), "enum", m.group(0).strip()))
    for m in (_EN_ORD.finditer(text) if digits else ()):
        if free(m.start(), m.end()):
            take(NumberMention(m.start(), m.end(), int(m.group("n")), "ordinal", m.group(0)))
    for m in (_EN_ORD_WORD.finditer(text) if words else ()):
        if free(m.start(), m.end()):
            v = _ORD_WORDS[m.group("o").lower()] + (_TENS[m.group("t").lower()] if m.group("t") else 0)
            take(NumberMention(m.start(), m.end(), v, "ordinal", m.group(0), weak=v <= 10))
    for m in (_EN_CARD.finditer(text) if digits else ()):
        if not free(m.start(), m.end()):
            continue
        v = _num(m.group("n"))
        if m.group("s"):
            v = v * _SCALES[m.group("s").lower()]
            v = int(v) if v == int(v) else v
        raw = m.group("n").replace(",", "")
        kind = "year" if re.fullmatch(r"1[5-9]\d\d|20\d\d", raw) and not m.group("s") else "cardinal"
        take(NumberMention(m.start(), m.end(), v, kind, m.group(0)))
    for m in (_EN_WORDS.finditer(text) if words else ()):
        if not free(m.start(), m.end()):
            continue
        v = en_words_value(m.group(0))
        if v is None:
            continue
        # "one" and small number words are mostly words: articles, "the two sides"
        take(NumberMention(m.start(), m.end(), v, "cardinal", m.group(0), weak=v <= 10))
    out.sort(key=lambda x: x.start)
    return out


def _num(s: str) -> int | float:
    v = float(s.replace(",", ""))
    return int(v) if v == int(v) else v


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def extract_numbers(text: str, lang: str) -> list[NumberMention]:
    """All number mentions in ``text`` (lang "zh" or "en"), in text order."""
    if lang.lower().startswith("zh"):
        return _zh_extract(text)
    return _en_extract(text)


def compare_numbers(src: list[NumberMention], tgt: list[NumberMention]) -> NumberDiff:
    """Mentions on either side whose value(s) the other side does not contain.

    See the module docstring for the rule (atoms, set semantics, weak mentions).
    """
    src_atoms = _atom_set(src)
    tgt_atoms = _atom_set(tgt)
    diff = NumberDiff()
    for m in src:
        if all(_has(tgt_atoms, a) for a in m.atoms()):
            diff.matched_src.append(m)
        elif not m.weak:
            diff.src_only.append(m)
    for m in tgt:
        if all(_has(src_atoms, a) for a in m.atoms()):
            diff.matched_tgt.append(m)
        elif not m.weak:
            diff.tgt_only.append(m)
    return diff


def _atom_set(ms: list[NumberMention]) -> set[float]:
    out: set[float] = set()
    for m in ms:
        out.update(m.atoms())
    return out


def _has(atoms: set[float], a: float) -> bool:
    if a in atoms:
        return True
    # decimals may be rounded differently (2.726 vs 2.7255); integers must be equal
    tol = 5e-4 if a != int(a) else 1e-9
    return any(abs(a - b) <= tol * max(1.0, abs(a)) for b in atoms)


# --------------------------------------------------------------------------
# quantities as a reviewer reads them (used by the audit)
# --------------------------------------------------------------------------
#
# extract_numbers() above feeds the aligner and stays as it is. The audit
# compares numbers for a reviewer, so it needs a finer reading of the words
# around them: English number words composed by grammar ("one and five
# percent" is 1 and 5, not 6; "a hundred", "two dozen", "four decades"),
# Chinese approximate ranges (十四五岁 "fourteen or fifteen", 三二十个
# "twenty or thirty") and approximations (四十多年 "forty-odd years",
# 几百年, 一百多亿 "over ten billion"), and round numbers written in characters
# that are mostly figures of speech (千万别 "by no means", 万种风流, 一百个不服).

_EN_TEENS = {k: v for k, v in _ONES.items() if v >= 10}
_EN_UNITS = {k: v for k, v in _ONES.items() if 1 <= v <= 9}
_EN_BIG = {k: v for k, v in _SCALES.items() if v >= 1000}
# plural scales are approximate: "hundreds of", "dozens", "tens of thousands"
_EN_VAGUE = {"dozens": 12, "scores": 20, "tens": 10, "hundreds": 100, "thousands": 1000,
             "millions": 10**6, "billions": 10**9, "trillions": 10**12}
_EN_DECADE_NAMES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
                    "seventies": 70, "eighties": 80, "nineties": 90}
_EN_PERIODS = {"decade": 10, "decades": 10, "century": 100, "centuries": 100}
_EN_WORD_TOKEN = re.compile(r"[A-Za-z]+")


def _en_word_class(w: str) -> str | None:
    if w in _EN_UNITS or w == "zero":
        return "unit"
    if w in _EN_TEENS:
        return "teen"
    if w in _TENS:
        return "tens"
    if w == "hundred":
        return "hundred"
    if w in _EN_BIG:
        return "big"
    if w == "dozen":
        return "dozen"
    return None


def en_number_phrases(text: str) -> list[tuple[int, int, int | float, bool]]:
    """Written-out English numbers as (start, end, value, approximate), composed
    by grammar: "twenty-three" 23, "two hundred" 200, "one hundred and five"
    105, "a hundred" 100, "three thousand five hundred" 3500, "two dozen" 24;
    "one and five" is two numbers, 1 and 5; "ten or twenty" too. Plural
    scales ("hundreds", "dozens", "tens of thousands") come out approximate,
    with the value of one unit of the scale.
    """
    words = [(m.start(), m.end(), m.group(0).lower()) for m in _EN_WORD_TOKEN.finditer(text)]
    out: list[tuple[int, int, int | float, bool]] = []
    k = 0
    n = len(words)

    def joined(a: int, b: int) -> bool:  # only spaces or one hyphen between words a and b
        gap = text[words[a][1]:words[b][0]]
        return gap.strip(" \t") in ("", "-", "‐", "‑")

    while k < n:
        s, e, w = words[k]
        # vague plural scales, possibly chained: "tens of thousands"
        if w in _EN_VAGUE:
            value = _EN_VAGUE[w]
            end, j = e, k + 1
            while (j + 1 < n and words[j][2] == "of" and words[j + 1][2] in _EN_VAGUE
                   and _EN_VAGUE[words[j + 1][2]] >= 1000 and joined(j - 1, j) and joined(j, j + 1)):
                value *= _EN_VAGUE[words[j + 1][2]]
                end, j = words[j + 1][1], j + 2
            if w != "tens" or end != e:  # a bare "tens" is not a number
                out.append((s, end, value, True))
            k = j
            continue
        start_k = k
        article = False
        if (w in ("a", "an") and k + 1 < n and joined(k, k + 1)
                and _en_word_class(words[k + 1][2]) in ("hundred", "big", "dozen")):
            article = True
            k += 1
            w = words[k][2]
        cls = _en_word_class(w)
        if cls is None:
            k += 1
            continue
        total, current, last = 0, 0, None
        big_seen: int | None = None
        if article:
            current, last = 1, "unit"
        j = k
        end = words[k][1]
        while j < n:
            w = words[j][2]
            cls = _en_word_class(w)
            if j > k:
                if w == "and" and last in ("hundred", "big") and j + 1 < n and \
                        _en_word_class(words[j + 1][2]) in ("unit", "teen", "tens"):
                    j += 1
                    continue
                if cls is None or not joined(j - 1, j) and words[j - 1][2] != "and":
                    break
            ok = False
            if cls == "unit":
                ok = last in (None, "hundred", "big") or (last == "tens" and current % 10 == 0)
                if ok:
                    current += _ONES[w]
            elif cls in ("teen", "tens"):
                ok = last in (None, "hundred", "big")
                if ok:
                    current += _ONES.get(w) or _TENS[w]
            elif cls == "hundred":
                ok = last in (None, "unit", "teen") and current < 100
                if ok:
                    current = (current or 1) * 100
            elif cls == "big":
                scale = _SCALES[w]
                ok = last in (None, "unit", "teen", "tens", "hundred") and (big_seen is None or scale < big_seen)
                if ok:
                    total += (current or 1) * scale
                    current, big_seen = 0, scale
            elif cls == "dozen":
                ok = last in (None, "unit", "teen", "tens") and current < 100
                if ok:
                    current = (current or 1) * 12
            if not ok:
                break
            last = cls
            end = words[j][1]
            j += 1
            if last == "dozen":
                break
        value = total + current
        # "a dozen", "a hundred times", "a million shards": round figures of speech
        vague = last == "dozen" or (article and j == k + 1)
        out.append((words[start_k][0], end, value, vague))
        k = max(j, k + 1)
    return out


def _plain_en_phrase(text: str) -> bool:
    return not re.search(r"\d", text)


_EN_MONTH_OF_YEAR = re.compile(rf"\b(?P<mon>{_MONTH_RE})\.?\s+of\s+(?P<y>\d{{4}})\b", re.I)
_EN_DECADE_DIGITS = re.compile(r"\b(?:1[5-9]|20)(?P<d>\d0)(?:'?s)\b")
_EN_PERCENT_AFTER = re.compile(r"\s*(?:%|per\s*cent\b|percent\b)", re.I)


def _en_quantities(text: str) -> list[NumberMention]:
    base = [m for m in _en_extract(text) if not (m.kind == "cardinal" and _plain_en_phrase(m.text))]
    taken = [False] * (len(text) + 1)
    for m in base:
        for i in range(m.start, m.end):
            taken[i] = True
    out = list(base)

    def free(s: int, e: int) -> bool:
        return not any(taken[s:e])

    words = [(m.start(), m.end(), m.group(0).lower()) for m in _EN_WORD_TOKEN.finditer(text)]
    starts = {s: i for i, (s, _, _) in enumerate(words)}
    for s, e, v, approx in en_number_phrases(text):
        if not free(s, e):
            continue
        k = starts.get(s)
        # "four decades" 40 (years), "two centuries" 200
        nxt = None
        if k is not None:
            after = [w for w in words if w[0] >= e][:1]
            if after and text[e:after[0][0]].strip() == "" and after[0][2] in _EN_PERIODS:
                nxt = after[0]
        if nxt is not None:
            v, e = v * _EN_PERIODS[nxt[2]], nxt[1]
        kind = "percent" if _EN_PERCENT_AFTER.match(text, e) else "cardinal"
        out.append(NumberMention(s, e, v, kind, text[s:e], weak=approx or v <= 10))
        for i in range(s, e):
            taken[i] = True
    for s, e, w in words:
        if w in _EN_DECADE_NAMES and free(s, e):
            out.append(NumberMention(s, e, _EN_DECADE_NAMES[w], "cardinal", text[s:e], weak=True))
        elif (w in ("decade", "century") and free(s, e)
              and text[:s].rstrip().lower().endswith((" a", " an", "half a"))):
            half = text[:s].rstrip().lower().endswith("half a")
            v = _EN_PERIODS[w] // (2 if half else 1)
            out.append(NumberMention(s, e, v, "cardinal", text[s:e], weak=True))
    # "November of 1989" is a month and a year, like "November 1989"
    for m in _EN_MONTH_OF_YEAR.finditer(text):
        y, mo = int(m.group("y")), MONTHS[m.group("mon").lower()]
        if m.group("mon").lower() == "may" and not m.group("mon")[0].isupper():
            continue
        out = [x for x in out if not (x.start >= m.start() and x.end <= m.end())]
        out.append(NumberMention(m.start(), m.end(), _pack(y, mo, None), "date", m.group(0), parts=(y, mo, None)))
    # "the 1980s" is also "the eighties" (八十年代)
    for m in _EN_DECADE_DIGITS.finditer(text):
        out.append(NumberMention(m.start(), m.end(), int(m.group("d")), "cardinal", m.group(0), weak=True))
    out.sort(key=lambda x: (x.start, x.end))
    return out


_ZH_DIGIT_CHARS = "〇零○一二三四五六七八九两"
_ZH_RANGE = re.compile(
    r"(?P<pre>[一二三四五六七八九]?十)?(?P<a>[一二三四五六七八九])(?P<b>[一二三四五六七八九])(?P<unit>[十百千万亿])?")
_ZH_APPROX = re.compile(rf"(?P<n>{_ZH_NUMERAL})\s*(?P<ap>[多余几来]+)(?P<big>[万亿])?|几(?P<u>[十百千万亿]+)")
_ROUND_CHARS = set("一百千万亿萬億")


def _zh_quantities(text: str) -> list[NumberMention]:
    base = _zh_extract(text)
    extra: list[NumberMention] = []
    spans: list[tuple[int, int]] = []
    for m in _ZH_RANGE.finditer(text):
        a, b = ZH_DIGITS[m.group("a")], ZH_DIGITS[m.group("b")]
        if abs(a - b) != 1:
            continue
        before = text[m.start() - 1] if m.start() > 0 else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if (before and before in _ZH_DIGIT_CHARS + "十第") or (after and after in _ZH_DIGIT_CHARS.replace("两", "")):
            continue  # inside a longer numeral (二〇一二) or an ordinal
        unit = ZH_SMALL_UNITS.get(m.group("unit") or "", None) or ZH_BIG_UNITS.get(m.group("unit") or "", 1)
        pre = zh_numeral_value(m.group("pre")) if m.group("pre") else 0
        if pre and m.group("unit"):
            continue  # 十四五万: too rare to read safely
        for d in (a, b):
            extra.append(NumberMention(m.start(), m.end(), (pre or 0) + d * unit, "cardinal", m.group(0), weak=True))
        spans.append((m.start(), m.end()))
    for m in _ZH_APPROX.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in spans):
            continue
        if m.group("u"):
            v = zh_numeral_value(m.group("u"))
        else:
            v = zh_numeral_value(m.group("n"))
            if v is not None and m.group("big"):
                v = v * ZH_BIG_UNITS[m.group("big")]
        if v is None:
            continue
        extra.append(NumberMention(m.start(), m.end(), v, "cardinal", m.group(0), weak=True))
        spans.append((m.start(), m.end()))
    out = [m for m in base if not any(s < m.end and m.start < e for s, e in spans)]
    for k, m in enumerate(out):
        raw = m.text
        if m.unit and raw.endswith(m.unit):
            raw = raw[: -len(m.unit)].strip()
        if raw in ZH_BIG_UNITS and m.value == 0:  # a bare 万 / 亿 is one of them
            m = out[k] = NumberMention(m.start, m.end, ZH_BIG_UNITS[raw], m.kind, m.text, m.weak, m.unit, m.parts)
        if (m.kind == "cardinal" and not m.weak and raw and set(raw) <= _ROUND_CHARS and raw != "一"
                and str(int(m.value)).rstrip("0") == "1"):
            # 千万别, 万种, 一百个不服, 千年: round figures in characters are mostly
            # figures of speech ("by no means", "countless", "a hundred times")
            out[k] = NumberMention(m.start, m.end, m.value, m.kind, m.text, True, m.unit, m.parts)
    out.extend(extra)
    out.sort(key=lambda x: (x.start, x.end))
    return out


def extract_quantities(text: str, lang: str) -> list[NumberMention]:
    """Number mentions as a reviewer compares them (what the audit uses).

    Like :func:`extract_numbers` plus: English number words composed by
    grammar (:func:`en_number_phrases`), "four decades", "the eighties",
    "November of 1989", percentages in words; Chinese approximate ranges
    (十四五 gives 14 and 15), approximations (四十多, 几百, 一百多亿) and
    round figures of speech (千万, 万种) as weak mentions, which may answer
    the other side's numbers but are never reported missing.
    """
    if lang.lower().startswith("zh"):
        return _zh_quantities(text)
    return _en_quantities(text)
