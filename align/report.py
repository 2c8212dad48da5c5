"""Self-contained HTML report of one aligned (and audited) document pair.

The page must open anywhere, offline, years later: CSS, script, plots and data
are all inline and nothing is fetched. Text and highlights are rendered here in
Python, so the page reads (and prints) without JavaScript; the small inline
script only adds filters, tooltips and navigation. Evidence spans are offsets
into ``Document.text``; they are clipped to each segment they touch and mapped
into the segment's displayed text, so a span may cross segment boundaries or
overlap another finding's span. Overlaps are rendered as flat, non-nested
pieces (one ``<mark>`` per run of text covered by the same set of findings),
which keeps the DOM small for long documents.

Public API: :func:`render_report`. It does no I/O; the exporter writes the
returned string.
"""

from __future__ import annotations

import bisect
import difflib
import html
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from align.model import AlignError, Bead, Document, Finding, PairResult, Segment, Span

__all__ = ["render_report", "NO_COUNTERPART", "SEVERITY_ORDER"]

#: Known severities, most serious first; unknown ones sort after these.
SEVERITY_ORDER: tuple[str, ...] = ("critical", "major", "minor")
#: Shown in place of the text of an empty bead side (a 1-0 or 0-1 bead).
NO_COUNTERPART = "— no counterpart —"

_LANG_NAMES = {"zh": "Chinese", "en": "English", "de": "German", "fr": "French", "ru": "Russian"}
# Above this size (raw chars x shown chars) a segment whose displayed text differs
# from its raw slice is mapped by a linear walk instead of difflib.
_DIFFLIB_LIMIT = 4_000_000


def render_report(pair: PairResult, *, low_score: float = 0.5, title: str | None = None) -> str:
    """Return the HTML page for ``pair``.

    ``low_score`` is the bead confidence below which a bead counts as
    low-confidence (marked in the plots, selectable by a filter).
    """
    beads = pair.alignment.beads
    findings = pair.findings
    src_by_index = _index_segments(pair.src_segments, "source")
    tgt_by_index = _index_segments(pair.tgt_segments, "target")
    for n, bead in enumerate(beads):
        _check_bead(n, bead, src_by_index, tgt_by_index)

    sev_order = _severity_order(findings)
    sev_rank = {s: i for i, s in enumerate(sev_order)}
    kinds = sorted({f.kind for f in findings})

    src_hits = _place_spans(pair.src, pair.src_segments, [f.src_spans for f in findings])
    tgt_hits = _place_spans(pair.tgt, pair.tgt_segments, [f.tgt_spans for f in findings])

    # Which findings each bead row carries: its own plus any whose evidence it shows.
    row_findings: dict[int, set[int]] = defaultdict(set)
    for fid, f in enumerate(findings):
        if 0 <= f.bead < len(beads):
            row_findings[f.bead].add(fid)
    seg_to_bead_src = {i: n for n, b in enumerate(beads) for i in b.src}
    seg_to_bead_tgt = {i: n for n, b in enumerate(beads) for i in b.tgt}
    placed: set[int] = set()
    for hits, seg_to_bead in ((src_hits, seg_to_bead_src), (tgt_hits, seg_to_bead_tgt)):
        for seg_index, seg_hits in hits.items():
            ids = {h[2] for h in seg_hits}
            placed |= ids
            if seg_index in seg_to_bead:
                row_findings[seg_to_bead[seg_index]] |= ids

    ctx = _Ctx(pair, sev_rank, low_score, src_hits, tgt_hits, src_by_index, tgt_by_index)
    page_title = title or f"Alignment report — {pair.stem}"
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<meta name=\"generator\" content=\"align\">\n",
        f"<title>{_e(page_title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n",
        "<a class=\"skip\" href=\"#beads\">Skip to the aligned text</a>\n",
        "<header class=\"top\">\n",
        f"<h1>{_e(page_title)}</h1>\n",
        '<div class="overview"><div>',
        _documents_html(pair),
        _stats_html(pair, low_score),
        "</div>",
        _counts_html(pair.findings, kinds, sev_order),
        "</div></header>\n",
        _controls_html(findings, kinds, sev_order, low_score, beads),
        "<div class=\"layout\">\n",
        _findings_list_html(findings, placed, len(beads)),
        "<main id=\"main\">\n",
        _plots_html(pair, low_score, sev_rank),
        _beads_table_html(ctx, row_findings),
        "</main>\n</div>\n",
        "<div id=\"tip\" role=\"tooltip\" hidden></div>\n",
        "<script type=\"application/json\" id=\"report-data\">",
        _data_json(pair, kinds, sev_order, low_score),
        "</script>\n",
        f"<script>{_JS}</script>\n</body>\n</html>\n",
    ]
    return "".join(parts)


# --------------------------------------------------------------------------- helpers


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(x: float | None) -> float | None:
    """Finite float or None: JSON.parse rejects NaN/Infinity."""
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _fmt_score(x: float | None) -> str:
    x = _num(x)
    return "—" if x is None else f"{x:.2f}"


def _is_low(bead: Bead, low_score: float) -> bool:
    s = _num(bead.score)
    return s is not None and s < low_score


def _index_segments(segments: Sequence[Segment], side: str) -> dict[int, Segment]:
    by_index: dict[int, Segment] = {}
    for seg in segments:
        if seg.index in by_index:
            raise AlignError(f"report: {side} segment index {seg.index} occurs twice")
        by_index[seg.index] = seg
    return by_index


def _check_bead(n: int, bead: Bead, src: dict[int, Segment], tgt: dict[int, Segment]) -> None:
    for side, ids, segs in (("source", bead.src, src), ("target", bead.tgt, tgt)):
        for i in ids:
            if i not in segs:
                raise AlignError(f"report: bead {n} refers to {side} segment {i}, which does not exist")


def _severity_order(findings: Iterable[Finding]) -> list[str]:
    seen = {f.severity for f in findings}
    return [s for s in SEVERITY_ORDER if s in seen] + sorted(seen - set(SEVERITY_ORDER))


