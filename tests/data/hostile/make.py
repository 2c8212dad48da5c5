"""Write the hostile input files of this folder (run it after changing it).

Each file is a small, real-world-shaped version of something a translator
gets from a client: the opening of the Joint Statement (texts/) in another
encoding, with Word's characters, with control characters, cut short, or not
text at all. The outcome expected for each is asserted in
tests/test_reliability.py and tests/test_cli.py; test_reliability also checks
that this script reproduces the committed files byte for byte.

    python tests/data/hostile/make.py          # (re)write the files
    python tests/data/hostile/make.py --check  # exit 1 if any file differs
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def paragraphs(lang: str, n: int) -> str:
    """The first ``n`` blank-line paragraphs of the Joint Statement, LF line ends."""
    text = (REPO / "texts" / lang / "joint-statement.txt").read_text(encoding="utf-8")
    return "\n\n".join(re.split(r"\n\s*\n", text.strip())[:n]) + "\n"


ZH = paragraphs("zh", 6)
EN = paragraphs("en", 7)
# Traditional Chinese (as in Taiwan/Hong Kong), for Big5.
ZH_HANT = (
    "中華人民共和國和俄羅斯聯邦關於發展新時代全面戰略協作夥伴關係的聯合聲明\n\n"
    "應俄羅斯聯邦總統普京邀請，中華人民共和國主席習近平於2019年6月5日至7日對俄羅斯進行國事訪問。"
    "兩國元首在莫斯科舉行會談。\n"
)


def word_export(text: str) -> str:
    """What Word does to plain text: curly quotes, no-break spaces, soft hyphens,
    manual line breaks (vertical tab), page breaks (form feed), tab bullets."""
    text = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", text)
    text = text.replace("'", "\u2019")
    text = text.replace("President ", "President\u00a0").replace("cooperation", "co\u00adoperation")
    text = text.replace("Russian Federation, De A.", "Russian Federation,\x0bDe A.")
    text = text.replace("\n- ", "\n\u2022\t")
    paras = text.split("\n\n")
    paras.insert(3, "\x0c")
    return "\n\n".join(paras)


def fullwidth(text: str) -> str:
    """ASCII digits and letters as their full-width forms, plus a full-width clause label."""
    out = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)
    return out + "\n（１６）双方将在ＡＰＥＣ和Ｇ２０框架内加强协调。\n"


def zero_width(text: str) -> str:
    """Zero-width spaces and joiners from web copy, a stray BOM mid-file, and a
    line that holds nothing else."""
    text = text.replace("俄罗斯", "俄\u200b罗\u200b斯").replace("联合声明", "联合\u200d声明")
    paras = text.split("\n\n")
    paras[1] = "\ufeff" + paras[1]
    paras.insert(2, "\u200b")
    return "\n\n".join(paras)


def ideographic(text: str) -> str:
    """Paragraphs indented with two ideographic spaces, as in Chinese typesetting."""
    return "\n\n".join("\u3000\u3000" + p.replace("，", "，\u3000", 1) for p in text.split("\n\n"))


def tabs_formfeed(text: str) -> str:
    paras = text.split("\n\n")
    return "\n\n".join(("\t" + p if i % 2 else p) + ("\n\x0c" if i == 2 else "") for i, p in enumerate(paras))


def control_chars(text: str) -> str:
    """A terminal copy (ANSI colour codes, a bell), a NUL and a DEL."""
    paras = text.split("\n\n")
    paras[2] = "\x1b[1m" + paras[2].replace("Putin", "Putin\x07") + "\x1b[0m"
    paras[3] = paras[3].replace("China", "Chi\x00na").replace("Federation", "Federation\x7f")
    return "\n\n".join(paras)


def html(text: str) -> str:
    body = "".join(f"<p>{p}</p>\n" for p in text.strip().split("\n\n"))
    return f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Statement</title></head>\n<body>\n{body}</body></html>\n"


def docx(text: str) -> bytes:
    """A minimal but genuine .docx (a ZIP with word/document.xml), fixed timestamps."""
    from xml.sax.saxutils import escape

    paras = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in text.strip().split("\n\n"))
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/></Types>',
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
        f'wordprocessingml/2006/main"><w:body>{paras}</w:body></w:document>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2019, 6, 5, 0, 0, 0)), content)
    return buf.getvalue()


def pdf(text: str) -> bytes:
    """The start of a PDF file: a text editor's 'Save as PDF' output begins like this."""
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + text.encode("utf-16-be")[:200]


def mixed_utf8_gbk(text: str) -> bytes:
    """A UTF-8 file into which one paragraph was pasted as GBK."""
    paras = text.split("\n\n")
    return b"\n\n".join(p.encode("gbk") if i == 2 else p.encode("utf-8") for i, p in enumerate(paras))


FILES: dict[str, bytes] = {
    # clean partners for the one-sided cases
    "zh.txt": ZH.encode("utf-8"),
    "en.txt": EN.encode("utf-8"),
    # encodings that must be read without being told
    "utf8-bom.zh.txt": b"\xef\xbb\xbf" + ZH.encode("utf-8"),
    "utf16le-bom.en.txt": b"\xff\xfe" + EN.encode("utf-16-le"),
    "utf16be-bom.zh.txt": b"\xfe\xff" + ZH.encode("utf-16-be"),
    "utf16le-nobom.en.txt": EN.encode("utf-16-le"),
    "gb18030.zh.txt": ZH.encode("gb18030"),
    # line ends and Word / web / typesetting characters
    "crlf.en.txt": EN.replace("\n", "\r\n").encode("utf-8"),
    "cr.en.txt": EN.replace("\n", "\r").encode("utf-8"),
    "word-export.en.txt": word_export(EN).encode("utf-8"),
    "fullwidth.zh.txt": fullwidth(ZH).encode("utf-8"),
    "zero-width.zh.txt": zero_width(ZH).encode("utf-8"),
    "ideographic-space.zh.txt": ideographic(ZH).encode("utf-8"),
    "tabs-formfeed.en.txt": tabs_formfeed(EN).encode("utf-8"),
    "control-chars.en.txt": control_chars(EN).encode("utf-8"),
    "one-line.en.txt": " ".join(EN.split()).encode("utf-8"),
    "page.en.html": html(EN).encode("utf-8"),
    # encodings that must be refused with a hint, or read when named
    "big5.zh.txt": ZH_HANT.encode("big5"),
    "cp1252.en.txt": word_export(EN).replace("\u2022", "-").replace("\x0b", " ").encode("cp1252"),
    "utf8-truncated.zh.txt": ZH.encode("utf-8")[:-5],
    "mixed-utf8-gbk.zh.txt": mixed_utf8_gbk(ZH),
    # no text at all
    "empty.txt": b"",
    "bom-only.txt": b"\xef\xbb\xbf",
    "whitespace-only.txt": " \t\n\u3000\u3000\r\n\x0c\n\u00a0\n".encode("utf-8"),
    # not plain text
    "statement.docx": docx(ZH),
    "statement.pdf": pdf(ZH),
    "statement.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + ZH.encode("utf-16-le")[:300],
    "statement.rtf": b"{\\rtf1\\ansi\\ansicpg936 " + ZH.encode("gbk")[:200] + b"}",
    "binary-nul.dat": bytes(range(256)) * 4,
}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, data in FILES.items():
        path = HERE / name
        if path.exists() and path.read_bytes() == data:
            continue
        stale.append(name)
        if not check:
            path.write_bytes(data)
    if check and stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    if not check:
        print(f"{len(FILES)} files, {len(stale)} written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
