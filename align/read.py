"""Reading input texts: decoding, sanity checks and language detection.

Offsets everywhere else index into the decoded text returned here, so the
decoding must be deterministic and must never silently drop characters.
"""

from __future__ import annotations

import codecs
import re
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


def decode(data: bytes, encoding: str | None = None, name: str = "input") -> tuple[str, str]:
    """Decode bytes to text and name the encoding used.

    Without an explicit encoding: a BOM wins, then strict UTF-8, then GB18030
    (a superset of GBK/GB2312) when it decodes strictly and yields mostly Han
    characters. Anything else is refused rather than guessed, because a wrong
    guess silently corrupts every sentence.
    """
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise AlignError(f"{name}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise AlignError(f"{name}: not valid {encoding} at byte {exc.start}") from None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise AlignError(f"{name}: has a {codec} byte-order mark but is not valid {codec} at byte {exc.start}") from None
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise AlignError(f"{name}: this is {what}, not a plain-text file; save it as UTF-8 text first")
    if _looks_utf16(data):
        codec = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096] and data.count(b"\x00") > len(data) // 100:
        raise AlignError(f"{name}: looks like a binary file (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise AlignError(
                f"{name}: not valid UTF-8 (byte {utf8_error.start}) nor GB18030; pass --encoding NAME"
            ) from None
        han = len(_HAN.findall(text))
        letters = sum(ch.isalpha() for ch in text)
        if letters and han / letters >= 0.5:
            return text, "gb18030"
        raise AlignError(f"{name}: not valid UTF-8 (byte {utf8_error.start}); pass --encoding NAME") from None


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
    if not p.exists():
        raise AlignError(f"{p}: no such file")
    if p.is_dir():
        raise AlignError(f"{p}: is a directory, expected a text file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AlignError(f"{p}: cannot read ({exc.strerror})") from None
    text, used = decode(data, encoding, str(p))
    if not text.strip():
        raise AlignError(f"{p}: is empty (no text to align)")
    detected = detect_lang(text)
    warnings: list[str] = []
    if lang and detected not in (lang, "und") and not (lang == "zh" and detected == "ja"):
        warnings.append(f"{p}: expected {lang} text but it looks like {detected}")
    return Document(text=text, lang=lang or detected, path=str(p), encoding=used, warnings=tuple(warnings))


def document_from_text(text: str, lang: str | None = None, name: str | None = None) -> Document:
    """Wrap an in-memory string, for library users who do not have files."""
    return Document(text=text, lang=lang or detect_lang(text), path=name)
