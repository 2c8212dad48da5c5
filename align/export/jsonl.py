"""Bead JSONL: the machine-readable contract other stages and tools read back.

One object per line, all beads in alignment order (unaligned ones too)::

    {"bead": 0, "zh": "...", "en": "...", "zh_spans": [[s, e]], "en_spans": [[s, e], [s, e]],
     "score": 0.9731, "flags": [], "section": {"zh": ..., "en": ...},
     "clause": {"zh": ..., "en": ...}, "number": 16}

The side keys are the alignment's language codes ('src'/'tgt' when both are
the same). Spans are Python string offsets into ``Document.text``, one per
segment; the bead text is the segment texts joined by ``join_texts``.
``number`` is the first clause number on the source side, else the target's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from align.export.base import Exporter, ExportOptions, iter_beads, join_texts, round_score, side_keys
from align.model import AlignError, PairResult, Segment


def _json_default(obj: Any) -> Any:
    # numpy scalars/arrays and sets from other stages' ``extra`` dicts.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    return str(obj)


def dumps_line(obj: dict) -> bytes:
    """One JSONL line (with newline) in UTF-8.

    A lone surrogate cannot be encoded in UTF-8; 'backslashreplace' turns it
    into the text ``\\udc80``, which inside a JSON string (the only place
    non-ASCII can occur) is exactly its JSON escape, so it reads back as the
    same code point and the file stays valid UTF-8.
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=_json_default)
    # U+2028/U+2029/U+0085 are valid in JSON strings but end a line for
    # str.splitlines() and older JavaScript; escaped, each record stays one line
    # for every reader.
    text = text.translate(_LINE_BREAK_ESCAPES)
    return (text + "\n").encode("utf-8", errors="backslashreplace")


_LINE_BREAK_ESCAPES = {0x2028: "\\u2028", 0x2029: "\\u2029", 0x85: "\\u0085"}


def dumps_lines(objs: Iterable[dict]) -> bytes:
    return b"".join(dumps_line(o) for o in objs)


def _first(segs: Sequence[Segment], attr: str) -> Any:
    return next((getattr(s, attr) for s in segs if getattr(s, attr) is not None), None)


def bead_records(pair: PairResult) -> list[dict]:
    """The JSONL objects, for callers that want them without serialising."""
    src_key, tgt_key = side_keys(pair)
    src_lang, tgt_lang = pair.alignment.src_lang, pair.alignment.tgt_lang
    records = []
    for n, bead, src_segs, tgt_segs in iter_beads(pair):
        number = _first(src_segs, "number")
        if number is None:
            number = _first(tgt_segs, "number")
        records.append(
            {
                "bead": n,
                src_key: join_texts([s.text for s in src_segs], src_lang),
                tgt_key: join_texts([s.text for s in tgt_segs], tgt_lang),
                f"{src_key}_spans": [[s.start, s.end] for s in src_segs],
                f"{tgt_key}_spans": [[s.start, s.end] for s in tgt_segs],
                "score": round_score(bead.score),
                "flags": list(bead.flags),
                "section": {src_key: _first(src_segs, "section"), tgt_key: _first(tgt_segs, "section")},
                "clause": {src_key: _first(src_segs, "clause"), tgt_key: _first(tgt_segs, "clause")},
                "number": number,
            }
        )
    return records


class JsonlExporter(Exporter):
    name = "jsonl"
    suffix = ".jsonl"

    def render(self, pair: PairResult, options: ExportOptions) -> bytes:
        return dumps_lines(bead_records(pair))


# ---------------------------------------------------------------- reading back


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_record(rec: Any, sides: tuple[str, str] | None) -> tuple[str, str]:
    """Raise ValueError describing the first contract violation; return the side keys."""
    if not isinstance(rec, dict):
        raise ValueError(f"expected a JSON object, got {type(rec).__name__}")
    if not _is_int(rec.get("bead")) or rec["bead"] < 0:
        raise ValueError('"bead" must be a non-negative integer')
    found = tuple(k for k in rec if isinstance(k, str) and f"{k}_spans" in rec)
    if len(found) != 2:
        raise ValueError('expected two sides, each a text key with a matching "<key>_spans"')
    if sides is not None and found != sides:
        raise ValueError(f"sides {found} differ from the first line's {sides}")
    for key in found:
        if not isinstance(rec[key], str):
            raise ValueError(f'"{key}" must be a string')
        spans = rec[f"{key}_spans"]
        if not isinstance(spans, list) or not all(
            isinstance(sp, list) and len(sp) == 2 and all(map(_is_int, sp)) and 0 <= sp[0] <= sp[1]
            for sp in spans
        ):
            raise ValueError(f'"{key}_spans" must be a list of [start, end] with 0 <= start <= end')
    if "score" not in rec or not (rec["score"] is None or _is_number(rec["score"])):
        raise ValueError('"score" must be a number or null')
    flags = rec.get("flags")
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ValueError('"flags" must be a list of strings')
    for key in ("section", "clause"):
        value = rec.get(key)
        if value is not None and not (
            isinstance(value, dict) and all(v is None or isinstance(v, str) for v in value.values())
        ):
            raise ValueError(f'"{key}" must be an object of strings or null')
    if rec.get("number") is not None and not _is_int(rec["number"]):
        raise ValueError('"number" must be an integer or null')
    return found


def read_beads_jsonl(path: Path | str) -> list[dict]:
    """Read a bead JSONL file, checking it against the contract above.

    Blank lines are ignored; bead numbers must increase. Any violation raises
    ``AlignError`` naming ``file:line``.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AlignError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    records: list[dict] = []
    sides: tuple[str, str] | None = None
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
            sides = _check_record(rec, sides)
            if records and rec["bead"] <= records[-1]["bead"]:
                raise ValueError(f'"bead" {rec["bead"]} does not follow {records[-1]["bead"]}')
        except UnicodeDecodeError as exc:
            raise AlignError(f"{path}:{lineno}: not UTF-8 (byte {exc.start + 1})") from None
        except ValueError as exc:  # includes json.JSONDecodeError
            raise AlignError(f"{path}:{lineno}: not a bead record: {exc}") from None
        records.append(rec)
    return records
