"""Split a decoded document into sentence-like segments with exact offsets.

Why rules and not a model: the aligner needs segments whose offsets are exact
and whose boundaries are predictable in both languages (a numbered clause in
the Chinese must start a segment exactly where "(16)" does in the English), and
segmentation must stay linear on multi-megabyte single-line inputs.

Layout first, then sentences: a paragraph is a blank-line block; inside it,
list items, enumerated clauses and short unpunctuated heading lines become
their own units; each unit is then cut at sentence ends. Every segment is the
stripped text between cuts, so segments plus whitespace gaps rebuild the input.
A last pass records the part / section / clause each segment falls under so
that both languages can be looked up by clause number.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from .model import AlignError, Document, Segment

__all__ = [
    "segment",
    "segment_lines",
    "word_spans",
    "parse_number_label",
    "part_number",
]

# --------------------------------------------------------------------------
# character classes

_NEWLINE = re.compile(r"\r\n|\r|\n")

# Sentence-final marks. "Hard" ones end a sentence wherever they stand (CJK
# full stops need no following space); the others follow the Latin rule.
_MARKS_RUN = r"[.!?…‥。！？｡．;；]+(?:[ \u00a0]\.(?!\w))*"  # also ". . ."
_HARD = frozenset("。！？｡")
_ELLIPSIS = frozenset("…‥")
_SEMI = frozenset(";；")
# Quotes and brackets that stay with the sentence they close. German closes
# with “ ‘ « ‹ too; in Chinese and English those open the next sentence.
_CLOSERS_BASE = "\"'”’」』）》〉】〕〗〙〛)]}＂＇］｝»›"
_CLOSERS_DE = _CLOSERS_BASE + "“‘«‹"
_CLOSERS = frozenset(_CLOSERS_DE)  # for line-end checks, where any will do
# A line ending in one of these (after closers) is finished.
_FINAL = frozenset(".!?…‥。！？｡．;；:：")
# A line ending in one of these continues on the next line.
_CONTINUES = frozenset(",，、(（[［「『“‘«‹/&+=")
_OPEN_QUOTES = frozenset("\"'“‘„«‹「『")
_DASHES = frozenset("—―─━－‐")  # a lone one stands for 一 after OCR

# Enumeration labels as written: （一） (四) (V) (16) （１６）.
_LABEL_BODY = r"[(（][ \t\u3000]{0,2}(?:[〇零一二两三四五六七八九十百千]{1,8}|\d{1,3}|[IVXLCDMivxlcdm]{1,8})[ \t\u3000]{0,2}[)）]"
_LABEL = re.compile(_LABEL_BODY)
# A label inside a line starts a segment only after a colon or semicolon.
_MIDLABEL = re.compile(r"[：:；;]\s*(" + _LABEL_BODY + ")")
# Dialogue: an utterance broken off by a dash ends a sentence where its quotation
# closes, and two quotations side by side (two speakers) are two sentences; neither
# has a full stop to cut at (the empty group marks the cut).
_DIALOGUE = {
    True: re.compile(r"[—―]{2}[”」』]()\s*[\u3400-\u9fff“「『]|[”」』]()\s*[“「『]"),
    False: re.compile(r"""[—–]['"”’]()\s+(?![a-z])\S|[”’]()\s*[“‘]"""),
}
# List items: "- x", "-- x", "——x", "• x".
_ITEM = re.compile(r"(?:--+|——+|－－|[-–—•●▪◦*·‐](?=[ \t\u3000]))[ \t\u3000]*(?=\S)")

_SIGNATURE_CUE = re.compile(
    r"签字|签署|签名|（签）|signed|signature|unterzeichn|gezeichnet|gez\.|signé"
    r"|\b(?:1[6-9]|20)\d\d\b|[〇零一二三四五六七八九○]{4}\s*年|\d{1,4}\s*年\s*\d{1,2}\s*月"
    r"|(?:january|february|march|april|june|july|august|september|october|november|december"
    r"|januar|februar|märz|juni|juli|oktober|dezember|janvier|février|mars|avril|juin"
    r"|juillet|août|septembre|octobre|novembre|décembre)",
    re.IGNORECASE,
)

