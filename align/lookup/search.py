"""Looking things up in an index: words, substrings, regexes, meaning, clauses.

Text modes return hits in document (bead) order, like grep: FTS5 and the
CJK postings yield rowids in that order, so the first ``limit`` hits cost
about the same whether a word occurs 3 times or 300,000 times. In exact
mode, matches whose first and last words are whole words come first, then
those inside longer words ("conomic Un"); semantic hits come best first. The
index only proposes candidates for exact mode, and for Chinese words (the
CJK postings, ``align.lookup.postings``, have no positions, so they find a
word's bigrams, not necessarily together): the rowids holding every term of
a query are intersected with numpy, fetched from ``beads`` in rowid order a
growing chunk at a time, and checked on the text itself until ``limit``
pass; regex mode scans the texts.
"""

from __future__ import annotations

import heapq
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from align.model import AlignError

from ._writer import FTS_TABLE
from .postings import Postings
from .store import DEFAULT_DB, DocInfo, _corrupt, connect, default_encoder, open_vectors, read_docs, read_meta
from .text import (
    CHECK_TOKEN,
    base_lang,
    cjk_runs,
    cjk_word_tokens,
    clause_number,
    exact_regex,
    find_spans,
    fold,
    SubstringPhrase,
    query_script,
    regex_script,
    runs_sql,
    substring_phrase,
    term_regex,
    word_expression,
    word_terms,
)

MODES = ("word", "exact", "regex", "semantic")
Span = tuple[int, int]
_VOCAB_MAX = 300  # more matching words than this: drop the constraint (or scan)
_EXACT_MAX_BEADS = 50_000  # semantic search within a filter this small scores every bead
# the kinds of bead side: CJK ones (in the postings) and the others (fts_other)
_KINDS = ("cjk", "other")
# candidates of the CJK postings fetched from ``beads`` in chunks of this
# many times the hits still wanted (at least 64), growing 4x a chunk
_FIRST_CHUNK = 4
_NARROW_AFTER = 1024  # candidates read before a clause filter is applied to the rest in numpy


@dataclass(frozen=True)
class ContextBead:
    bead: int
    texts: tuple[str, str]


@dataclass(frozen=True)
class Hit:
    """One bead found; ``side`` is the index into ``langs`` of the side the
    query matched (None for a pure clause lookup), ``spans`` the match
    offsets in each side's text (empty for semantic and clause lookups)."""

    document: str
    bead: int
    langs: tuple[str, str]
    texts: tuple[str, str]
    side: int | None
    spans: tuple[tuple[Span, ...], tuple[Span, ...]]
    sections: tuple[str | None, str | None]
    clauses: tuple[str | None, str | None]
    number: int | None
    score: float | None  # cosine similarity, semantic mode only
    align_score: float | None
    flags: tuple[str, ...]
    findings: tuple[dict, ...]
    before: tuple[ContextBead, ...] = ()
    after: tuple[ContextBead, ...] = ()
    source_spans: tuple[tuple[Span, ...], tuple[Span, ...]] = ((), ())

    def text(self, lang: str) -> str:
        return self.texts[self._index(lang)]

    def _index(self, lang: str) -> int:
        for i, code in enumerate(self.langs):
            if code == lang or base_lang(code) == base_lang(lang):
                return i
        raise KeyError(lang)

    def label(self) -> str:
        """'务实合作 （十六） / Practical cooperation (16)'; '' without labels."""
        parts = [" ".join(x for x in (self.sections[i], self.clauses[i]) if x) for i in (0, 1)]
        parts = [p for p in parts if p]
        return " / ".join(parts)


# ---------------------------------------------------------------- filters


@dataclass
class _Filter:
    """Restrictions by document, clause number and section, as SQL on ``beads b``."""

    span: tuple[int, int] | None = None  # bead ids [first, last] of one document
    number: int | None = None
    secs: list[int] | None = None  # matching section ids; [] matches nothing
    sql: str = ""
    params: list[Any] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.secs == []


