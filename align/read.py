"""Reading input texts: decoding, sanity checks and language detection.

Offsets everywhere else index into the decoded text returned here, so the
decoding must be deterministic and must never silently drop characters.
"""

from __future__ import annotations

import codecs
import re
import stat
from collections import Counter
from pathlib import Path

from .model import AlignError, Document

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Magic numbers of formats people pass by mistake instead of plain text.
_BINARY_MAGIC = {
    b"%PDF": "a PDF file",
    b"PK\x03\x04": "a ZIP archive (a .docx/.xlsx/.odt file?)",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office file (.doc/.xls)",
    b"{\\rtf": "an RTF file",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "a gzip archive",
    b"\x7fELF": "an executable program",
    b"SQLite format 3\x00": "an SQLite database",
    b"GIF89a": "a GIF image",
    b"GIF87a": "a GIF image",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!\x1a\x07": "a RAR archive",
}

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[a-zà-ÿß]+")

# A few very frequent function words are enough to tell the Latin-script
# languages of our benchmarks apart; anything else is reported as "en"-like.
_STOPWORDS = {
    "en": {"the", "and", "of", "to", "in", "is", "that", "it", "was", "for", "with", "on", "as", "he", "she"},
    "de": {"der", "die", "und", "das", "ist", "nicht", "mit", "sich", "den", "auf", "ein", "eine", "zu", "von", "dem"},
    "fr": {"le", "la", "les", "et", "des", "est", "une", "un", "du", "que", "pas", "dans", "pour", "sur", "qui"},
}


# Error handlers a user may add to --encoding ("utf-8:replace"): both keep
# one character per bad byte, so nothing is dropped silently and the count
# can be reported; "ignore" would drop bytes and is refused.
_ERROR_HANDLERS = ("strict", "replace", "surrogateescape", "backslashreplace")

# GB18030 is only accepted unasked when the decoded text reads as Chinese:
# Han characters are at least half of all letters, at least 90% of them are
# among the 6,763 of GB2312 (real simplified Chinese: >99.5% on every text we
# have), and private-use characters are at most 1%. Text in another encoding
# (Big5, UTF-8 with a bad byte) decoded as GB18030 yields rare Han characters
# and private-use code points: 27-43% GB2312 on the same texts encoded as Big5.
GB_MIN_HAN_SHARE = 0.5
GB_MIN_COMMON_SHARE = 0.9
GB_MAX_PRIVATE_SHARE = 0.01


def split_encoding(spec: str) -> tuple[str, str]:
    """'gb18030' -> ('gb18030', 'strict'); 'utf-8:replace' -> ('utf-8', 'replace')."""
    name, _, errors = spec.partition(":")
    errors = errors.strip().lower() or "strict"
    if errors not in _ERROR_HANDLERS:
        raise AlignError(
            f"encoding {spec!r}: unknown error handler {errors!r}; use one of {', '.join(_ERROR_HANDLERS)}"
        )
    return name.strip(), errors