# Words after which a full stop does not end a sentence (compared lowercased,
# inner dots kept). Small and generic on purpose: en, plus a few de/fr ones.
_ABBREV = frozenset(
    """mr mrs ms mx dr prof st sr jr gen col lt capt sgt gov sen rep rev hon pres
    messrs mme mlle ste hr hrn
    e.g i.e etc vs cf al approx ca inc ltd co corp dept univ viz resp
    jan feb mar apr jun jul aug sep sept oct nov dec
    bzw z.b d.h u.a usw vgl ggf evtl inkl sog hrsg str
    env av p.ex""".split()
)
# ... and after which it does not end one when a number follows ("No. 5").
_NUM_ABBREV = frozenset("no nos nr art arts p pp vol vols fig figs ch chap sec para paras ed eds".split())


class _Line(NamedTuple):
    start: int  # stripped content bounds
    end: int
    para: int


class _Piece(NamedTuple):
    start: int
    end: int
    para: int
    kind: str
    first: bool  # first piece of its layout unit


# --------------------------------------------------------------------------
# public API


def segment(doc: Document) -> list[Segment]:
    """Segment running text; ``doc.lang`` "zh" picks the Chinese rules."""
    text = _checked_text(doc)
    zh = _is_chinese(doc.lang)
    lang = _base_lang(doc.lang)
    lines = _content_lines(text)
    sig = _signature_start(text, lines)
    pieces: list[_Piece] = []
    i = 0
    while i < sig:
        j = i
        while j < sig and lines[j].para == lines[i].para:
            j += 1
        for s, e, para, kind in _paragraph_units(text, lines[i:j], zh):
            if kind == "heading":
                pieces.append(_Piece(s, e, para, kind, True))
            else:
                cuts = _split_unit(text, s, e, zh, lang, kind == "item")
                for n, (ps, pe) in enumerate(cuts):
                    pieces.append(_Piece(ps, pe, para, "item" if kind == "item" else "sentence", n == 0))
        i = j
    for line in lines[sig:]:
        pieces.append(_Piece(line.start, line.end, line.para, "signature", True))
    return _with_structure(text, pieces, zh)


def segment_lines(doc: Document) -> list[Segment]:
    """One segment per line, for pre-split input (Vecalign/gold files).

    Empty lines stay as empty segments so that line numbers keep matching the
    gold indices; a final newline does not add a line.
    """
    text = _checked_text(doc)
    spans = _raw_lines(text)
    if spans and spans[-1][0] == len(text) and (len(spans) > 1 or not text):
        spans.pop()
    out = []
    for n, (s, e) in enumerate(spans):
        bounds = _strip_bounds(text, s, e) or (s, s)
        out.append(Segment(index=n, start=bounds[0], end=bounds[1], text=text[bounds[0]:bounds[1]], paragraph=n))
    return out