def _filters(con: sqlite3.Connection, docs: list[DocInfo], clause: Any, section: str | None, document: str | None) -> _Filter:
    flt = _Filter()
    where: list[str] = []
    if document is not None:
        found = [d for d in docs if d.name == document]
        if not found:
            names = ", ".join(d.name for d in docs[:10]) + (", ..." if len(docs) > 10 else "")
            raise AlignError(f"no document named '{document}' in the index (it has: {names or 'nothing'})")
        flt.span = (found[0].first, found[0].first + found[0].count - 1)
        where.append("b.id BETWEEN ? AND ?")
        flt.params += list(flt.span)
    if clause is not None and str(clause).strip():
        flt.number = clause_number(clause)
        if flt.number is None:
            raise AlignError(f"cannot read clause label {str(clause)!r}; write it like 16, (16), 十六 or （十六）")
        where.append("(b.number = ? OR b.number_b = ?)")
        flt.params += [flt.number, flt.number]
    if section is not None and section.strip():
        want = " ".join(fold(section).split())
        flt.secs = [
            i for i, a, b in con.execute("SELECT id, a, b FROM sections")
            if any(x and want in " ".join(fold(x).split()) for x in (a, b))
        ]
        marks = ",".join("?" * len(flt.secs))
        where.append(f"b.sec IN ({marks})")
        flt.params += flt.secs
    flt.sql = " AND ".join(where)
    return flt


def _side_ok(docs: dict[int, DocInfo], script: str | None, lang: str | None) -> dict[int, tuple[bool, bool]]:
    """Per document, which sides a query of this script (and ``side=`` language) may match."""
    out = {}
    for d in docs.values():
        ok = []
        for i in (0, 1):
            good = script is None or d.cjk[i] == (script == "cjk")
            if lang is not None:
                good = good and (d.langs[i] == lang or base_lang(d.langs[i]) == base_lang(lang))
            ok.append(good)
        out[d.id] = (ok[0], ok[1])
    return out


# ---------------------------------------------------------------- search


def search(
    db_path: Path | str = DEFAULT_DB,
    query: str | None = None,
    mode: str = "word",
    context: int = 0,
    limit: int = 20,
    clause: str | int | None = None,
    section: str | None = None,
    encoder: Any = None,
    *,
    side: str | None = None,
    document: str | None = None,
) -> list[Hit]:
    """Find beads by ``query`` and/or by clause and section labels.

    ``mode``: word (all words, CJK runs as substrings), exact (substring,
    case-insensitive), regex (Python ``re``, case-insensitive), semantic
    (cross-lingual embedding similarity). A query with CJK characters is
    matched against CJK sides, a query with letters against the others, one
    of digits and punctuation against both; ``side`` restricts matching to one
    language. With no query, ``clause``/``section`` list that item's beads.
    """
    if mode not in MODES:
        raise AlignError(f"unknown lookup mode {mode!r}; use one of {', '.join(MODES)}")
    if limit < 1:
        raise AlignError("--limit must be at least 1")
    if context < 0:
        raise AlignError("--context must be 0 or more")
    q = (query or "").strip()
    has_labels = (clause is not None and str(clause).strip()) or (section is not None and section.strip())
    if not q and not has_labels:
        raise AlignError("empty query: give words to look up, or --clause/--section")
    db_path = Path(db_path)
    con = connect(db_path)
    try:
        docs_list = read_docs(con)
        docs = {d.id: d for d in docs_list}
        flt = _filters(con, docs_list, clause, section, document)
        if side is not None and not any(side in d.langs or base_lang(side) in map(base_lang, d.langs) for d in docs_list):
            langs = sorted({x for d in docs_list for x in d.langs})
            raise AlignError(f"no document in the index has language '{side}' (it has: {', '.join(langs) or 'nothing'})")
        if flt.empty:
            return []
        if not q:
            found = _label_lookup(con, flt, limit)
        elif mode == "semantic":
            found = _semantic(con, db_path, docs, flt, q, limit, encoder, side)
        else:
            found = _text_lookup(con, docs, flt, q, mode, limit, side)
        return _hits(con, docs, found, context)
    except sqlite3.DatabaseError as exc:
        raise _corrupt(db_path, exc) from None
    finally:
        con.close()


