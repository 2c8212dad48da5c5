"""Reading what gets indexed: bead JSONL (+ its .audit.jsonl) and TMX files.

Both are streamed: a million-bead file is never held in memory as a whole,
and a malformed record stops the build with ``file:line`` in the message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from align.model import AlignError

AUDIT_SUFFIX = ".audit.jsonl"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Inline TMX elements whose content is native markup (e.g. "<b>"), not text.
_CODE_TAGS = frozenset({"bpt", "ept", "it", "ph", "ut"})


class BeadRow(NamedTuple):
    """One bead as stored: side a / side b in the document's language order."""

    n: int
    text_a: str
    text_b: str
    spans_a: str | None  # JSON [[s, e], ...] into the aligned input text
    spans_b: str | None
    section_a: str | None
    section_b: str | None
    clause_a: str | None
    clause_b: str | None
    number: int | None
    score: float | None
    flags: str | None  # JSON list, None when empty


@dataclass
class Source:
    """A document to index. ``beads`` is a one-shot iterator."""

    name: str
    path: Path
    kind: str  # "jsonl" | "tmx"
    langs: tuple[str, str]
    beads: Iterator[BeadRow]
    findings: list[tuple[int, str]] = field(default_factory=list)  # (bead, JSON)


def open_sources(paths: Sequence[Path | str]) -> list[Source]:
    """Check every path and open it, before anything is written.

    A ``.audit.jsonl`` passed next to its beads file (as a shell glob does) is
    skipped: it is read with the beads file anyway.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise AlignError("nothing to index: give at least one .jsonl or .tmx file")
    wanted = {str(p) for p in paths}
    sources: list[Source] = []
    seen: dict[str, Path] = {}
    for path in paths:
        name = path.name
        if name.endswith(AUDIT_SUFFIX):
            beads_file = path.with_name(name[: -len(AUDIT_SUFFIX)] + ".jsonl")
            if str(beads_file) in wanted:
                continue
            raise AlignError(f"{path}: this is an audit findings file; index its beads file {beads_file.name} instead")
        if not path.is_file():
            raise AlignError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
        low = name.lower()
        if low.endswith(".jsonl"):
            src = _open_jsonl(path)
        elif low.endswith((".tmx", ".xml")):
            src = _open_tmx(path)
        else:
            raise AlignError(f"{path}: cannot index this file type; expected .jsonl (aligned beads) or .tmx")
        if src.name in seen:
            raise AlignError(f"{path}: two sources are both named '{src.name}' (the other is {seen[src.name]}); rename one")
        seen[src.name] = path
        sources.append(src)
    return sources


def doc_name(path: Path) -> str:
    """Document name = file stem ('outputs/joint.jsonl' -> 'joint')."""
    return path.name.rsplit(".", 1)[0] if "." in path.name else path.name


# ---------------------------------------------------------------- JSONL


def _side_keys(rec: dict) -> tuple[str, ...]:
    return tuple(k for k in rec if isinstance(k, str) and f"{k}_spans" in rec)


def _bad(path: Path, lineno: int, problem: str) -> AlignError:
    return AlignError(f"{path}:{lineno}: not an aligned-bead record: {problem}")


@lru_cache(maxsize=1)
def _fast_loads() -> Callable[[bytes], Any] | None:
    """orjson's parser when installed: 3x faster than json's on bead lines
    (JSON parsing was 40% of the parent's CPU in a million-pair build)."""
    try:
        import orjson
    except ImportError:
        return None
    return orjson.loads


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON) of each non-blank line.

    A line the fast parser refuses (blank, a byte-order mark, not UTF-8, not
    JSON, or JSON only Python's json reads, like NaN or a lone surrogate)
    takes the plain path, which reads what json reads and says what is wrong.
    """
    fast = _fast_loads()
    try:
        with open(path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                if fast is not None:
                    try:
                        rec = fast(raw)
                    except ValueError:
                        pass
                    else:
                        yield lineno, rec
                        continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise AlignError(f"{path}:{lineno}: not UTF-8 (byte {exc.start + 1}: {exc.reason})") from None
                if lineno == 1 and line.startswith("\ufeff"):
                    line = line[1:]
                if line and not line.isspace():  # (strip() would copy every line)
                    yield lineno, _loads(path, lineno, line)
    except OSError as exc:
        raise AlignError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _loads(path: Path, lineno: int, line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        raise AlignError(f"{path}:{lineno}: invalid JSON: {getattr(exc, 'msg', exc)}") from None


def _open_jsonl(path: Path) -> Source:
    records = _records(path)
    first = next(records, None)
    if first is None:
        raise AlignError(f"{path}: empty file, no beads to index")
    lineno, rec = first
    if not isinstance(rec, dict) or "bead" not in rec:
        raise _bad(path, lineno, 'no "bead" key (is this an align beads JSONL?)')
    keys = _side_keys(rec)
    if len(keys) != 2:
        raise _bad(path, lineno, 'expected two sides, each a text key with a matching "<key>_spans"')
    src = Source(doc_name(path), path, "jsonl", (keys[0], keys[1]), _jsonl_beads(path, keys, first, records))
    audit = path.with_name(src.name + AUDIT_SUFFIX)
    if audit.is_file():
        src.findings = _read_findings(audit)
    return src


def _labels(value: Any, ka: str, kb: str) -> tuple[str | None, str | None]:
    """The two sides' labels of a {"zh": ..., "en": ...} record field."""
    if type(value) is not dict:
        return None, None
    a, b = value.get(ka), value.get(kb)
    return (a if type(a) is str and a else None), (b if type(b) is str and b else None)


def _jsonl_beads(path: Path, keys: tuple[str, str], first: tuple[int, Any], rest: Iterator[tuple[int, Any]]) -> Iterator[BeadRow]:
    ka, kb = keys
    sa, sb = f"{ka}_spans", f"{kb}_spans"
    dumps = json.dumps
    seen: set[int] = set()

    def row(lineno: int, rec: Any) -> BeadRow:
        if type(rec) is not dict:
            raise _bad(path, lineno, "expected a JSON object")
        try:
            n, ta, tb = rec["bead"], rec[ka], rec[kb]
        except KeyError as exc:
            raise _bad(path, lineno, f"missing key {exc}") from None
        if type(n) is not int or n < 0:
            raise _bad(path, lineno, '"bead" must be a non-negative integer')
        if n in seen:
            raise _bad(path, lineno, f"bead {n} appears twice")
        seen.add(n)
        if type(ta) is not str or type(tb) is not str:
            raise _bad(path, lineno, f'"{ka}" and "{kb}" must be strings')
        number = rec.get("number")
        if number is not None and type(number) is not int:
            raise _bad(path, lineno, '"number" must be an integer or null')
        score = rec.get("score")
        if score is not None and type(score) not in (int, float):
            raise _bad(path, lineno, '"score" must be a number or null')
        flags = rec.get("flags")
        return BeadRow(
            n,
            ta,
            tb,
            _spans_json(rec.get(sa), path, lineno),
            _spans_json(rec.get(sb), path, lineno),
            *_labels(rec.get("section"), ka, kb),
            *_labels(rec.get("clause"), ka, kb),
            number,
            score,
            dumps(flags, ensure_ascii=False) if flags else None,
        )

    yield row(*first)
    for lineno, rec in rest:
        yield row(lineno, rec)


# str() of a list of [int, int] lists; a bool, float, string or other shape prints otherwise
_SPANS_TEXT = re.compile(r"\[\[-?\d+, -?\d+\](?:, \[-?\d+, -?\d+\])*\]")


def _spans_json(spans: Any, path: Path, lineno: int) -> str | None:
    """Spans as JSON text; str() of a list of int pairs is valid JSON and much
    cheaper than json.dumps, which matters at a million beads. Checked on that
    text: one regex instead of a Python loop over the pairs."""
    if not spans:
        return None
    if type(spans) is list and len(spans) == 1:  # the usual case, 3x faster than str() and the regex
        p = spans[0]
        if type(p) is list and len(p) == 2 and type(p[0]) is int and type(p[1]) is int:
            return f"[[{p[0]}, {p[1]}]]"
    text = str(spans) if type(spans) is list else ""
    if _SPANS_TEXT.fullmatch(text) is None:
        raise _bad(path, lineno, "spans must be lists of [start, end] integers")
    return text


def _read_findings(path: Path) -> list[tuple[int, str]]:
    out = []
    for lineno, rec in _records(path):
        if not isinstance(rec, dict) or type(rec.get("bead")) is not int:
            raise AlignError(f'{path}:{lineno}: not an audit finding: needs an integer "bead"')
        out.append((rec["bead"], json.dumps(rec, ensure_ascii=False)))
    return out


# ---------------------------------------------------------------- TMX


def _seg_text(seg: Any) -> str:
    """Text of a <seg>, without inline native codes (<bpt>, <ph>, ...)."""
    parts = [seg.text or ""]
    for child in seg:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag not in _CODE_TAGS:
            parts.append(_seg_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _tuv_lang(tuv: Any) -> str | None:
    return tuv.get(_XML_LANG) or tuv.get("lang")


def _tmx_error(path: Path, exc: Exception) -> AlignError:
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return AlignError(f"{path}: not valid TMX: {msg}")


def _open_tmx(path: Path) -> Source:
    """Side a is the header's srclang (else the first language seen), side b the
    most frequent other language; a TU lacking one of them gets an empty side."""
    from lxml import etree

    try:
        langs: dict[str, int] = {}
        srclang: str | None = None
        root_seen = False
        for event, el in etree.iterparse(str(path), events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=True):
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if el.tag != "tmx":
                        raise AlignError(f"{path}: not a TMX file (root element is <{el.tag}>, expected <tmx>)")
                continue
            if el.tag == "header":
                srclang = el.get("srclang")
            elif el.tag == "tuv":
                lang = _tuv_lang(el)
                if lang:
                    key = lang.lower()
                    langs[key] = langs.get(key, 0) + 1
            elif el.tag == "tu":
                el.clear()
    except etree.XMLSyntaxError as exc:
        raise _tmx_error(path, exc) from None
    except OSError as exc:
        raise AlignError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not langs:
        raise AlignError(f"{path}: no <tuv xml:lang=...> found; nothing to index")
    order = sorted(langs, key=lambda k: -langs[k])
    a = srclang.lower() if srclang and srclang.lower() in langs else order[0]
    others = [k for k in order if k != a]
    b = others[0] if others else a
    return Source(doc_name(path), path, "tmx", (a, b), _tmx_beads(path, a, b))


def _prop(tu: Any, kind: str) -> str | None:
    for p in tu.iterfind("prop"):
        if p.get("type") == kind:
            return (p.text or "").strip()
    return None


def _tmx_beads(path: Path, a: str, b: str) -> Iterator[BeadRow]:
    from lxml import etree

    index = 0
    seen: set[int] = set()
    try:
        for _, tu in etree.iterparse(str(path), events=("end",), tag="tu", resolve_entities=False, no_network=True, huge_tree=True):
            texts: dict[str, str] = {}
            for tuv in tu.iterfind("tuv"):
                lang = (_tuv_lang(tuv) or "").lower()
                seg = tuv.find("seg")
                if lang in (a, b) and seg is not None and lang not in texts:
                    texts[lang] = _seg_text(seg)
            if a == b:  # monolingual or same-language memory: first two TUVs
                segs = [_seg_text(s) for s in tu.iterfind("tuv/seg")]
                texts = {"a": segs[0] if segs else "", "b": segs[1] if len(segs) > 1 else ""}
                ta, tb = texts["a"], texts["b"]
            else:
                ta, tb = texts.get(a, ""), texts.get(b, "")
            n = _int(_prop(tu, "x-bead"))
            if n is None or n in seen:
                n = index
                while n in seen:
                    n += 1
            seen.add(n)
            score = _float(_prop(tu, "x-score"))
            flags = _prop(tu, "x-flags")
            tu.clear()
            parent = tu.getparent()
            while parent is not None and tu.getprevious() is not None:
                del parent[0]  # keep memory flat on huge memories
            index += 1
            if not ta and not tb:
                continue
            yield BeadRow(n, ta, tb, None, None, None, None, None, None, None, score, json.dumps(flags.split(";")) if flags else None)
    except etree.XMLSyntaxError as exc:
        raise _tmx_error(path, exc) from None


def _int(s: str | None) -> int | None:
    return int(s) if s and re.fullmatch(r"\d{1,12}", s) else None


def _float(s: str | None) -> float | None:
    try:
        return float(s) if s else None
    except ValueError:
        return None