def _jsonable(value: object) -> object:
    """Plain JSON types only (tuples, numpy scalars, NaN in ``extra``)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return _num(value)
    try:
        return _num(float(value))  # numpy scalars
    except (TypeError, ValueError):
        return str(value)


# ------------------------------------------------------------------ span placement

_Hit = tuple[int, int, int]  # (start, end, finding id) in Document.text offsets


def _place_spans(
    doc: Document, segments: Sequence[Segment], spans_per_finding: Sequence[Sequence[Span]]
) -> dict[int, list[_Hit]]:
    """Clip every evidence span to the segments it touches.

    Returns hits keyed by ``Segment.index``. An empty span (start == end) marks an
    insertion point (where missing words belong) and is kept as such.
    """
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    starts = [s.start for s in ordered]
    limit = len(doc.text)
    hits: dict[int, list[_Hit]] = defaultdict(list)
    for fid, spans in enumerate(spans_per_finding):
        for span in spans:
            try:
                a, b = (min(max(int(v), 0), limit) for v in span)
            except (TypeError, ValueError):
                continue
            if b < a:
                a, b = b, a
            if not ordered:
                continue
            i = bisect.bisect_right(starts, a) - 1
            if a == b:
                seg = _segment_for_point(ordered, i, a)
                pos = min(max(a, seg.start), seg.end)
                hits[seg.index].append((pos, pos, fid))
                continue
            i = max(i, 0)
            while i < len(ordered) and ordered[i].start < b:
                seg = ordered[i]
                if seg.end > a:
                    hits[seg.index].append((max(a, seg.start), min(b, seg.end), fid))
                i += 1
    return hits


def _segment_for_point(ordered: Sequence[Segment], i: int, a: int) -> Segment:
    """The segment holding offset ``a``, or the nearest one when it falls in a gap."""
    if i >= 0 and a <= ordered[i].end:
        return ordered[i]
    if i + 1 < len(ordered):
        return ordered[i + 1] if i < 0 or ordered[i + 1].start - a <= a - ordered[i].end else ordered[i]
    return ordered[max(i, 0)]


class _OffsetMap:
    """Maps offsets in a segment's raw slice to offsets in its displayed text.

    Usually ``Segment.text`` is the raw slice itself; a segmenter may still have
    collapsed whitespace or normalised characters, and highlights must then
    land on the same words.
    """

    def __init__(self, raw: str, shown: str) -> None:
        self.n_shown = len(shown)
        self.identity = raw == shown
        if self.identity:
            return
        pos = self._walk(raw, shown)
        if pos is None:
            pos = [-1] * len(raw)
            if len(raw) * len(shown) <= _DIFFLIB_LIMIT:
                blocks = difflib.SequenceMatcher(None, raw, shown, autojunk=False).get_matching_blocks()
                for a, b, size in blocks:
                    pos[a : a + size] = range(b, b + size)
            else:  # very long and different: proportional, better than nothing
                scale = len(shown) / max(len(raw), 1)
                pos = [min(int(i * scale), len(shown) - 1) for i in range(len(raw))]
        n = len(raw)
        self._start = [self.n_shown] * (n + 1)
        nxt = self.n_shown
        for i in range(n - 1, -1, -1):
            if pos[i] >= 0:
                nxt = pos[i]
            self._start[i] = nxt
        self._end = [0] * (n + 1)
        last = 0
        for i in range(1, n + 1):
            if pos[i - 1] >= 0:
                last = pos[i - 1] + 1
            self._end[i] = last

    @staticmethod
    def _walk(raw: str, shown: str) -> list[int] | None:
        """Linear match allowing only whitespace differences; None if others."""
        pos = [-1] * len(raw)
        i = j = 0
        while i < len(raw) and j < len(shown):
            if raw[i] == shown[j]:
                pos[i] = j
                i += 1
                j += 1
            elif raw[i].isspace():
                i += 1
            elif shown[j].isspace():
                j += 1
            else:
                return None
        if any(not c.isspace() for c in raw[i:]) or any(not c.isspace() for c in shown[j:]):
            return None
        return pos

    def start(self, i: int) -> int:
        return min(max(i, 0), self.n_shown) if self.identity else self._start[min(max(i, 0), len(self._start) - 1)]

    def end(self, i: int) -> int:
        return min(max(i, 0), self.n_shown) if self.identity else self._end[min(max(i, 0), len(self._end) - 1)]


class _Ctx:
    """What bead rendering needs, gathered once."""

    def __init__(
        self,
        pair: PairResult,
        sev_rank: dict[str, int],
        low_score: float,
        src_hits: dict[int, list[_Hit]],
        tgt_hits: dict[int, list[_Hit]],
        src_by_index: dict[int, Segment],
        tgt_by_index: dict[int, Segment],
    ) -> None:
        self.pair = pair
        self.sev_rank = sev_rank
        self.low_score = low_score
        self.src_hits = src_hits
        self.tgt_hits = tgt_hits
        self.src_by_index = src_by_index
        self.tgt_by_index = tgt_by_index

    def worst(self, fids: Iterable[int]) -> str:
        findings = self.pair.findings
        return min((findings[f].severity for f in fids), key=lambda s: self.sev_rank.get(s, 99))


def _render_segment(seg: Segment, doc_text: str, hits: Sequence[_Hit], ctx: _Ctx) -> str:
    """Segment text with its evidence pieces wrapped in ``<mark>``."""
    shown = seg.text
    omap = _OffsetMap(doc_text[seg.start : seg.end], shown)
    intervals: list[tuple[int, int, int]] = []
    inserts: dict[int, list[int]] = defaultdict(list)
    for a, b, fid in hits:
        if a == b:
            inserts[omap.start(a - seg.start)].append(fid)
            continue
        s, e = omap.start(a - seg.start), omap.end(b - seg.start)
        if e > s:
            intervals.append((s, e, fid))
    cuts = sorted({0, len(shown), *inserts, *(s for s, _, _ in intervals), *(e for _, e, _ in intervals)})
    out: list[str] = []
    for k, p in enumerate(cuts):
        if p in inserts:
            out.append(_mark("", sorted(set(inserts[p])), ctx, insertion=True))
        if k + 1 == len(cuts):
            break
        q = cuts[k + 1]
        piece = shown[p:q]
        active = sorted({fid for s, e, fid in intervals if s <= p and e >= q})
        out.append(_mark(piece, active, ctx) if active else _e(piece))
    return "".join(out)


def _mark(text: str, fids: list[int], ctx: _Ctx, insertion: bool = False) -> str:
    ids = " ".join(map(str, fids))
    described = " ".join(f"fl-{f}" for f in fids)
    sev = ctx.worst(fids)
    if insertion:
        return (
            f'<mark class="hl ins" data-f="{ids}" data-sev="{_e(sev)}" tabindex="0" role="img" '
            f'aria-label="missing words belong here" aria-describedby="{described}"></mark>'
        )
    multi = " multi" if len(fids) > 1 else ""
    return (
        f'<mark class="hl{multi}" data-f="{ids}" data-sev="{_e(sev)}" tabindex="0" '
        f'aria-describedby="{described}">{_e(text)}</mark>'
    )


# ------------------------------------------------------------------- page sections


def _documents_html(pair: PairResult) -> str:
    rows = []
    for label, doc, segs in (("Source", pair.src, pair.src_segments), ("Target", pair.tgt, pair.tgt_segments)):
        lang = _LANG_NAMES.get(doc.lang, doc.lang)
        warn = "".join(f"<li>{_e(w)}</li>" for w in doc.warnings)
        rows.append(
            f"<li><b>{label}</b> ({_e(lang)}, <code>{_e(doc.lang)}</code>): "
            f"<code>{_e(doc.path or '(no file)')}</code>, {_e(doc.encoding)}, "
            f"{len(doc.text):,} characters, {len(segs):,} segments"
            + (f'<ul class="warnings" aria-label="warnings">{warn}</ul>' if warn else "")
            + "</li>"
        )
    return f'<ul class="docs">{"".join(rows)}</ul>\n'


def _stats_html(pair: PairResult, low_score: float) -> str:
    beads = pair.alignment.beads
    types = Counter(b.kind for b in beads)
    scores = [s for s in (_num(b.score) for b in beads) if s is not None]
    n_low = sum(_is_low(b, low_score) for b in beads)
    mean = f"{sum(scores) / len(scores):.2f}" if scores else "—"
    type_list = ", ".join(
        f"{_e(k)}: {v:,}" for k, v in sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return (
        '<dl class="stats">'
        f"<div><dt>Beads</dt><dd>{len(beads):,}</dd></div>"
        f"<div><dt>Bead types</dt><dd>{type_list or '—'}</dd></div>"
        f"<div><dt>Mean confidence</dt><dd>{mean}</dd></div>"
        f"<div><dt>Low confidence (&lt; {low_score:g})</dt><dd>{n_low:,}</dd></div>"
        f"<div><dt>Findings</dt><dd>{len(pair.findings):,}</dd></div>"
        "</dl>\n"
    )


def _counts_html(findings: Sequence[Finding], kinds: list[str], sev_order: list[str]) -> str:
    if not findings:
        return '<p class="none">No findings.</p>\n'
    counts = Counter((f.kind, f.severity) for f in findings)
    head = "".join(f'<th scope="col"><span class="badge" data-sev="{_e(s)}">{_e(s)}</span></th>' for s in sev_order)
    body = []
    for k in kinds:
        cells = "".join(f"<td>{counts[(k, s)] or ''}</td>" for s in sev_order)
        total = sum(counts[(k, s)] for s in sev_order)
        body.append(f'<tr><th scope="row">{_e(k)}</th>{cells}<td class="total">{total}</td></tr>')
    col_totals = "".join(f"<td>{sum(counts[(k, s)] for k in kinds)}</td>" for s in sev_order)
    table = (
        '<table class="counts"><caption>Findings by kind and severity</caption>'
        f'<thead><tr><th scope="col">kind</th>{head}<th scope="col">total</th></tr></thead>'
        f'<tbody>{"".join(body)}</tbody>'
        f'<tfoot><tr><th scope="row">total</th>{col_totals}<td class="total">{len(findings)}</td></tr></tfoot>'
        "</table>\n"
    )
    return table


def _controls_html(
    findings: Sequence[Finding], kinds: list[str], sev_order: list[str], low_score: float, beads: Sequence[Bead]
) -> str:
    kind_n = Counter(f.kind for f in findings)
    sev_n = Counter(f.severity for f in findings)

    def box(group: str, value: str, n: int, label_html: str) -> str:
        return (
            f'<label><input type="checkbox" data-filter="{group}" value="{_e(value)}" checked> '
            f'{label_html} <span class="n">({n})</span></label>'
        )

    kind_boxes = "".join(box("kind", k, kind_n[k], _e(k)) for k in kinds) or '<span class="none">none</span>'
    sev_boxes = "".join(
        box("severity", s, sev_n[s], f'<span class="badge" data-sev="{_e(s)}">{_e(s)}</span>') for s in sev_order
    ) or '<span class="none">none</span>'
    n_low = sum(_is_low(b, low_score) for b in beads)
    return (
        '<form class="controls" id="controls" aria-label="Filters" autocomplete="off" onsubmit="return false">\n'
        f'<fieldset><legend>Kind</legend>{kind_boxes}</fieldset>\n'
        f'<fieldset><legend>Severity</legend>{sev_boxes}</fieldset>\n'
        '<fieldset><legend>Beads</legend>'
        '<label><input type="checkbox" id="only-findings"> only beads with findings</label>'
        f'<label><input type="checkbox" id="only-low"> only low-confidence beads <span class="n">({n_low})</span></label>'
        "</fieldset>\n"
        '<p id="status" role="status" aria-live="polite"></p>\n'
        "</form>\n"
    )


def _findings_list_html(findings: Sequence[Finding], placed: set[int], n_beads: int) -> str:
    order = sorted(range(len(findings)), key=lambda i: (findings[i].bead, i))
    items = []
    for fid in order:
        f = findings[fid]
        has_bead = 0 <= f.bead < n_beads
        head = (
            f'<span class="badge" data-sev="{_e(f.severity)}">{_e(f.severity)}</span> '
            f'<b class="kind">{_e(f.kind)}</b> <span class="where">· bead {f.bead}</span>'
        )
        link = (
            f'<a class="goto" href="#b-{f.bead}" data-bead="{f.bead}" data-fid="{fid}">{head}</a>'
            if has_bead
            else f'<span class="goto">{head}</span>'
        )
        evidence = []
        if f.src_text:
            evidence.append(f'<span class="ev-src">{_e(f.src_text)}</span>')
        if f.tgt_text:
            evidence.append(f'<span class="ev-tgt">{_e(f.tgt_text)}</span>')
        unplaced = "" if fid in placed or not (f.src_spans or f.tgt_spans) else (
            '<div class="unplaced">evidence falls outside every segment</div>'
        )
        items.append(
            f'<li id="fl-{fid}" class="finding" data-fid="{fid}">{link}'
            f'<div class="mqm">{_e(f.mqm)} <span class="fs">score {_fmt_score(f.score)} · #{fid}</span></div>'
            f'<div class="msg">{_e(f.message)}</div>'
            + (f'<div class="ev">{" → ".join(evidence)}</div>' if evidence else "")
            + unplaced
            + "</li>"
        )
    body = f'<ol class="flist">{"".join(items)}</ol>' if items else '<p class="none">No findings.</p>'
    return (
        '<aside class="side" aria-labelledby="findings-h">'
        f'<h2 id="findings-h">Findings <span class="n">({len(findings)})</span></h2>{body}</aside>\n'
    )


def _beads_table_html(ctx: _Ctx, row_findings: dict[int, set[int]]) -> str:
    pair = ctx.pair
    findings = pair.findings
    src_lang, tgt_lang = _e(pair.src.lang), _e(pair.tgt.lang)
    src_name = _e(_LANG_NAMES.get(pair.src.lang, pair.src.lang))
    tgt_name = _e(_LANG_NAMES.get(pair.tgt.lang, pair.tgt.lang))
    notes_by_bead: dict[int, list[int]] = defaultdict(list)
    for fid, f in enumerate(findings):
        notes_by_bead[f.bead].append(fid)
    rows = []
    for n, bead in enumerate(pair.alignment.beads):
        low = _is_low(bead, ctx.low_score)
        fids = sorted(row_findings.get(n, ()))
        cls = "bead" + (" low" if low else "") + (" has" if fids else "")
        src_cell = _side_cell(bead.src, ctx.src_by_index, pair.src.text, ctx.src_hits, ctx)
        tgt_cell = _side_cell(bead.tgt, ctx.tgt_by_index, pair.tgt.text, ctx.tgt_hits, ctx)
        flags = "".join(f'<span class="flag">{_e(fl)}</span>' for fl in bead.flags)
        score = _num(bead.score)
        bar = f'<span class="bar" aria-hidden="true"><span style="width:{(score or 0) * 100:.0f}%"></span></span>'
        notes = "".join(_note_html(fid, findings[fid]) for fid in notes_by_bead.get(n, ()))
        rows.append(
            f'<tr id="b-{n}" class="{cls}" data-f="{" ".join(map(str, fids))}" tabindex="-1" role="row">'
            f'<th scope="row" class="meta" role="rowheader"><a class="bn" href="#b-{n}" aria-label="bead {n}">{n}</a>'
            f'<span class="bt" title="bead type">{_e(bead.kind)}</span>'
            f'<span class="sc{" lo" if low else ""}">{_fmt_score(bead.score)}{" low" if low else ""}</span>{bar}{flags}</th>'
            f'<td class="txt" lang="{src_lang}" role="cell">{src_cell}</td>'
            f'<td class="txt" lang="{tgt_lang}" role="cell">{tgt_cell}</td>'
            f'<td class="notes" role="cell">{f"<ul>{notes}</ul>" if notes else ""}</td></tr>\n'
        )
    if not rows:
        rows.append('<tr role="row"><td class="none" role="cell">No beads.</td></tr>')
    return (
        '<section id="beads" aria-labelledby="beads-h"><h2 id="beads-h">Aligned text</h2>\n'
        '<table class="beads" role="table" aria-labelledby="beads-h"><thead role="rowgroup"><tr role="row">'
        f'<th scope="col" role="columnheader">bead</th><th scope="col" role="columnheader">{src_name}</th>'
        f'<th scope="col" role="columnheader">{tgt_name}</th><th scope="col" role="columnheader">findings</th></tr></thead>\n'
        '<tbody role="rowgroup">\n'
        + "".join(rows)
        + "</tbody></table></section>\n"
    )


def _side_cell(
    ids: Sequence[int], by_index: dict[int, Segment], text: str, hits: dict[int, list[_Hit]], ctx: _Ctx
) -> str:
    if not ids:
        return f'<span class="gap">{NO_COUNTERPART}</span>'
    parts = []
    for i in ids:
        seg = by_index[i]
        parts.append(f'<span class="seg" data-s="{i}">{_render_segment(seg, text, hits.get(i, ()), ctx)}</span>')
    return '<span class="sep" aria-hidden="true"> ‖ </span>'.join(parts)


def _note_html(fid: int, f: Finding) -> str:
    return (
        f'<li class="note" data-fid="{fid}" id="fn-{fid}">'
        f'<span class="badge" data-sev="{_e(f.severity)}">{_e(f.severity)}</span> '
        f'<b class="kind">{_e(f.kind)}</b> <span class="mqm">{_e(f.mqm)}</span>'
        f'<span class="msg">{_e(f.message)}</span></li>'
    )


# ------------------------------------------------------------------------- plots


def _nice_step(span: float, target: int = 5) -> int:
    if span <= 0:
        return 1
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return max(int(m * mag), 1)
    return max(int(10 * mag), 1)


def _plots_html(pair: PairResult, low_score: float, sev_rank: dict[str, int]) -> str:
    return (
        '<section class="plots" aria-labelledby="plots-h"><h2 id="plots-h">Alignment at a glance</h2>'
        '<div class="plotrow">'
        f"{_path_svg(pair, low_score)}{_confidence_svg(pair, low_score, sev_rank)}"
        "</div></section>\n"
    )


def _path_svg(pair: PairResult, low_score: float) -> str:
    """Alignment path: cumulative source vs target segments, bead by bead."""
    beads = pair.alignment.beads
    w = h = 320
    ml, mr, mt, mb = 48, 14, 12, 42
    pw, ph = w - ml - mr, h - mt - mb
    ns = max(sum(len(b.src) for b in beads), 1)
    nt = max(sum(len(b.tgt) for b in beads), 1)

    def X(v: float) -> float:
        return ml + v / ns * pw

    def Y(v: float) -> float:
        return mt + ph - v / nt * ph

    pts = [f"{X(0):.1f},{Y(0):.1f}"]
    marks = []
    x = y = 0
    for n, b in enumerate(beads):
        x0, y0 = x, y
        x += len(b.src)
        y += len(b.tgt)
        pts.append(f"{X(x):.1f},{Y(y):.1f}")
        if _is_low(b, low_score):
            cx, cy = X((x0 + x) / 2), Y((y0 + y) / 2)
            marks.append(
                f'<a href="#b-{n}" class="goto" data-bead="{n}"><circle class="lowpt" cx="{cx:.1f}" cy="{cy:.1f}" r="3.5">'
                f"<title>bead {n} · {_e(b.kind)} · confidence {_fmt_score(b.score)}</title></circle></a>"
            )
    axes = _axes(ml, mt, pw, ph, ns, nt, X, Y,
                 f"{_LANG_NAMES.get(pair.src.lang, pair.src.lang)} segment",
                 f"{_LANG_NAMES.get(pair.tgt.lang, pair.tgt.lang)} segment", yfmt="{:d}")
    return (
        f'<figure class="plot plot-path"><svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="path-t path-d" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="path-t">Alignment path</title>'
        f'<desc id="path-d">Cumulative {_e(pair.src.lang)} segments (x) against {_e(pair.tgt.lang)} segments (y) '
        f"after each bead; {len(marks)} low-confidence beads are circled.</desc>"
        f"{axes}"
        f'<line class="diag" x1="{X(0):.1f}" y1="{Y(0):.1f}" x2="{X(ns):.1f}" y2="{Y(nt):.1f}"/>'
        f'<polyline class="path" points="{" ".join(pts)}"/>'
        f'{"".join(marks)}</svg>'
        '<figcaption>Alignment path (steps sideways or upwards are unaligned segments; '
        '<span class="key lowkey">○</span> low confidence)</figcaption></figure>'
    )


def _confidence_svg(pair: PairResult, low_score: float, sev_rank: dict[str, int]) -> str:
    """Bead confidence along the document, with findings as a rug below."""
    beads = pair.alignment.beads
    w, h = 640, 320
    ml, mr, mt, mb = 40, 14, 12, 42
    pw, ph = w - ml - mr, h - mt - mb
    nb = max(len(beads) - 1, 1)

    def X(v: float) -> float:
        return ml + v / nb * pw

    def Y(v: float) -> float:
        return mt + ph - 16 - v * (ph - 20)  # leave a strip at the bottom for the rug

    pts, lows = [], []
    for n, b in enumerate(beads):
        s = _num(b.score)
        if s is None:
            continue
        s = min(max(s, 0.0), 1.0)
        pts.append(f"{X(n):.1f},{Y(s):.1f}")
        if s < low_score:
            lows.append(
                f'<a href="#b-{n}" class="goto" data-bead="{n}"><circle class="lowpt" cx="{X(n):.1f}" cy="{Y(s):.1f}" r="3">'
                f"<title>bead {n} · {_e(b.kind)} · confidence {s:.2f}</title></circle></a>"
            )
    worst: dict[int, str] = {}
    for f in pair.findings:
        if 0 <= f.bead < len(beads):
            cur = worst.get(f.bead)
            if cur is None or sev_rank.get(f.severity, 99) < sev_rank.get(cur, 99):
                worst[f.bead] = f.severity
    rug = "".join(
        f'<line class="rug" data-sev="{_e(s)}" x1="{X(n):.1f}" x2="{X(n):.1f}" y1="{mt + ph - 13:.1f}" y2="{mt + ph:.1f}">'
        f"<title>bead {n}: {_e(s)} finding</title></line>"
        for n, s in sorted(worst.items())
    )
    step = _nice_step(max(len(beads) - 1, 1))
    xt = "".join(
        f'<line class="tick" x1="{X(v):.1f}" x2="{X(v):.1f}" y1="{mt + ph:.1f}" y2="{mt + ph + 4:.1f}"/>'
        f'<text class="tl" x="{X(v):.1f}" y="{mt + ph + 16:.1f}" text-anchor="middle">{v}</text>'
        for v in range(0, max(len(beads), 1), step)
    )
    yt = "".join(
        f'<line class="grid" x1="{ml}" x2="{ml + pw}" y1="{Y(v):.1f}" y2="{Y(v):.1f}"/>'
        f'<text class="tl" x="{ml - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">{v:g}</text>'
        for v in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    thr = (
        f'<line class="thr" x1="{ml}" x2="{ml + pw}" y1="{Y(low_score):.1f}" y2="{Y(low_score):.1f}"/>'
        f'<text class="tl thrl" x="{ml + pw - 4}" y="{Y(low_score) - 4:.1f}" text-anchor="end">low &lt; {low_score:g}</text>'
        if 0 <= low_score <= 1
        else ""
    )
    line = f'<polyline class="conf" points="{" ".join(pts)}"/>' if pts else ""
    return (
        f'<figure class="plot plot-conf"><svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="conf-t conf-d" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="conf-t">Bead confidence along the document</title>'
        f'<desc id="conf-d">Confidence of each of {len(beads)} beads in document order; {len(lows)} beads fall '
        f"below {low_score:g}; ticks at the bottom mark beads with findings.</desc>"
        f'<rect class="frame" x="{ml}" y="{mt}" width="{pw}" height="{ph}"/>{yt}{xt}{thr}{line}{rug}{"".join(lows)}'
        f'<text class="al" x="{ml + pw / 2:.1f}" y="{h - 6}" text-anchor="middle">bead</text>'
        f'<text class="al" transform="translate(12 {mt + ph / 2:.1f}) rotate(-90)" text-anchor="middle">confidence</text>'
        "</svg><figcaption>Confidence per bead "
        '(<span class="key lowkey">○</span> low confidence; ticks along the bottom: beads with findings, '
        "coloured by worst severity)</figcaption></figure>"
    )


def _axes(ml, mt, pw, ph, nx, ny, X, Y, xlabel: str, ylabel: str, yfmt: str = "{:g}") -> str:
    out = [f'<rect class="frame" x="{ml}" y="{mt}" width="{pw}" height="{ph}"/>']
    for v in range(0, nx + 1, _nice_step(nx)):
        out.append(
            f'<line class="tick" x1="{X(v):.1f}" x2="{X(v):.1f}" y1="{mt + ph}" y2="{mt + ph + 4}"/>'
            f'<text class="tl" x="{X(v):.1f}" y="{mt + ph + 16}" text-anchor="middle">{v}</text>'
        )
    for v in range(0, ny + 1, _nice_step(ny)):
        out.append(
            f'<line class="grid" x1="{ml}" x2="{ml + pw}" y1="{Y(v):.1f}" y2="{Y(v):.1f}"/>'
            f'<text class="tl" x="{ml - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">{yfmt.format(v)}</text>'
        )
    out.append(f'<text class="al" x="{ml + pw / 2:.1f}" y="{mt + ph + 34}" text-anchor="middle">{_e(xlabel)}</text>')
    out.append(
        f'<text class="al" transform="translate(12 {mt + ph / 2:.1f}) rotate(-90)" text-anchor="middle">{_e(ylabel)}</text>'
    )
    return "".join(out)


# -------------------------------------------------------------------------- data


def _data_json(pair: PairResult, kinds: list[str], sev_order: list[str], low_score: float) -> str:
    """The report's data, for the page script and for anyone scraping the file.

    Every ``<`` is written as ``\\u003c`` so no text can close the script
    element or open a comment inside it.
    """
    data = {
        "stem": pair.stem,
        "src": {"lang": pair.src.lang, "path": pair.src.path},
        "tgt": {"lang": pair.tgt.lang, "path": pair.tgt.path},
        "low_score": _num(low_score),
        "kinds": kinds,
        "severities": sev_order,
        "beads": [
            {"src": list(b.src), "tgt": list(b.tgt), "score": _num(b.score), "kind": b.kind, "flags": list(b.flags)}
            for b in pair.alignment.beads
        ],
        "findings": [
            {
                "kind": f.kind,
                "mqm": f.mqm,
                "severity": f.severity,
                "bead": f.bead,
                "src_spans": _jsonable(f.src_spans),
                "tgt_spans": _jsonable(f.tgt_spans),
                "src_text": f.src_text,
                "tgt_text": f.tgt_text,
                "score": _num(f.score),
                "message": f.message,
                "extra": _jsonable(f.extra),
            }
            for f in pair.findings
        ],
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ---------------------------------------------------------------- CSS and script

_CSS = """
:root{--fg:#1d232a;--muted:#5b6570;--line:#d5dbe1;--bg:#fff;--alt:#f6f8fa;--accent:#1f5f99;
--crit:#b3001b;--crit-bg:#ffd6d9;--maj:#b35400;--maj-bg:#ffe3bf;--min:#7a6a00;--min-bg:#fff4a3;--oth:#5b3fa0;--oth-bg:#e9e1ff;
--low:#c0392b;--controls-h:0px;--cols:5.2rem minmax(0,1fr) minmax(0,1fr) 15rem}
*{box-sizing:border-box}
html{scroll-padding-top:calc(var(--controls-h) + 1rem)}
body{margin:0;color:var(--fg);background:var(--bg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif}
:lang(zh){font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",system-ui,sans-serif}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.3rem .6rem;z-index:10}
.top{padding:1rem 1.25rem .5rem;border-bottom:1px solid var(--line)}
.overview{display:flex;flex-wrap:wrap;gap:.5rem 2.5rem;align-items:flex-start}.overview>div{flex:1 1 30rem;min-width:0}
.overview>table{flex:0 0 auto}
h1{font-size:1.45rem;margin:0 0 .4rem}h2{font-size:1.1rem;margin:.2rem 0 .6rem}
.docs{margin:0 0 .6rem;padding-left:1.1rem;color:var(--muted);font-size:.9rem}.docs b{color:var(--fg)}
.warnings{color:var(--maj)}
.stats{display:flex;flex-wrap:wrap;gap:.4rem 1.6rem;margin:.3rem 0 .7rem}.stats div{display:flex;gap:.4rem}
.stats dt{color:var(--muted)}.stats dd{margin:0;font-weight:600}
table.counts{border-collapse:collapse;font-size:.88rem;margin-bottom:.5rem}
.counts caption{text-align:left;font-weight:600;padding-bottom:.2rem}
.counts th,.counts td{border:1px solid var(--line);padding:.15rem .55rem;text-align:right}
.counts th[scope=row]{text-align:left;font-weight:500}.counts .total,.counts tfoot{font-weight:600}
.badge{display:inline-block;padding:0 .4em;border-radius:.3em;font-size:.78em;font-weight:700;line-height:1.5;
text-transform:uppercase;letter-spacing:.02em;background:var(--oth-bg);color:var(--oth);border:1px solid currentColor}
[data-sev=critical].badge{background:var(--crit-bg);color:var(--crit)}
[data-sev=major].badge{background:var(--maj-bg);color:var(--maj)}
[data-sev=minor].badge{background:var(--min-bg);color:var(--min)}
.controls{position:sticky;top:0;z-index:5;display:flex;flex-wrap:wrap;align-items:center;gap:.3rem 1rem;
padding:.45rem 1.25rem;background:#fbfcfd;border-bottom:1px solid var(--line);box-shadow:0 1px 3px rgba(0,0,0,.05)}
.controls fieldset{border:0;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.1rem .8rem;align-items:center}
.controls legend{float:left;font-weight:600;margin-right:.5rem;font-size:.85rem;color:var(--muted);text-transform:uppercase}
.controls label{white-space:nowrap;font-size:.92rem;cursor:pointer}
.n{color:var(--muted);font-weight:400;font-size:.88em}
#status{margin:0 0 0 auto;color:var(--muted);font-size:.88rem}
.layout{display:grid;grid-template-columns:minmax(15rem,19rem) minmax(0,1fr);gap:1.25rem;padding:1rem 1.25rem}
.side{position:sticky;top:calc(var(--controls-h) + .75rem);align-self:start;max-height:calc(100vh - var(--controls-h) - 1.5rem);
overflow:auto;border-right:1px solid var(--line);padding-right:.75rem}
.flist{list-style:none;margin:0;padding:0}
.finding{padding:.45rem .5rem;border-left:4px solid var(--oth);margin-bottom:.45rem;background:var(--alt);border-radius:0 .3rem .3rem 0;font-size:.88rem}
.finding:has([data-sev=critical]){border-left-color:var(--crit)}.finding:has([data-sev=major]){border-left-color:var(--maj)}
.finding:has([data-sev=minor]){border-left-color:#c9b200}
.finding a.goto{color:inherit;text-decoration:none;display:block}.finding a.goto:hover .kind,.finding a.goto:focus .kind{text-decoration:underline}
.where,.fs{color:var(--muted);font-size:.9em}.mqm{color:var(--muted);font-size:.9em}
.msg{display:block}.ev{margin-top:.15rem;color:var(--muted);font-size:.92em}.ev span{color:var(--fg);background:#fff;padding:0 .2em;border-radius:.2em}
.unplaced{color:var(--maj);font-size:.85em}
.plotrow{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,2fr);gap:1rem;align-items:start}
.plot{margin:0}.plot svg{width:100%;height:auto;display:block;max-height:22rem}
.plot figcaption{font-size:.82rem;color:var(--muted);margin-top:.2rem}
.frame{fill:#fcfdfe;stroke:#9aa5b1}.grid{stroke:#e3e8ed}.tick{stroke:#9aa5b1}
.tl{font-size:10px;fill:#5b6570}.al{font-size:11px;fill:#3a444e}
.diag{stroke:#c3ccd5;stroke-dasharray:4 3}.path{fill:none;stroke:var(--accent);stroke-width:1.8;stroke-linejoin:round}
.conf{fill:none;stroke:var(--accent);stroke-width:1.2;stroke-linejoin:round}
.thr{stroke:var(--low);stroke-dasharray:5 4;stroke-width:1}.thrl{fill:var(--low)}
.lowpt{fill:#fff;stroke:var(--low);stroke-width:1.8}a:hover>.lowpt,a:focus>.lowpt{fill:var(--low)}
.rug{stroke:var(--oth);stroke-width:2}.rug[data-sev=critical]{stroke:var(--crit)}.rug[data-sev=major]{stroke:var(--maj)}.rug[data-sev=minor]{stroke:#c9b200}
.key{font-weight:700}.lowkey{color:var(--low)}
#beads{margin-top:1rem}
/* Rows are grids, not table rows, so that off-screen rows can skip layout
   (content-visibility does not apply to table boxes); the ARIA roles keep the table semantics. */
table.beads,table.beads>thead,table.beads>tbody{display:block;width:100%}
table.beads tr{display:grid;grid-template-columns:var(--cols);border-bottom:1px solid var(--line)}
table.beads th,table.beads td{display:block;min-width:0}
tr.bead{content-visibility:auto;contain-intrinsic-size:auto 7rem}
.beads thead tr{border-bottom:2px solid var(--line)}
.beads thead th{text-align:left;font-size:.85rem;color:var(--muted);padding:.3rem .5rem}
.beads td,.beads th[scope=row]{padding:.45rem .5rem}
.beads tbody tr:nth-child(even){background:#fafbfc}
tr.bead.has{background:#fffdf6}
tr.bead:target,tr.bead.flash{outline:3px solid var(--accent);outline-offset:-3px}
th.meta{font-weight:400;text-align:left;font-size:.8rem;color:var(--muted)}
th.meta>*{display:block}
.bn{font-size:1rem;font-weight:700;color:var(--fg);text-decoration:none}.bn:hover{text-decoration:underline}
.bt{font-family:ui-monospace,Menlo,Consolas,monospace}
.sc.lo{color:var(--low);font-weight:700}
.bar{height:4px;background:#e3e8ed;border-radius:2px;margin:.15rem 0 .2rem;width:3.6rem}.bar>span{display:block;height:100%;background:var(--accent);border-radius:2px}
tr.low .bar>span{background:var(--low)}
.flag{display:inline-block;font-size:.72rem;border:1px solid var(--line);border-radius:.25rem;padding:0 .25rem;margin-top:.15rem;background:#fff;word-break:break-all}
.txt{overflow-wrap:anywhere}
.txt:lang(zh){font-size:1.02rem;line-height:1.7}
.sep{color:#aab3bc;font-weight:700}
.gap{color:var(--muted);font-style:italic}
mark.hl{color:inherit;background:var(--oth-bg);border-bottom:2px solid var(--oth);cursor:help}
mark.hl[data-sev=critical]{background:var(--crit-bg);border-bottom:3px solid var(--crit)}
mark.hl[data-sev=major]{background:var(--maj-bg);border-bottom:2px solid var(--maj)}
mark.hl[data-sev=minor]{background:var(--min-bg);border-bottom:2px dotted var(--min)}
mark.hl.multi{border-bottom-style:double;border-bottom-width:4px}
mark.hl.ins{display:inline-block;margin:0 .15em;padding:0 .3em;border:1px dashed currentColor;border-radius:.2em;
font-size:.72em;font-weight:700;line-height:1.5;vertical-align:.1em;text-transform:uppercase;letter-spacing:.03em;color:var(--crit)}
mark.hl.ins::before{content:"\\2038\\00a0missing"}
mark.hl.off{background:none;border-bottom:0;cursor:auto}mark.hl.ins.off{display:none}
mark.hl.active,mark.hl:focus{outline:2px solid var(--accent);outline-offset:1px}
.notes ul{list-style:none;margin:0;padding:0}.note{font-size:.82rem;margin-bottom:.45rem;line-height:1.4}
.note .mqm{display:block}
[hidden]{display:none!important}
#tip{position:fixed;z-index:20;max-width:26rem;background:#1d232a;color:#fff;padding:.45rem .6rem;border-radius:.35rem;
font-size:.84rem;line-height:1.4;box-shadow:0 4px 14px rgba(0,0,0,.25);pointer-events:none}
#tip div+div{margin-top:.35rem;padding-top:.35rem;border-top:1px solid #46505a}#tip b{text-transform:uppercase;font-size:.78rem}
.none{color:var(--muted);font-style:italic}
@media (max-width:62rem){.layout{grid-template-columns:1fr}.side{position:static;max-height:20rem;border-right:0;border-bottom:1px solid var(--line);padding:0 0 .75rem}
.plotrow{grid-template-columns:1fr}:root{--cols:4.2rem minmax(0,1fr) minmax(0,1fr) 11rem}}
@media print{
body{font-size:10.5pt}.controls,#tip,.skip{display:none}
.layout{display:block;padding:0}.side{position:static;max-height:none;overflow:visible;border:0;padding:0}
.plotrow{grid-template-columns:1fr 2fr}.plot svg{max-height:none}
tr.bead{break-inside:avoid;content-visibility:visible}
a{color:inherit;text-decoration:none}
mark.hl,.badge,.bar>span{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.finding{break-inside:avoid}}
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var F = data.findings;
  var rank = {};
  data.severities.forEach(function (s, i) { rank[s] = i; });
  function ids(el) {
    var s = el.getAttribute("data-f");
    return s ? s.split(" ").map(Number) : [];
  }
  var kindBoxes = [].slice.call(document.querySelectorAll("input[data-filter=kind]"));
  var sevBoxes = [].slice.call(document.querySelectorAll("input[data-filter=severity]"));
  var onlyFindings = document.getElementById("only-findings");
  var onlyLow = document.getElementById("only-low");
  var status = document.getElementById("status");
  var marks = [].slice.call(document.querySelectorAll("mark.hl")).map(function (m) { return [m, ids(m)]; });
  var rows = [].slice.call(document.querySelectorAll("tr.bead")).map(function (r) { return [r, ids(r)]; });
  var items = [].slice.call(document.querySelectorAll("li[data-fid]"));
  var visible = F.map(function () { return true; });

  function apply() {
    var kinds = {}, sevs = {}, i, shownF = 0, shownB = 0;
    kindBoxes.forEach(function (b) { kinds[b.value] = b.checked; });
    sevBoxes.forEach(function (b) { sevs[b.value] = b.checked; });
    for (i = 0; i < F.length; i++) {
      visible[i] = kinds[F[i].kind] !== false && sevs[F[i].severity] !== false;
      if (visible[i]) shownF++;
    }
    marks.forEach(function (p) {
      var best = null;
      p[1].forEach(function (f) {
        if (visible[f] && (best === null || rank[F[f].severity] < rank[best])) best = F[f].severity;
      });
      var el = p[0];
      var n = p[1].filter(function (f) { return visible[f]; }).length;
      if (el.classList.contains("multi") !== (n > 1)) el.classList.toggle("multi");
      if (best === null) { if (!el.classList.contains("off")) el.classList.add("off"); return; }
      if (el.classList.contains("off")) el.classList.remove("off");
      if (el.getAttribute("data-sev") !== best) el.setAttribute("data-sev", best);
    });
    items.forEach(function (el) {
      var hide = !visible[+el.getAttribute("data-fid")];
      if (el.hidden !== hide) el.hidden = hide;
    });
    rows.forEach(function (p) {
      var has = p[1].some(function (f) { return visible[f]; });
      var hide = (onlyFindings.checked && !has) || (onlyLow.checked && !p[0].classList.contains("low"));
      if (p[0].hidden !== hide) p[0].hidden = hide;
      if (!hide) shownB++;
    });
    status.textContent = "Showing " + shownF + " of " + F.length + " findings, " +
      shownB + " of " + rows.length + " beads";
  }
  document.getElementById("controls").addEventListener("change", apply);

  var controls = document.getElementById("controls");
  function setControlsHeight() {
    document.documentElement.style.setProperty("--controls-h", controls.offsetHeight + "px");
  }
  window.addEventListener("resize", setControlsHeight);

  var tip = document.getElementById("tip");
  function showTip(m) {
    if (m.classList.contains("off")) return;
    tip.textContent = "";
    ids(m).forEach(function (f) {
      if (!visible[f]) return;
      var d = document.createElement("div"), h = document.createElement("b");
      h.textContent = F[f].severity + " · " + F[f].kind;
      d.appendChild(h);
      d.appendChild(document.createTextNode(" " + F[f].mqm + " (#" + f + ")"));
      var msg = document.createElement("div");
      msg.textContent = F[f].message;
      d.appendChild(msg);
      tip.appendChild(d);
    });
    tip.hidden = false;
    var r = m.getBoundingClientRect(), tw = tip.offsetWidth, th = tip.offsetHeight;
    var left = Math.max(8, Math.min(r.left, window.innerWidth - tw - 8));
    var top = r.bottom + 6;
    if (top + th > window.innerHeight - 8) top = Math.max(8, r.top - th - 6);
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  }
  function hideTip() { tip.hidden = true; }
  document.addEventListener("mouseover", function (e) {
    var m = e.target.closest && e.target.closest("mark.hl");
    if (m) showTip(m);
  });
  document.addEventListener("mouseout", function (e) {
    if (e.target.closest && e.target.closest("mark.hl")) hideTip();
  });
  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("mark.hl")) showTip(e.target); else hideTip();
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") hideTip(); });
  window.addEventListener("scroll", hideTip, {passive: true});

  // Off-screen rows have estimated heights until they render, so one scroll can
  // land short: re-centre for a few frames until the row stays put.
  function reveal(row, tries) {
    row.scrollIntoView({block: "center"});
    requestAnimationFrame(function () {
      var r = row.getBoundingClientRect();
      if (tries > 0 && Math.abs((r.top + r.bottom) / 2 - window.innerHeight / 2) > 24) reveal(row, tries - 1);
    });
  }

  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest(".goto[data-bead]");
    if (!a) return;
    var row = document.getElementById("b-" + a.getAttribute("data-bead"));
    if (!row) return;
    e.preventDefault();
    row.hidden = false;
    reveal(row, 6);
    row.focus({preventScroll: true});
    row.classList.add("flash");
    var fid = a.getAttribute("data-fid");
    var lit = fid === null ? [] : marks.filter(function (p) { return p[1].indexOf(+fid) >= 0; });
    lit.forEach(function (p) { p[0].classList.add("active"); });
    setTimeout(function () {
      row.classList.remove("flash");
      lit.forEach(function (p) { p[0].classList.remove("active"); });
    }, 2000);
    if (history.replaceState) history.replaceState(null, "", "#b-" + a.getAttribute("data-bead"));
  });

  // Reading the bar's height forces layout; do it after first paint, not before.
  requestAnimationFrame(setControlsHeight);
  apply();
  var m = /^#b-\d+$/.test(location.hash) && document.getElementById(location.hash.slice(1));
  if (m) requestAnimationFrame(function () { reveal(m, 6); });
  document.documentElement.setAttribute("data-ready", "1");
})();
"""