# A match before it becomes a Hit: bead id, matched side, spans, score.
_Found = tuple[int, int | None, tuple[tuple[Span, ...], tuple[Span, ...]], float | None]


def _and(flt: _Filter) -> str:
    return f" AND {flt.sql}" if flt.sql else ""


def _label_lookup(con: sqlite3.Connection, flt: _Filter, limit: int) -> list[_Found]:
    """Beads of a clause and/or section, in document order: one index probe
    per (section, number column), merged, so a million-bead index answers in
    milliseconds whatever the section's size."""
    runs = [[i for (i,) in con.execute(f"SELECT id FROM beads WHERE {cond} ORDER BY id LIMIT ?", (*params, limit))]
            for cond, params in _label_probes(flt)]
    ids = list(dict.fromkeys(heapq.merge(*runs)))[:limit]
    return [(i, None, ((), ()), None) for i in ids]


def _label_ids(con: sqlite3.Connection, flt: _Filter) -> np.ndarray:
    """All bead ids of a clause number (and section), sorted: a few index
    probes, where SQLite's own plan for ``flt.sql`` reads a whole section
    (90 ms for 2,000 beads of a million)."""
    ids = [i for cond, params in _label_probes(flt) for (i,) in con.execute(f"SELECT id FROM beads WHERE {cond}", params)]
    return np.unique(np.asarray(ids, dtype=np.int64))


def _label_probes(flt: _Filter) -> list[tuple[str, list[Any]]]:
    probes: list[tuple[str, list[Any]]] = []
    numbers = [] if flt.number is None else [("number", flt.number), ("number_b", flt.number)]
    if flt.secs is None:
        probes = [(f"{col} = ?", [n]) for col, n in numbers]
    elif not numbers:
        probes = [("sec = ?", [sid]) for sid in flt.secs]
    else:
        probes = [(f"sec = ? AND {col} = ?", [sid, n]) for sid in flt.secs for col, n in numbers]
    if flt.span is not None:
        probes = [(f"{cond} AND id BETWEEN ? AND ?", [*params, *flt.span]) for cond, params in probes]
    return probes


# One full-text query: the kind of side, its FTS5 expression (kind 'other')
# or the postings' terms of each alternative (kind 'cjk'), the test a
# candidate's matched side must pass (None, every candidate is a hit;
# HAS_SPANS, the query's spans must be found in it), the CJK runs it must
# contain, which SQLite checks where it can (``text.runs_sql``), and whether
# those runs are all the test is (word mode: then SQLite's check is enough).
_Query = tuple[str, "str | list[list[str]]", Callable[[str], bool] | str | None, list[str], bool]
HAS_SPANS = "has spans"


