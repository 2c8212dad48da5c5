"""Hits for people (two columns, matches highlighted) and for scripts (JSON)."""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections.abc import Sequence

from .search import Hit

_GAP = " │ "


def _width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


_NO_LINE_START = set("，。、；：？！）》」』】〕〉”’,.;:?!)]}%")


def wrap_ranges(text: str, width: int) -> list[tuple[int, int]]:
    """Line ranges [start, end) of ``text`` fitting ``width`` terminal cells.

    CJK text breaks anywhere (but a line does not start with closing
    punctuation); a Latin word is moved whole to the next line; newlines are
    kept. Offsets, not strings, so the caller can still place highlights.
    """
    width = max(width, 4)
    lines: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    while start < n:
        while start < n and text[start] == " ":
            start += 1
        if start >= n:
            break
        used = 0
        i = start
        last_space = -1
        while i < n and text[i] != "\n":
            w = _width(text[i])
            if used + w > width:
                break
            if text[i] == " ":
                last_space = i
            used += w
            i += 1
        end = i
        if i < n and text[i] not in " \n":
            in_word = _width(text[i]) == 1 and _width(text[i - 1]) == 1 and text[i - 1] != " "
            if in_word and last_space > start:
                end = last_space
            elif text[i] in _NO_LINE_START and i - 1 > start:
                end = i - 1
        lines.append((start, end))
        start = end + 1 if end < n and text[end] in " \n" else end
    return lines or [(0, 0)]


def _render(text: str, rng: tuple[int, int], spans: Sequence[tuple[int, int]], color: bool, width: int, dim: bool = False) -> str:
    import click

    s, e = rng
    out: list[str] = []
    pos = s
    for a, b in spans:
        a, b = max(a, s), min(b, e)
        if a >= b:
            continue
        out.append(_style(text[pos:a], color, dim))
        out.append(click.style(text[a:b], fg="yellow", bold=True, underline=True) if color else text[a:b])
        pos = b
    out.append(_style(text[pos:e], color, dim))
    used = sum(_width(c) for c in text[s:e])
    return "".join(out) + " " * max(0, width - used)


def _style(text: str, color: bool, dim: bool) -> str:
    if not color or not dim or not text:
        return text
    import click

    return click.style(text, dim=True)


def _columns(texts: tuple[str, str], spans: tuple[Sequence[tuple[int, int]], Sequence[tuple[int, int]]], color: bool, col: int, dim: bool = False) -> list[str]:
    left = wrap_ranges(texts[0], col)
    right = wrap_ranges(texts[1], col)
    rows = []
    for k in range(max(len(left), len(right))):
        a = _render(texts[0], left[k], spans[0], color, col, dim) if k < len(left) else " " * col
        b = _render(texts[1], right[k], spans[1], color, col, dim) if k < len(right) else ""
        rows.append(("  " + a + _GAP + b).rstrip())
    return rows


def format_hits(hits: Sequence[Hit], color: bool, width: int | None = None) -> str:
    """Each hit as a header line (document, bead, section and clause labels,
    score) and the two sides in columns, then any audit findings."""
    import click

    if not hits:
        return "no matches"
    total = width or shutil.get_terminal_size((120, 24)).columns
    col = max(16, (total - 2 - len(_GAP)) // 2)
    blocks = []
    for h in hits:
        head = f"{h.document} · bead {h.bead}"
        label = h.label()
        if label:
            head += f" · {label}"
        if h.score is not None:
            head += f" · similarity {h.score:.3f}"
        lines = [click.style(head, fg="cyan", bold=True) if color else head]
        langs = f"[{h.langs[0]}]", f"[{h.langs[1]}]"
        lines.append(("  " + langs[0] + " " * max(0, col - len(langs[0])) + _GAP + langs[1]).rstrip())
        for c in h.before:
            lines.append(("  " + (click.style(f"bead {c.bead}", dim=True) if color else f"bead {c.bead}")))
            lines += _columns(c.texts, ((), ()), color, col, dim=True)
        if h.before or h.after:
            lines.append("  " + (click.style(f"bead {h.bead} ▶", bold=True) if color else f"bead {h.bead} ▶"))
        lines += _columns(h.texts, h.spans, color, col)
        for c in h.after:
            lines.append(("  " + (click.style(f"bead {c.bead}", dim=True) if color else f"bead {c.bead}")))
            lines += _columns(c.texts, ((), ()), color, col, dim=True)
        for f in h.findings:
            sev = str(f.get("severity", ""))
            text = f"  ⚑ {sev} {f.get('kind', '')}: {f.get('message', '')}".rstrip()
            lines.append(click.style(text, fg="red" if sev in ("critical", "major") else "magenta") if color else text)
        if h.flags:
            lines.append("  flags: " + ", ".join(h.flags))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def hit_record(h: Hit) -> dict:
    """A hit as plain JSON types; sides keyed by language code like the bead JSONL."""
    ka, kb = h.langs if h.langs[0] != h.langs[1] else ("src", "tgt")
    keys = (ka, kb)
    rec: dict = {
        "document": h.document,
        "bead": h.bead,
        ka: h.texts[0],
        kb: h.texts[1],
        "match": None if h.side is None else {"side": keys[h.side], "spans": {k: [list(s) for s in h.spans[i]] for i, k in enumerate(keys)}},
        "section": {ka: h.sections[0], kb: h.sections[1]},
        "clause": {ka: h.clauses[0], kb: h.clauses[1]},
        "number": h.number,
        "similarity": h.score,
        "score": h.align_score,
        "flags": list(h.flags),
        "findings": list(h.findings),
        f"{ka}_spans": [list(s) for s in h.source_spans[0]],
        f"{kb}_spans": [list(s) for s in h.source_spans[1]],
    }
    if h.before or h.after:
        rec["context"] = [{"bead": c.bead, ka: c.texts[0], kb: c.texts[1]} for c in (*h.before, *h.after)]
    return rec


def hits_to_json(hits: Sequence[Hit]) -> str:
    return json.dumps([hit_record(h) for h in hits], ensure_ascii=False, indent=2)
