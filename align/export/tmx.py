"""TMX 1.4 translation memory: one <tu> per bead with text on both sides.

1-0 and 0-1 beads are left out (TMX has no use for a unit with an empty
side; the audit reports them). XML 1.0 cannot carry some characters at all,
even escaped, so they are removed and reported via ``warnings``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from align.export.base import (
    Exporter,
    ExportOptions,
    describe_removed,
    iter_beads,
    join_texts,
    round_score,
)
from align.model import Bead, Document, PairResult, Segment

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DOCTYPE = '<!DOCTYPE tmx SYSTEM "tmx14.dtd">'

# Complement of the XML 1.0 Char production: C0 controls except TAB/LF/CR,
# surrogate code points (lone halves in a Python str), U+FFFE and U+FFFF.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sanitize_xml_text(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` without the characters XML 1.0 forbids, and their indices in ``text``.

    The forbidden controls that separate text (vertical tab, which Word writes
    for a manual line break, form feed, the information separators) become a
    space so that the words on either side do not run together.
    """
    positions = tuple(m.start() for m in _NOT_XML_CHAR.finditer(text))
    if not positions:
        return text, ()
    return _NOT_XML_CHAR.sub(_replacement, text), positions


def _replacement(m: re.Match) -> str:
    return " " if m.group().isspace() else ""


def _clean(text: str) -> str:
    return sanitize_xml_text(text)[0]


@dataclass(frozen=True)
class _Unit:
    number: int
    bead: Bead
    src: str
    tgt: str


class TmxExporter(Exporter):
    name = "tmx"
    suffix = ".tmx"

    def _units(self, pair: PairResult, warnings: list[str] | None = None) -> Iterator[_Unit]:
        """Beads that become <tu>s, with XML-safe texts; notes removals in ``warnings``."""
        langs = (pair.alignment.src_lang, pair.alignment.tgt_lang)
        docs = (pair.src, pair.tgt)
        for n, bead, src_segs, tgt_segs in iter_beads(pair):
            if not src_segs or not tgt_segs:
                continue
            texts = []
            for side, segs, doc, lang in zip(("source", "target"), (src_segs, tgt_segs), docs, langs):
                cleaned = []
                for seg in segs:
                    clean, positions = sanitize_xml_text(seg.text)
                    if positions and warnings is not None:
                        warnings.append(_removal_warning(doc, seg, positions, n))
                    cleaned.append(clean)
                text = join_texts(cleaned, lang)
                if not text.strip():
                    if warnings is not None and join_texts([s.text for s in segs], lang).strip():
                        warnings.append(
                            f"TMX: bead {n} left out: its {side} text is empty once the "
                            "characters XML 1.0 forbids are removed"
                        )
                    break
                texts.append(text)
            else:
                yield _Unit(n, bead, texts[0], texts[1])

    def warnings(self, pair: PairResult, options: ExportOptions) -> list[str]:
        found: list[str] = []
        for _ in self._units(pair, found):
            pass
        return found

    def render(self, pair: PairResult, options: ExportOptions) -> bytes:
        from lxml import etree

        src_locale, tgt_locale = (_clean(x) for x in options.locales(pair))
        root = etree.Element("tmx", version="1.4")
        etree.SubElement(
            root,
            "header",
            {
                "creationtool": _clean(options.creationtool),
                "creationtoolversion": _clean(options.creationtoolversion),
                "segtype": "sentence",
                "o-tmf": "align",
                "adminlang": "en",
                "srclang": src_locale,
                "datatype": "plaintext",
            },
        )
        body = etree.SubElement(root, "body")
        for unit in self._units(pair):
            bead = unit.bead
            tu = etree.SubElement(body, "tu", tuid=str(unit.number))
            props = [("x-bead", str(unit.number))]
            score = round_score(bead.score)
            if score is not None:
                props.append(("x-score", f"{score:.4f}"))
            if bead.flags:
                props.append(("x-flags", ";".join(bead.flags)))
            props.append(("x-src-segments", ",".join(map(str, bead.src))))
            props.append(("x-tgt-segments", ",".join(map(str, bead.tgt))))
            for kind, value in props:
                etree.SubElement(tu, "prop", type=kind).text = _clean(value)
            for locale, text in ((src_locale, unit.src), (tgt_locale, unit.tgt)):
                tuv = etree.SubElement(tu, "tuv", {XML_LANG: locale})
                etree.SubElement(tuv, "seg").text = text
        return etree.tostring(
            root, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype=DOCTYPE
        )


def _removal_warning(doc: Document, seg: Segment, positions: tuple[int, ...], bead: int) -> str:
    return describe_removed(
        doc, seg, positions, f"TMX: bead {bead}: removed characters XML 1.0 forbids"
    )