def decode(data: bytes, encoding: str | None = None, name: str = "input") -> tuple[str, str]:
    """Decode bytes to text and name the encoding used.

    Without an explicit encoding: a BOM wins, then strict UTF-8, then GB18030
    (a superset of GBK/GB2312) when it decodes strictly and passes the
    confidence rule above. Anything else is refused rather than guessed,
    because a wrong guess silently corrupts every sentence. ``encoding`` may
    carry an error handler ("utf-8:replace") for files with a few bad bytes.
    """
    if encoding:
        codec, errors = split_encoding(encoding)
        try:
            text = data.decode(codec, errors)
        except LookupError:
            raise AlignError(f"{name}: unknown encoding {codec!r}") from None
        except UnicodeDecodeError as exc:
            raise AlignError(
                f"{name}: not valid {codec} at byte {exc.start} ({_where(data, exc.start)}); "
                f"try --encoding {codec}:replace to keep going with U+FFFD for bad bytes"
            ) from None
        if codec.lower().replace("_", "-") in ("utf-8", "utf8") and text.startswith("\ufeff"):
            # the BOM is not text: keep offsets the same as in auto-detection
            return text[1:], "utf-8-sig" + ("" if errors == "strict" else ":" + errors)
        return text, encoding
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise AlignError(
                    f"{name}: has a {codec} byte-order mark but is not valid {codec} at byte {exc.start}"
                ) from None
    what = _binary_kind(data)
    if what:
        raise AlignError(f"{name}: this is {what}, not a plain-text file; save it as UTF-8 text first")
    if _looks_utf16(data):
        codec = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            pass
    if _looks_binary(data):
        raise AlignError(f"{name}: looks like a binary file (many NUL or control bytes), not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        problem = _utf8_problem(data, utf8_error)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise AlignError(f"{name}: {problem}, nor GB18030; {_encoding_hint(data)}") from None
    doubt = gb18030_doubt(text)
    if doubt is None:
        return text, "gb18030"
    raise AlignError(f"{name}: {problem}; it decodes as GB18030 but {doubt}; {_encoding_hint(data)}") from None


def gb18030_doubt(text: str) -> str | None:
    """Why ``text`` (decoded as GB18030) is probably not Chinese, or None if it is."""
    counts = Counter(text)  # one pass in C; the rules below look at distinct characters only
    letters = sum(n for ch, n in counts.items() if ch.isalpha())
    han = {ch: n for ch, n in counts.items() if _HAN.match(ch)}
    n_han = sum(han.values())
    if not letters or n_han < GB_MIN_HAN_SHARE * letters:
        return f"only {n_han} of its {letters} letters are Chinese characters"
    common = sum(n for ch, n in han.items() if _in_gb2312(ch))
    if common < GB_MIN_COMMON_SHARE * n_han:
        return f"only {100 * common // n_han}% of its Chinese characters are common ones (GB2312)"
    private = sum(n for ch, n in counts.items() if "\ue000" <= ch <= "\uf8ff")
    if private > GB_MAX_PRIVATE_SHARE * len(text):
        return f"{private} characters fall in the private-use area"
    return None


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"line {line}"


def _utf8_problem(data: bytes, exc: UnicodeDecodeError) -> str:
    if exc.end >= len(data) and "unexpected end" in exc.reason:
        return f"not valid UTF-8: it ends in the middle of a character (byte {exc.start}; a truncated file?)"
    return f"not valid UTF-8 (byte {exc.start}, {_where(data, exc.start)})"


def _encoding_hint(data: bytes) -> str:
    """A concrete --encoding suggestion when one common legacy encoding fits."""
    for codec, label in (("big5", "Big5 (traditional Chinese)"), ("cp1252", "Windows-1252 (Western)")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "big5" and len(_HAN.findall(text)) < 0.5 * max(1, sum(ch.isalpha() for ch in text)):
            continue
        if codec == "cp1252" and sum(b >= 0x80 for b in data) > 0.1 * len(data):
            continue
        return f"it may be {label}: pass --encoding {codec}"
    return "pass --encoding NAME (e.g. gb18030, big5, cp1252), or NAME:replace to keep going"


def _binary_kind(data: bytes) -> str | None:
    """What a non-text file is, from its magic number (and ZIP contents)."""
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            if magic == b"PK\x03\x04":
                return _zip_kind(data) or what
            return what
    return None


def _zip_kind(data: bytes) -> str | None:
    import io
    import zipfile

    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    for prefix, what in (("word/", "a Word .docx document"), ("xl/", "an Excel .xlsx workbook"),
                         ("ppt/", "a PowerPoint .pptx file")):
        if any(n.startswith(prefix) for n in names):
            return what
    if "mimetype" in names and "content.xml" in names:
        return "an OpenDocument (.odt/.ods) file"
    return None


# Control bytes text files do not hold (TAB, LF, VT, FF, CR and ESC they may).
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))