def _text_lookup(con: sqlite3.Connection, docs: dict[int, DocInfo], flt: _Filter, q: str, mode: str, limit: int, side: str | None) -> list[_Found]:
    if mode == "regex":
        try:
            rx = re.compile(q, re.IGNORECASE)
        except re.error as exc:
            raise AlignError(f"bad regular expression {q!r}: {exc}") from None
        script = regex_script(q)
        ok = _side_ok(docs, script, side)
        return _scan(con, flt, ok, lambda t: find_spans([rx], t, folded=False), limit)

    script = query_script(q)
    ok = _side_ok(docs, script, side)
    # digits and punctuation only: either kind of side
    kinds = [script] if script is not None else list(_KINDS)
    if mode == "word":
        terms = word_terms(q)
        patterns = [term_regex(t) for t in terms]
        queries: list[_Query] = []
        for kind in kinds:
            if kind == "other":  # phrases with positions: FTS5's answer is exact
                queries.append((kind, word_expression(terms), None, [], False))
            else:  # bigrams without positions: each CJK run must be in the text
                runs = [p for t, p in zip(terms, patterns) if t.cjk and len(t.text) > 1]
                queries.append((kind, [cjk_word_tokens(terms)], _all_of(runs) if runs else None,
                                [t.text for t in terms if t.cjk and len(t.text) > 1], True))
        return _fts(con, flt, ok, queries, lambda t: find_spans(patterns, t), limit)

    rx = exact_regex(q)
    if not rx.pattern:
        raise AlignError("empty query: give words to look up, or --clause/--section")
    strict = _contains(exact_regex(q, whole_edges=True))

    def spans(t: str) -> tuple[Span, ...]:
        return find_spans([rx], t)

    p = substring_phrase(q)
    runs = cjk_runs(q)
    tiers = _substring_tiers(con, p)
    if tiers is None:
        return _scan(con, flt, ok, spans, limit)
    out: list[_Found] = []
    for combos, whole in tiers:
        queries = []
        for kind in kinds:
            if kind == "other":  # phrases: whole edge words where asked, by position
                expr = " OR ".join(f"({p.phrase(h, t)})" for h, t in combos)
                queries.append((kind, expr, HAS_SPANS, [], False))
            else:  # no positions: the text says whether the edge words are whole
                queries.append((kind, [p.terms(h, t) for h, t in combos], strict if whole else HAS_SPANS, runs, False))
        seen = {f[0] for f in out}
        more = _fts(con, flt, ok, queries, spans, limit + len(seen))
        out += [f for f in more if f[0] not in seen][: limit - len(out)]
        if len(out) >= limit:
            break
    return out


def _contains(rx: re.Pattern) -> Callable[[str], bool]:
    return lambda text: rx.search(fold(text)) is not None


