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


def _en_extract(text: str) -> list[NumberMention]:
    out: list[NumberMention] = []
    taken = [False] * (len(text) + 1)

    def free(s: int, e: int) -> bool:
        return not any(taken[s:e])

    def take(m: NumberMention) -> None:
        for i in range(m.start, m.end):
            taken[i] = True
        out.append(m)

    for m in _EN_DATE_MDY.finditer(text):
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
    for m in _EN_DATE_DMY.finditer(text):
        if free(m.start(), m.end()):
            y = int(m.group("y")) if m.group("y") else None
            mo, d = MONTHS[m.group("mon").lower()], int(m.group("d"))
            if 1 <= d <= 31 and not (m.group("mon").lower() == "may" and y is None):
                take(NumberMention(m.start(), m.end(), _pack(y, mo, d), "date", m.group(0),
                                   parts=(y, mo, d)))
    for m in _EN_MONTH_YEAR.finditer(text):
        if free(m.start(), m.end()):
            y, mo = int(m.group("y")), MONTHS[m.group("mon").lower()]
            take(NumberMention(m.start(), m.end(), _pack(y, mo, None), "date", m.group(0),
                               parts=(y, mo, None)))
    for m in _EN_PERCENT.finditer(text):
        if free(m.start(), m.end()):
            take(NumberMention(m.start(), m.end(), _num(m.group("n")), "percent", m.group(0)))
    for m in _EN_ENUM.finditer(text):
        g = "n" if m.group("n") else "n2"
        if free(m.start(g), m.end(g)):
            take(NumberMention(m.start(), m.end(), int(m.group(g)), "enum", m.group(0).strip()))
    for m in _EN_ORD.finditer(text):
        if free(m.start(), m.end()):
            take(NumberMention(m.start(), m.end(), int(m.group("n")), "ordinal", m.group(0)))
    for m in _EN_ORD_WORD.finditer(text):
        if free(m.start(), m.end()):
            v = _ORD_WORDS[m.group("o").lower()] + (_TENS[m.group("t").lower()] if m.group("t") else 0)
            take(NumberMention(m.start(), m.end(), v, "ordinal", m.group(0), weak=v <= 10))
    for m in _EN_CARD.finditer(text):
        if not free(m.start(), m.end()):
            continue
        v = _num(m.group("n"))
        if m.group("s"):
            v = v * _SCALES[m.group("s").lower()]
            v = int(v) if v == int(v) else v
        raw = m.group("n").replace(",", "")
        kind = "year" if re.fullmatch(r"1[5-9]\d\d|20\d\d", raw) and not m.group("s") else "cardinal"
        take(NumberMention(m.start(), m.end(), v, kind, m.group(0)))
    for m in _EN_WORDS.finditer(text):
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
