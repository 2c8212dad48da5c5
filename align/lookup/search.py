"""Looking things up in an index: words, substrings, regexes, meaning, clauses.

Results come in document order (bead order) for the text modes, like grep:
the FTS5 index yields rowids in that order, so the first ``limit`` hits cost
the same whether a word occurs 3 times or 300,000 times. Semantic hits come
best first.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from align.model import AlignError

from .store import DEFAULT_DB, DocInfo, _corrupt, connect, default_encoder, open_vectors, read_docs, read_meta
from .text import (
    base_lang,
    clause_number,
    exact_regex,
    find_spans,
    fold,
    query_script,
    regex_script,
    substring_expression,
    term_regex,
    with_column,
    word_expression,
    word_terms,
)

MODES = ("word", "exact", "regex", "semantic")
Span = tuple[int, int]
_VOCAB_MAX = 300  # more matching words than this: a plain scan finds hits sooner
_WORD = re.compile(r"[^\W_]+")


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
    sql: str
    params: list[Any]
    empty: bool = False  # the filter can match nothing (unknown section)


def _filters(con: sqlite3.Connection, docs: list[DocInfo], clause: Any, section: str | None, document: str | None) -> _Filter:
    where: list[str] = []
    params: list[Any] = []
    if document is not None:
        ids = [d.id for d in docs if d.name == document]
        if not ids:
            names = ", ".join(d.name for d in docs[:10]) + (", ..." if len(docs) > 10 else "")
            raise AlignError(f"no document named '{document}' in the index (it has: {names or 'nothing'})")
        where.append("b.doc = ?")
        params.append(ids[0])
    if clause is not None and str(clause).strip():
        n = clause_number(clause)
        if n is None:
            raise AlignError(f"cannot read clause label {str(clause)!r}; write it like 16, (16), 十六 or （十六）")
        where.append("(b.number = ? OR b.number_b = ?)")
        params += [n, n]
    if section is not None and section.strip():
        want = " ".join(fold(section).split())
        names = [s for (s,) in con.execute("SELECT name FROM sections") if want in " ".join(fold(s).split())]
        if not names:
            return _Filter("", [], empty=True)
        marks = ",".join("?" * len(names))
        where.append(f"(b.section_a IN ({marks}) OR b.section_b IN ({marks}))")
        params += names + names
    return _Filter(" AND ".join(where), params)


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
    rows = con.execute(f"SELECT b.id FROM beads b WHERE 1{_and(flt)} ORDER BY b.id LIMIT ?", (*flt.params, limit))
    return [(i, None, ((), ()), None) for (i,) in rows]


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
    column = {"cjk": "cjk", "other": "other", None: None}[script]
    if mode == "word":
        terms = word_terms(q)
        expr = word_expression(terms)
        patterns = [term_regex(t) for t in terms]
        return _fts(con, flt, ok, with_column(expr, column), lambda t: find_spans(patterns, t), limit, verify=False)

    rx = exact_regex(q)
    if not rx.pattern:
        raise AlignError("empty query: give words to look up, or --clause/--section")

    def spans(t: str) -> tuple[Span, ...]:
        return find_spans([rx], t)

    expr = substring_expression(q)
    if expr is None:
        expr = _vocab_expression(con, q)
        if expr == "":
            return []  # no indexed word contains it
    if expr is None:
        return _scan(con, flt, ok, spans, limit)
    return _fts(con, flt, ok, with_column(expr, column), spans, limit, verify=True)


def _vocab_expression(con: sqlite3.Connection, q: str) -> str | None:
    """Candidates for a query whose only word touches its start ('anda',
    'Eurasian,'): that word may be the tail of any indexed word (or sit
    anywhere inside one, if the query is just the word), so OR together the
    indexed words that fit, when there are few enough to be worth it."""
    folded = fold(q)
    words = list(_WORD.finditer(folded))
    if len(words) != 1:
        return None
    frag = words[0].group()
    if words[0].end() == len(folded):
        cond = "instr(term, ?1) > 0"
    else:
        cond = "substr(term, -length(?1)) = ?1"
    terms = [t for (t,) in con.execute(f"SELECT term FROM vocab WHERE {cond} LIMIT ?2", (frag, _VOCAB_MAX + 1))]
    if len(terms) > _VOCAB_MAX:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _fts(con: sqlite3.Connection, flt: _Filter, ok: dict[int, tuple[bool, bool]], expr: str, spans_of: Any, limit: int, verify: bool) -> list[_Found]:
    sql = (
        "SELECT f.rowid, b.id, b.doc, b.text_a, b.text_b FROM fts f JOIN beads b ON b.id = (f.rowid >> 1)"
        f" WHERE fts MATCH ?{_and(flt)} ORDER BY f.rowid"
    )
    try:
        cur = con.execute(sql, (expr, *flt.params))
    except sqlite3.OperationalError as exc:  # should not happen: every token is quoted
        raise AlignError(f"cannot search for this query ({exc})") from None
    out: list[_Found] = []
    last = -1
    for rowid, bid, doc, ta, tb in cur:
        s = rowid & 1
        if bid == last or not ok[doc][s]:
            continue
        texts = (ta, tb)
        sp = [spans_of(texts[i]) if ok[doc][i] else () for i in (0, 1)]
        if verify and not sp[s]:
            continue
        last = bid
        out.append((bid, s if sp[s] or not sp[1 - s] else 1 - s, (sp[0], sp[1]), None))
        if len(out) >= limit:
            break
    return out


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
    store = open_vectors(db_path, meta)
    if store is None:
        raise AlignError(f"{db_path}: index has no sentence vectors; rebuild it with vectors to use --semantic")
    if encoder is None:
        encoder = default_encoder(store.encoder)
    name = getattr(encoder, "name", None)
    if name is not None and store.encoder is not None and name != store.encoder:
        raise AlignError(f"{db_path}: index vectors were made by encoder '{store.encoder}', not '{name}'; use that encoder or rebuild")
    qv = np.asarray(encoder.encode([q]), dtype=np.float32).reshape(-1)
    if qv.shape[0] != store.vectors.shape[1]:
        raise AlignError(f"encoder gives {qv.shape[0]}-d vectors, the index has {store.vectors.shape[1]}-d ones")
    ok = _side_ok(docs, None, side)
    want = 2 * limit + 2
    if flt.sql:
        ids = np.fromiter((i for (i,) in con.execute(f"SELECT b.id FROM beads b WHERE {flt.sql}", flt.params)), dtype=np.int64)
        rows = np.concatenate([2 * ids, 2 * ids + 1])
        doc_of = _doc_of_rows(docs, rows)
        keep = np.array([ok[d][r & 1] for d, r in zip(doc_of, rows)], dtype=bool) if rows.size else np.zeros(0, bool)
        rows = np.sort(rows[keep])
        scores = store.score_rows(qv, rows)
        order = np.argsort(-scores, kind="stable")[:want]
        top_rows, top_scores = rows[order], scores[order]
    else:
        allowed = None
        if side is not None:
            allowed = np.zeros(store.vectors.shape[0], dtype=bool)
            for d in docs.values():
                for s in (0, 1):
                    if ok[d.id][s]:
                        allowed[2 * d.first + s : 2 * (d.first + d.count) : 2] = True
        top_rows, top_scores = store.top(qv, want, allowed)
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


def _doc_of_rows(docs: dict[int, DocInfo], rows: np.ndarray) -> list[int]:
    starts = sorted((d.first, d.id) for d in docs.values())
    firsts = np.array([s for s, _ in starts], dtype=np.int64)
    pos = np.searchsorted(firsts, rows >> 1, side="right") - 1
    return [starts[p][1] for p in pos.tolist()]


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
            "SELECT id, doc, n, text_a, text_b, spans_a, spans_b, section_a, section_b, clause_a, clause_b, number, score, flags"
            f" FROM beads WHERE id IN ({marks})",
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