def _all_of(patterns: list[re.Pattern]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        folded = fold(text)
        return all(p.search(folded) is not None for p in patterns)

    return check


def _vocab(con: sqlite3.Connection, cond: str, params: tuple) -> list[str] | None:
    """Indexed words matching ``cond``, or None if there are more than are
    worth OR-ing together."""
    terms = [t for (t,) in con.execute(f"SELECT term FROM vocab WHERE {cond} LIMIT {_VOCAB_MAX + 1}", params)]
    return None if len(terms) > _VOCAB_MAX else terms


_Tier = tuple[list[tuple[str | None, str | None]], bool]


def _substring_tiers(con: sqlite3.Connection, p: SubstringPhrase) -> list[_Tier] | None:
    """Queries that together find every text containing the query, each as
    the (head, tail) spellings of its edge words to OR together and whether
    those are the query's own words, whole: first with its edge words as
    whole words (the common case, and selective: the hits come first), then
    with the longer indexed words they can be part of ('said' in 'unsaid',
    'of' in 'offering'). None: no usable constraint, scan.
    """
    if p.whole:
        longer = _vocab(con, "instr(term, ?1) > 0 AND term != ?1", (p.head,))
        if longer is None:
            return None
        return [([(p.head, None)], True)] + ([([(t, None) for t in longer], False)] if longer else [])
    if p.head is None and p.tail is None:
        return [([(None, None)], True)] if p.middle else None
    more_heads = [] if p.head is None else _vocab(con, "substr(term, -length(?1)) = ?1 AND term != ?1", (p.head,))
    more_tails = [] if p.tail is None else _vocab(con, "term > ?1 AND term < ?1 || char(1114111)", (p.tail,))
    tiers: list[_Tier] = [([(p.head, p.tail)], True)]
    if more_heads is not None and more_tails is not None:
        heads, tails = [p.head, *more_heads], [p.tail, *more_tails]
        combos = [(h, t) for h in heads for t in tails if (h, t) != (p.head, p.tail)]
        if len(combos) <= _VOCAB_MAX:
            if combos:
                tiers.append((combos, False))
            return tiers
    if not p.middle:
        return None  # too many spellings and nothing else to go on
    tiers.append(([(None, None)], False))  # the middle alone; every candidate is verified
    return tiers


def _fts(con: sqlite3.Connection, flt: _Filter, ok: dict[int, tuple[bool, bool]], queries: list[_Query],
         spans_of: Callable[[str], tuple[Span, ...]], limit: int) -> list[_Found]:
    """Matches of each full-text query, merged in document order; a row
    counts only if its matched side passes the query's test (the index
    yields candidates, e.g. the same words with other punctuation, or a
    Chinese query's bigrams apart)."""

    def hits(rows: Iterator[tuple[int, int, int, str, str]], accept: Callable[[str], bool] | str | None) -> Iterator[tuple[int, _Found]]:
        for rowid, bid, doc, ta, tb in rows:
            s = rowid & 1
            if not ok[doc][s]:
                continue
            texts = (ta, tb)
            if callable(accept) and not accept(texts[s]):
                continue
            mine = spans_of(texts[s])
            if accept is HAS_SPANS and not mine:
                continue
            other = spans_of(texts[1 - s]) if ok[doc][1 - s] else ()
            sp = (mine, other) if s == 0 else (other, mine)
            yield rowid, (bid, s if mine or not other else 1 - s, sp, None)

    def fts_rows(table: str, expr: str) -> Iterator[tuple[int, int, int, str, str]]:
        sql = (
            f"SELECT f.rowid, b.id, b.doc, b.text_a, b.text_b FROM {table} f JOIN beads b ON b.id = (f.rowid >> 1)"
            f" WHERE {table} MATCH ?{_and(flt)} ORDER BY f.rowid"
        )
        try:
            yield from con.execute(sql, (expr, *flt.params))
        except sqlite3.OperationalError as exc:  # should not happen: every token is quoted
            raise AlignError(f"cannot search for this query ({exc})") from None

    postings = Postings(con)
    side_text = "CASE j.value & 1 WHEN 0 THEN b.text_a ELSE b.text_b END"
    streams = []
    for kind, expr, accept, runs, decide in queries:
        if kind == "other":
            streams.append(hits(fts_rows(FTS_TABLE, expr), accept))
            continue
        found = postings.any_of_all(expr)
        if flt.span is not None:
            found = found[(found >= 2 * flt.span[0]) & (found <= 2 * flt.span[1] + 1)]
        check = runs_sql(side_text, runs)
        if check is None or found.size == 0:
            streams.append(hits(_candidate_rows(con, flt, found, None, limit), accept))
        else:  # SQLite checks the texts it can, Python the others
            marked = np.isin(found, postings.get(CHECK_TOKEN), assume_unique=True)
            streams.append(hits(_candidate_rows(con, flt, found[~marked], check, limit), None if decide else accept))
            streams.append(hits(_candidate_rows(con, flt, found[marked], None, limit), accept))
    out: list[_Found] = []
    seen: set[int] = set()
    for _, found_hit in heapq.merge(*streams, key=lambda x: x[0]):
        if found_hit[0] in seen:
            continue
        seen.add(found_hit[0])
        out.append(found_hit)
        if len(out) >= limit:
            break
    return out


def _candidate_rows(con: sqlite3.Connection, flt: _Filter, rowids: np.ndarray, check: tuple[str, list[str]] | None,
                    limit: int) -> Iterator[tuple[int, int, int, str, str]]:
    """(rowid, bead, doc, text_a, text_b) of the candidate rowids (ascending)
    that pass the filter and the SQL check, fetched a chunk at a time: the
    first chunk a few times ``limit``, each next one 4x larger, so a query
    with 300,000 candidates reads only as far as its first hits."""
    sql = (
        "SELECT j.value, b.id, b.doc, b.text_a, b.text_b FROM json_each(?) j JOIN beads b ON b.id = (j.value >> 1)"
        f" WHERE 1{_and(flt)}{f' AND {check[0]}' if check else ''} ORDER BY j.value"
    )
    extra = tuple(check[1]) if check else ()
    at, size = 0, max(64, _FIRST_CHUNK * limit)
    while at < rowids.size:
        if flt.number is not None and at >= _NARROW_AFTER:
            # a clause filter that the first candidates mostly failed: keep
            # the rest that are in the clause's beads (a few index probes)
            rest, ids = rowids[at:] >> 1, _label_ids(con, flt)
            keep = np.zeros(int(max(rest[-1], ids[-1] if ids.size else 0)) + 1, dtype=bool)
            keep[ids] = True
            rowids, at = rowids[at:][keep[rest]], 0
            flt = _Filter(flt.span, None, flt.secs, flt.sql, flt.params)
            continue
        chunk = rowids[at : at + size]
        at += chunk.size
        size *= 4
        yield from con.execute(sql, (json.dumps(chunk.tolist()), *flt.params, *extra))


def _scan(con: sqlite3.Connection, flt: _Filter, ok: dict[int, tuple[bool, bool]], spans_of: Any, limit: int) -> list[_Found]:
    cur = con.execute(f"SELECT b.id, b.doc, b.text_a, b.text_b FROM beads b WHERE 1{_and(flt)} ORDER BY b.id", flt.params)
    out: list[_Found] = []
    while len(out) < limit:
        batch = cur.fetchmany(2000)
        if not batch:
            break
        for bid, doc, ta, tb in batch:
            a_ok, b_ok = ok[doc]
            sa = spans_of(ta) if a_ok and ta else ()
            sb = spans_of(tb) if b_ok and tb else ()
            if sa or sb:
                out.append((bid, 0 if sa else 1, (sa, sb), None))
                if len(out) >= limit:
                    break
    return out


def _semantic(con: sqlite3.Connection, db_path: Path, docs: dict[int, DocInfo], flt: _Filter, q: str, limit: int, encoder: Any, side: str | None) -> list[_Found]:
    meta = read_meta(con)
    store = open_vectors(db_path, meta, con)
    if store is None:
        raise AlignError(f"{db_path}: index has no sentence vectors; rebuild it with vectors to use --semantic")
    try:
        top_rows, top_scores = _semantic_top(store, con, db_path, docs, flt, q, limit, encoder, side)
    finally:
        store.close()
    out: list[_Found] = []
    seen: set[int] = set()
    for r, sc in zip(top_rows.tolist(), top_scores.tolist()):
        bid = r >> 1
        if bid in seen or sc == 0.0:
            continue
        seen.add(bid)
        out.append((bid, r & 1, ((), ()), float(sc)))
        if len(out) >= limit:
            break
    return out


def _semantic_top(store: Any, con: sqlite3.Connection, db_path: Path, docs: dict[int, DocInfo], flt: _Filter, q: str, limit: int,
                  encoder: Any, side: str | None) -> tuple[np.ndarray, np.ndarray]:
    if encoder is None:
        encoder = default_encoder(store.encoder)
    name = getattr(encoder, "name", None)
    if name is not None and store.encoder is not None and name != store.encoder:
        raise AlignError(f"{db_path}: index vectors were made by encoder '{store.encoder}', not '{name}'; use that encoder or rebuild")
    try:
        qv = np.asarray(encoder.encode([q]), dtype=np.float32).reshape(-1)
    except AlignError:
        raise
    except Exception as exc:  # a model that will not load or run: say which
        raise AlignError(f"cannot embed the query with encoder '{name or store.encoder}': {exc}") from None
    if qv.shape[0] != store.vectors.shape[1]:
        raise AlignError(f"encoder gives {qv.shape[0]}-d vectors, the index has {store.vectors.shape[1]}-d ones")
    allowed = _allowed_rows(docs, _side_ok(docs, None, side), store.vectors.shape[0]) if side is not None else None
    want = 2 * limit + 2
    ids = None
    if flt.sql:
        ids = np.fromiter((i for (i,) in con.execute(f"SELECT b.id FROM beads b WHERE {flt.sql}", flt.params)), dtype=np.int64)
    if ids is not None and ids.size <= _EXACT_MAX_BEADS:
        # few enough to score exactly (a clause, a small document)
        rows = np.sort(np.concatenate([2 * ids, 2 * ids + 1]))
        if allowed is not None:
            rows = rows[allowed[rows]]
        scores = store.score_rows(qv, rows)
        order = np.argsort(-scores, kind="stable")[:want]
        top_rows, top_scores = rows[order], scores[order]
    else:
        if ids is not None:
            mask = np.zeros(store.vectors.shape[0], dtype=bool)
            mask[2 * ids] = mask[2 * ids + 1] = True
            allowed = mask if allowed is None else allowed & mask
        top_rows, top_scores = store.top(qv, want, allowed)
    return top_rows, top_scores


def _allowed_rows(docs: dict[int, DocInfo], ok: dict[int, tuple[bool, bool]], n: int) -> np.ndarray:
    allowed = np.zeros(n, dtype=bool)
    for d in docs.values():
        for s in (0, 1):
            if ok[d.id][s]:
                allowed[2 * d.first + s : 2 * (d.first + d.count) : 2] = True
    return allowed


# ---------------------------------------------------------------- hits


def _spans(js: str | None) -> tuple[Span, ...]:
    if not js:
        return ()
    return tuple((int(s), int(e)) for s, e in json.loads(js))


def _hits(con: sqlite3.Connection, docs: dict[int, DocInfo], found: list[_Found], context: int) -> list[Hit]:
    if not found:
        return []
    ids = [f[0] for f in found]
    rows: dict[int, tuple] = {}
    for chunk in _chunks(ids, 500):
        marks = ",".join("?" * len(chunk))
        for r in con.execute(
            "SELECT b.id, b.doc, b.n, b.text_a, b.text_b, b.spans_a, b.spans_b, s.a, s.b, b.clause_a, b.clause_b, b.number, b.score, b.flags"
            f" FROM beads b LEFT JOIN sections s ON s.id = b.sec WHERE b.id IN ({marks})",
            chunk,
        ):
            rows[r[0]] = r
    hits = []
    for bid, side, spans, score in found:
        _, doc, n, ta, tb, spa, spb, sea, seb, cla, clb, number, ascore, flags = rows[bid]
        d = docs[doc]
        findings = tuple(json.loads(x) for (x,) in con.execute("SELECT data FROM findings WHERE doc = ? AND bead = ? ORDER BY rowid", (doc, n)))
        before: tuple[ContextBead, ...] = ()
        after: tuple[ContextBead, ...] = ()
        if context:
            near = con.execute(
                "SELECT n, text_a, text_b FROM beads WHERE doc = ? AND n BETWEEN ? AND ? AND n != ? ORDER BY n",
                (doc, n - context, n + context, n),
            ).fetchall()
            before = tuple(ContextBead(m, (a, b)) for m, a, b in near if m < n)
            after = tuple(ContextBead(m, (a, b)) for m, a, b in near if m > n)
        hits.append(
            Hit(
                document=d.name,
                bead=n,
                langs=d.langs,
                texts=(ta, tb),
                side=side,
                spans=spans,
                sections=(sea, seb),
                clauses=(cla, clb),
                number=number,
                score=score,
                align_score=ascore,
                flags=tuple(json.loads(flags)) if flags else (),
                findings=findings,
                before=before,
                after=after,
                source_spans=(_spans(spa), _spans(spb)),
            )
        )
    return hits


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