def word_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Word tokens as offsets into ``text``; whitespace and punctuation skipped."""
    if _is_chinese(lang):
        try:
            tokens = _zh_tokenize()(text)
        except UnicodeEncodeError:
            # jieba-rs takes only valid Unicode; a lone surrogate (undecodable
            # input byte) becomes U+FFFD, one code point, so offsets hold.
            tokens = _zh_tokenize()(_SURROGATE.sub("\ufffd", text))
        return [(s, e) for w, s, e in tokens if _is_wordish(w)]
    return [m.span() for m in _WORD.finditer(text)]


def parse_number_label(label: str) -> int | None:
    """Value of an enumeration label or bare numeral: （十六）, (V), (16), １６, three."""
    return _parse_number_label(label) if len(label) <= 32 else None


@lru_cache(maxsize=4096)
def _parse_number_label(label: str) -> int | None:
    s = label.strip().strip("()（）[]［］【】〔〕").strip()
    s = s.rstrip("、.．:：").strip()
    if not s:
        return None
    if s.isdecimal():
        return int(s)
    for parse in (_chinese_number, _roman_number, _english_number):
        value = parse(s)
        if value is not None:
            return value
    return None


def part_number(heading: str, lang: str) -> int | None:
    """Number of a part heading ("三", "Three", "Part II", "第三部分"), else None.

    A lone dash in Chinese counts as 一: OCR turns 一 into "—".
    """
    t = heading.strip()
    if not t or len(t) > 24:
        return None
    if _is_chinese(lang) and len(t) == 1 and t in _DASHES:
        return 1
    m = re.fullmatch(r"第\s*(\S{1,8}?)\s*(?:部分|章|编|篇|部|节)|(?:part|chapter|teil|kapitel|partie|chapitre)\s+(\S{1,12})", t, re.IGNORECASE)
    body = (m.group(1) or m.group(2)) if m else t.rstrip("、.．:：")
    if len(body) > 12 or (body.isdecimal() and len(body) > 3):
        return None
    value = parse_number_label(body)
    if value is None or not 0 < value < 1000:
        return None
    return value


# --------------------------------------------------------------------------
# layout


def _checked_text(doc: Document) -> str:
    if not isinstance(doc.text, str):
        raise AlignError(f"{doc.path or '<input>'}: document text is not decoded text ({type(doc.text).__name__})")
    return doc.text


def _base_lang(lang: str) -> str:
    return re.split(r"[-_]", (lang or "").strip().lower(), maxsplit=1)[0]


def _is_chinese(lang: str) -> bool:
    return _base_lang(lang) in {"zh", "zho", "chi", "cmn", "yue", "wuu"}


def _raw_lines(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for m in _NEWLINE.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def _strip_bounds(text: str, s: int, e: int) -> tuple[int, int] | None:
    chunk = text[s:e]
    left = chunk.lstrip()
    if not left:
        return None
    return s + len(chunk) - len(left), s + len(left.rstrip()) + (len(chunk) - len(left))


def _content_lines(text: str) -> list[_Line]:
    """Non-blank lines with stripped bounds and their blank-line block index."""
    out: list[_Line] = []
    para = -1
    in_block = False
    for s, e in _raw_lines(text):
        bounds = _strip_bounds(text, s, e)
        if bounds is None:
            in_block = False
            continue
        if not in_block:
            para += 1
            in_block = True
        out.append(_Line(bounds[0], bounds[1], para))
    return out


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _last_mark(line: str) -> str:
    """Last character of a line once closing quotes/brackets are dropped."""
    k = len(line)
    while k > 0 and line[k - 1] in _CLOSERS:
        k -= 1
    return line[k - 1] if k else ""


def _ends_final(line: str) -> bool:
    mark = _last_mark(line)
    return mark != "" and mark in _FINAL


def _starts_label(line: str) -> bool:
    m = _LABEL.match(line)
    return bool(m) and _valid_label(m.group())


def _starts_item(line: str) -> bool:
    return _ITEM.match(line) is not None


def _valid_label(label: str) -> bool:
    body = label.strip("()（） \t\u3000")
    if len(body) == 1 and body in "LCDMlcdm":
        return False
    return parse_number_label(label) is not None


def _heading_like(line: str) -> bool:
    """A short unpunctuated line that is not a label, an item or quoted speech."""
    if len(line) > 100 or _width(line) > 100:
        return False
    last = line[-1]
    if _ends_final(line) or last in _CONTINUES or line[0] in _OPEN_QUOTES:
        return False
    return not (_starts_label(line) or _starts_item(line))


def _inpara_heading(line: str, nxt: str, zh: bool) -> bool:
    """A heading glued to the text below it: short, and followed by a longer
    line (or a list), so hard-wrapped prose is not cut at every line."""
    if not _heading_like(line) or _width(line) > 60:
        return False
    if _starts_item(nxt) or _starts_label(nxt):
        return True
    w = _width(line)
    if len(nxt) < 200 and _width(nxt) < 1.5 * w:
        return False
    if zh:
        return True
    first = next((ch for ch in nxt if ch.isalpha()), "")
    return not first.islower()


def _paragraph_units(text: str, plines: list[_Line], zh: bool) -> list[tuple[int, int, int, str]]:
    """Cut one blank-line block into heading / item / text units."""
    para = plines[0].para
    lines = [text[ln.start:ln.end] for ln in plines]
    n = len(plines)
    if n == 1 and _heading_like(lines[0]):
        return [(plines[0].start, plines[0].end, para, "heading")]
    final = [_ends_final(t) for t in lines]
    item = [_starts_item(t) for t in lines]
    label = [_starts_label(t) for t in lines]

    def glued_heading(k: int) -> bool:
        return not (item[k] or label[k]) and k + 1 < n and _inpara_heading(lines[k], lines[k + 1], zh)

    units = []
    i = 0
    while i < n:
        if item[i]:
            kind = "item"
        elif (i == 0 or final[i - 1]) and glued_heading(i):
            units.append((plines[i].start, plines[i].end, para, "heading"))
            i += 1
            continue
        else:
            kind = "text"
        j = i + 1
        while j < n:
            if (kind == "item" and final[j - 1]) or item[j] or label[j]:
                break
            if final[j - 1] and glued_heading(j):
                break
            j += 1
        units.append((plines[i].start, plines[j - 1].end, para, kind))
        i = j
    return units


def _signature_start(text: str, lines: list[_Line]) -> int:
    """Index of the first line of a closing signature block, or len(lines).

    The block is a short run (at most 8) of short unpunctuated lines that ends
    the document, follows finished text and names a signature or a date.
    """
    n = len(lines)
    k = n
    while k > 0 and n - k <= 8:
        t = text[lines[k - 1].start:lines[k - 1].end]
        if len(t) > 100 or _width(t) > 100 or _ends_final(t) or _starts_label(t) or _starts_item(t):
            break
        k -= 1
    if k == n or k == 0 or n - k > 8:
        return n
    before = text[lines[k - 1].start:lines[k - 1].end]
    if lines[k - 1].para == lines[k].para and not _ends_final(before):
        return n
    if not any(_SIGNATURE_CUE.search(text, ln.start, ln.end) for ln in lines[k:]):
        return n
    return k


# --------------------------------------------------------------------------
# sentences


@lru_cache(maxsize=8)
def _term_regex(zh: bool, lang: str) -> re.Pattern:
    """Marks, the closers kept with them, and a peek at the next visible
    character. Chinese allows a stray space before a closing quote (。 ”)."""
    closers = re.escape(_CLOSERS_DE if lang == "de" else _CLOSERS_BASE)
    close = rf"(?:[ \t\u3000]*[{closers}])*" if zh else rf"[{closers}]*"
    return re.compile(rf"(?P<run>{_MARKS_RUN})(?P<close>{close})(?=\s*(?P<next>\S)?)")


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF" and ch.isalpha()


def _split_unit(text: str, us: int, ue: int, zh: bool, lang: str, item: bool) -> list[tuple[int, int]]:
    """Cut a unit [us, ue) at sentence ends; returns stripped, non-empty spans."""
    cuts: list[int] = []
    for m in _term_regex(zh, lang).finditer(text, us, ue):
        k = m.end("close")
        if k >= ue:
            continue
        nxt = m.group("next")
        # fast path: "word. lower" and "1.5" go on, whatever the rule below
        if nxt is not None and nxt.islower() and m.start("next") > k and not any(ch in _HARD for ch in m.group("run")):
            continue
        if _is_boundary(text, us, m.start(), m.end("run"), k, m.start("next"), zh, lang, item):
            cuts.append(k)
    for m in _MIDLABEL.finditer(text, us, ue):
        if _valid_label(m.group(1)):
            cuts.append(m.start(1))
    for m in _DIALOGUE[zh].finditer(text, us, ue):
        cuts.append(max(m.start(1), m.start(2)))
    out = []
    prev = us
    for c in sorted(set(cuts)) + [ue]:
        if c <= prev:
            continue
        bounds = _strip_bounds(text, prev, c)
        if bounds:
            out.extend(_cap_length(text, *bounds))
        prev = c
    return out


# A "sentence" longer than this has lost its punctuation (a table, a scan, a
# file without full stops): one such segment would make a single bead out of
# pages and a single encoder batch out of megabytes. Real sentences in our
# texts stay under 700 characters.
MAX_SEGMENT_CHARS = 1500
_SOFT_BREAK = re.compile(r"[，；：、,;:)）」』”]\s*|\s+")


def _cap_length(text: str, s: int, e: int, limit: int = MAX_SEGMENT_CHARS) -> list[tuple[int, int]]:
    """Cut an over-long span at clause punctuation, else at a space, else hard,
    so that no piece exceeds ``limit`` characters."""
    out = []
    while e - s > limit:
        lo, hi = s + limit // 2, s + limit
        cut = hi
        for m in _SOFT_BREAK.finditer(text, lo, hi):
            cut = m.end()
        bounds = _strip_bounds(text, s, cut)
        if bounds:
            out.append(bounds)
        s = cut
    bounds = _strip_bounds(text, s, e)
    if bounds:
        out.append(bounds)
    return out


def _is_boundary(text: str, us: int, a: int, b: int, k: int, n: int, zh: bool, lang: str, item: bool) -> bool:
    """Whether the run of marks text[a:b] (closers up to k, next visible
    character at n) ends a sentence."""
    run = text[a:b]
    nxt = text[k]
    if any(ch in _HARD for ch in run):
        return True
    if zh and all(ch in _ELLIPSIS for ch in run):
        # Chinese …… mostly marks a pause; it ends a sentence when a quote
        # or bracket closes right after it.
        return k > b
    if all(ch in _SEMI for ch in run):
        return item and ("；" in run or nxt.isspace())
    if not nxt.isspace():
        # CJK text needs no space after "!" / "?"; a period glued to the next
        # word (1.5, example.com, U.S.) never ends a sentence.
        return zh and run[-1] in "!?" and _is_cjk(nxt)
    c = text[n]
    if c.islower():
        return False
    if run in (".", "．"):
        return not _abbreviation_before(text, us, a, n, lang)
    return True


def _abbreviation_before(text: str, us: int, a: int, n: int, lang: str) -> bool:
    """Whether the period at ``a`` closes an abbreviation, an initial or (in
    German) an ordinal number rather than a sentence; ``n`` is where the next
    word starts."""
    following = text[n]
    j = a
    lim = max(us, a - 24)
    while j > lim and (text[j - 1].isalpha() or text[j - 1] == "."):
        j -= 1
    if j == lim and j > us and text[j - 1].isalpha():
        return False
    token = text[j:a].lstrip(".")
    if not token:
        if lang == "de":
            d = a
            while d > us and a - d <= 2 and text[d - 1].isdecimal():
                d -= 1
            return 0 < a - d <= 2 and (d == us or not text[d - 1].isalnum())
        return False
    low = token.lower()
    if low in _ABBREV:
        return True
    if low in _NUM_ABBREV and following.isdecimal():
        return True
    if len(token) == 1 and j > us and text[j - 1] in "'’":
        return False  # didn't. / Ladyship's.
    if len(token) == 1 and token.islower():
        return True  # z. B., u. a., d. h. spelled with spaces
    if len(token) == 1 and token.isupper():
        # an initial, but "I." mostly ends a sentence unless initials follow
        return token != "I" or text[n + 1:n + 2] == "."
    return "." in token and all(0 < len(p) <= 3 for p in token.split("."))


# --------------------------------------------------------------------------
# structure


def _with_structure(text: str, pieces: list[_Piece], zh: bool) -> list[Segment]:
    """Attach part / section / clause to each piece, in reading order."""
    out: list[Segment] = []
    part: str | None = None
    section: str | None = None
    clause: str | None = None
    clause_no: int | None = None
    for idx, p in enumerate(pieces):
        t = text[p.start:p.end]
        number: int | None = None
        if p.kind == "signature":
            seg_part = seg_section = seg_clause = None
        elif p.kind == "heading":
            value = part_number(t, "zh" if zh else "en")
            if value is not None and not (len(t) == 1 and t in _DASHES and part is not None):
                part = t
                number = value
            section = t
            clause, clause_no = None, None
            seg_part, seg_section, seg_clause = part, section, None
        else:
            m = _LABEL.match(text, p.start)
            if m and _valid_label(m.group()):
                clause, clause_no = m.group(), parse_number_label(m.group())
            elif p.kind == "item" and p.first:
                clause, clause_no = None, None
            seg_part, seg_section, seg_clause = part, section, clause
            number = clause_no
        out.append(
            Segment(
                index=idx,
                start=p.start,
                end=p.end,
                text=t,
                paragraph=p.para,
                kind=p.kind,
                section=seg_section,
                part=seg_part,
                clause=seg_clause,
                number=number,
            )
        )
    return out


# --------------------------------------------------------------------------
# numbers

_ZH_DIGITS = {
    "〇": 0, "零": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
_ZH_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}


def _chinese_number(s: str) -> int | None:
    if not all(ch in _ZH_DIGITS or ch in _ZH_UNITS or ch in "万萬" for ch in s):
        return None
    if not any(ch in _ZH_UNITS or ch in "万萬" for ch in s):
        # digit by digit, as in years: 二〇一九
        value = 0
        for ch in s:
            value = value * 10 + _ZH_DIGITS[ch]
        return value
    total = section = 0
    cur: int | None = None
    last_unit = 10**9
    for ch in s:
        if ch in _ZH_DIGITS:
            d = _ZH_DIGITS[ch]
            if d == 0:
                if cur is not None:
                    return None
                continue
            if cur is not None:
                return None
            cur = d
        elif ch in _ZH_UNITS:
            u = _ZH_UNITS[ch]
            if u >= last_unit:
                return None
            section += (1 if cur is None else cur) * u
            cur, last_unit = None, u
        else:  # 万
            section += cur or 0
            if total or not section:
                return None
            total, section, cur, last_unit = section * 10000, 0, None, 10**9
    return total + section + (cur or 0)


_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _roman_number(s: str) -> int | None:
    if not s.isascii() or not (s.isupper() or s.islower()):
        return None
    u = s.upper()
    if not _ROMAN.fullmatch(u):
        return None
    total = 0
    for i, ch in enumerate(u):
        v = _ROMAN_VALUES[ch]
        total += -v if i + 1 < len(u) and _ROMAN_VALUES[u[i + 1]] > v else v
    return total


_EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}


def _english_number(s: str) -> int | None:
    words = re.split(r"[-\s]+", s.lower())
    if len(words) == 1:
        w = words[0]
        if w in _EN_ONES:
            return _EN_ONES.index(w)
        return _EN_TENS.get(w)
    if len(words) == 2 and words[0] in _EN_TENS and words[1] in _EN_ONES[1:10]:
        return _EN_TENS[words[0]] + _EN_ONES.index(words[1])
    return None


# --------------------------------------------------------------------------
# words

_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = re.compile(
    rf"[^\W_](?:[^\W_]|[{_MARKS}])*"
    rf"(?:(?:[-‐‑'’]|(?<=\d)[.,:/–](?=\d))[^\W_](?:[^\W_]|[{_MARKS}])*)*"
)


_ALNUM = re.compile(r"[^\W_]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_wordish(token: str) -> bool:
    return _ALNUM.search(token) is not None


@lru_cache(maxsize=1)
def _zh_tokenize():
    """jieba's tokenizer, loaded on first use: jieba-rs (``rjieba``, the same
    dictionary and algorithm in Rust) when installed, ~8x faster than the
    Python original; their words differ on 14 of the Bible's 42,687 Chinese
    lines and on none of the Joint Statement's."""
    try:
        import rjieba

        return rjieba.tokenize
    except ImportError:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        return jieba.tokenize