def _looks_binary(data: bytes) -> bool:
    """More than 1% NUL bytes, or more than 5% other controls, in the first 8 KB."""
    sample = data[:8192]
    if not sample:
        return False
    nul = sample.count(0)
    controls = len(sample) - len(sample.translate(None, _BINARY_BYTES))
    return nul > len(sample) / 100 or controls > len(sample) / 20


def _looks_utf16(data: bytes) -> bool:
    """BOM-less UTF-16 shows NUL in every other byte for ASCII-heavy text."""
    sample = data[:2000]
    if len(sample) < 4 or len(sample) % 2:
        return False
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    return max(even, odd) > 0.3 * half and min(even, odd) < 0.05 * half


def detect_lang(text: str) -> str:
    """Guess the language from its script, then from function words.

    Good enough to route a document to the right segmenter and to catch the
    two files being swapped; users can always override it.
    """
    sample = text[:20000]
    han = len(_HAN.findall(sample))
    counts = {
        "ja": len(_KANA.findall(sample)),
        "ko": len(_HANGUL.findall(sample)),
        "ru": len(_CYRILLIC.findall(sample)),
        "latin": len(_LATIN.findall(sample)),
    }
    if counts["ja"] > 0.1 * max(han, 1) and counts["ja"] > 20:
        return "ja"
    if han >= max(counts.values()) * 0.5 and han > 0:
        return "zh"
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        return "und"
    if best != "latin":
        return best
    words = _WORD.findall(sample.lower())
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    lang = max(scores, key=scores.get)
    return lang if scores[lang] else "en"


def read_document(path: str | Path, lang: str | None = None, encoding: str | None = None) -> Document:
    """Read one input file as a Document, with a one-line error for bad input."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise AlignError(f"{p}: no such file") from None
    except OSError as exc:
        raise AlignError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise AlignError(f"{p}: is a directory, expected a text file")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        raise AlignError(f"{p}: is not a regular file (a device or socket?), expected a text file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AlignError(f"{p}: cannot read ({exc.strerror or exc})") from None
    text, used = decode(data, encoding, str(p))
    if not text.strip():
        raise AlignError(f"{p}: is empty (no text to align)" if not text else f"{p}: contains only whitespace (no text to align)")
    detected = detect_lang(text)
    warnings = text_warnings(text, str(p))
    if lang and detected not in (lang, "und") and not (lang == "zh" and detected == "ja"):
        warnings.append(f"{p}: expected {lang} text but it looks like {detected}")
    return Document(text=text, lang=lang or detected, path=str(p), encoding=used, warnings=tuple(warnings))


_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")  # not VT/FF: Word's line and page breaks
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a bad byte
_MARKUP = re.compile(r"\s*(?:<\?xml|<!doctype html|<html|<tmx)", re.IGNORECASE)


def text_warnings(text: str, name: str) -> list[str]:
    """Things in decoded text that are kept but that a user should know about."""
    out = []
    bad = text.count("\ufffd")
    if bad:
        out.append(f"{name}: {bad} undecodable byte(s) shown as U+FFFD (first at {_locate(text, text.index(chr(0xFFFD)))})")
    escaped = len(_ESCAPED_BYTE.findall(text))
    if escaped:
        out.append(f"{name}: {escaped} undecodable byte(s) kept as lone surrogates")
    controls = _CONTROL.findall(text)
    if controls:
        first = _CONTROL.search(text).start()
        out.append(f"{name}: {len(controls)} control character(s), first at {_locate(text, first)}; "
                   "they are kept, but TMX cannot carry them")
    if _MARKUP.match(text):
        out.append(f"{name}: looks like XML/HTML; its markup will be aligned as text")
    return out


def _locate(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"line {line}, column {offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def document_from_text(text: str, lang: str | None = None, name: str | None = None) -> Document:
    """Wrap an in-memory string, for library users who do not have files."""
    return Document(text=text, lang=lang or detect_lang(text), path=name)
