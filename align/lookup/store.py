"""The index on disk: one SQLite file (+ vectors), built whole and swapped in.

A build never modifies an existing index: it writes a fresh temp database
(copying the documents it keeps from the old one), then renames it over the
old file, so a crash or a bad input file leaves the previous index intact.

Layout: ``beads`` holds texts and structure labels (ids contiguous from 0 in
document order, so ``2 * id + side`` is also the row in the vectors file);
bead sides are indexed by rowid ``2 * id + side``: CJK sides in
``cjk_postings`` (our own postings of characters, bigrams and words, built
with numpy: ``align.lookup.postings``), all others in ``fts_other``, a
contentless FTS5 table, so a Chinese query searches Chinese sides and an
English one English sides. The postings keep no positions: the search checks
their candidates against ``beads``.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from align.model import AlignError

from ._writer import CJK_FIRST, FTS_SCHEMA, VOCAB_SCHEMA, FtsLoader, FtsSink, open_bulk, prepare_fts
from .postings import POSTINGS_SCHEMA, PostingsBuilder, PostingsSink, insert_rows
from .sources import BeadRow, open_sources
from .text import base_lang, clause_number, has_cjk, index_texts, is_cjk_lang
from .vectors import COARSE_DIM, COARSE_MIN_ROWS, CoarsePlan, VectorSink, VectorStore, coarse_path, coarse_rows_path, vectors_path

# 2: one FTS5 table per script (was one table with two columns);
# 3: fts_cjk (FTS5) held folded tokens for the ascii tokenizer, without positions;
# 4: vectors stored as int16 fixed point (meta 'vectors_dtype');
# 5: CJK sides in our own postings (cjk_postings) instead of FTS5's fts_cjk
SCHEMA_VERSION = 5
# Index formats a build can carry documents over from: only the full-text
# tables and the vectors' storage changed since 1; a build writes the tables
# afresh and reads older float32 vectors as they are.
COPYABLE_VERSIONS = (1, 2, 3, 4, 5)
APPLICATION_ID = 0x416C4E4C  # "AlNL": tells our index from any other SQLite file
DEFAULT_DB = Path("outputs") / "align.db"

Progress = Callable[[str, int, int | None], None]

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value);
CREATE TABLE docs(
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, source TEXT, kind TEXT NOT NULL,
    lang_a TEXT NOT NULL, lang_b TEXT NOT NULL, cjk_a INTEGER NOT NULL, cjk_b INTEGER NOT NULL,
    first INTEGER NOT NULL, count INTEGER NOT NULL);
CREATE TABLE beads(
    id INTEGER PRIMARY KEY, doc INTEGER NOT NULL, n INTEGER NOT NULL,
    text_a TEXT NOT NULL, text_b TEXT NOT NULL, spans_a TEXT, spans_b TEXT,
    sec INTEGER, clause_a TEXT, clause_b TEXT,
    number INTEGER, number_b INTEGER, score REAL, flags TEXT);
CREATE TABLE findings(doc INTEGER NOT NULL, bead INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE sections(id INTEGER PRIMARY KEY, a TEXT, b TEXT);
""" + VOCAB_SCHEMA + FTS_SCHEMA + POSTINGS_SCHEMA
# Created after the bulk load: cheaper than maintaining them row by row.
_INDEXES = """
CREATE UNIQUE INDEX beads_doc_n ON beads(doc, n);
CREATE INDEX beads_number ON beads(number) WHERE number IS NOT NULL;
CREATE INDEX beads_number_b ON beads(number_b) WHERE number_b IS NOT NULL;
CREATE INDEX beads_sec ON beads(sec) WHERE sec IS NOT NULL;
CREATE INDEX beads_sec_number ON beads(sec, number) WHERE number IS NOT NULL;
CREATE INDEX beads_sec_number_b ON beads(sec, number_b) WHERE number_b IS NOT NULL;
CREATE INDEX findings_bead ON findings(doc, bead);
"""


@dataclass(frozen=True)
class IndexStats:
    """What a build did; ``seconds`` is wall time for the whole build.

    ``timings``, for benchmarks: wall seconds by phase, CPU seconds by step
    of this thread (``cpu_*``), of the vectors' thread (``cpu_vectors_thread``,
    by step ``vectors_thread_cpu_*``) and of the postings' thread
    (``cpu_postings_thread``, by step ``postings_thread_cpu_*``), of the
    fts_other thread (``cpu_fts_thread``, by step ``fts_thread_cpu_*``), the
    process total (``cpu_this_process``, all threads), and the batch count
    (``batches``)."""

    db_path: Path
    documents: tuple[str, ...]  # indexed from the given sources
    kept: tuple[str, ...]  # carried over unchanged from the existing index
    beads: int  # beads read from the given sources
    total_beads: int  # beads in the index now
    findings: int
    vectors: int  # bead sides embedded by the encoder in this build
    encoder: str | None
    seconds: float
    timings: dict = field(default_factory=dict)

    @property
    def pairs_per_second(self) -> float:
        return self.beads / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class DocInfo:
    id: int
    name: str
    source: str | None
    kind: str
    langs: tuple[str, str]
    cjk: tuple[bool, bool]
    first: int
    count: int


# ---------------------------------------------------------------- opening


@lru_cache(maxsize=1)
def check_fts5() -> None:
    """FTS5 is a compile-time option of SQLite; fail early and say so."""
    con = sqlite3.connect(":memory:")
    try:
        con.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    except sqlite3.OperationalError:
        raise AlignError(
            f"this Python's SQLite {sqlite3.sqlite_version} has no FTS5 full-text search, which the index needs; "
            "use a Python build whose sqlite3 includes FTS5"
        ) from None
    finally:
        con.close()


def _corrupt(db_path: Path, exc: Exception) -> AlignError:
    return AlignError(f"{db_path}: index is damaged or not an align index ({exc}); rebuild it with `align index`")


def connect(db_path: Path | str, readonly: bool = True, versions: Sequence[int] = (SCHEMA_VERSION,)) -> sqlite3.Connection:
    """Open an index, checking it is ours and of one of these schema versions."""
    check_fts5()
    db_path = Path(db_path)
    if not db_path.exists():
        raise AlignError(f"{db_path}: no index here; build one with `align index FILE... -o {db_path}`")
    if not db_path.is_file():
        raise AlignError(f"{db_path}: not an index file")
    uri = db_path.resolve().as_uri() + ("?mode=ro" if readonly else "")
    try:
        con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise AlignError(f"{db_path}: cannot open index: {exc}") from None
    try:
        app = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        con.close()
        raise _corrupt(db_path, exc) from None
    if app != APPLICATION_ID:
        con.close()
        raise AlignError(f"{db_path}: not an align index (some other SQLite file or an unfinished build)")
    if version not in versions:
        con.close()
        which = "an older" if version < SCHEMA_VERSION else "a newer"
        raise AlignError(
            f"{db_path}: index was built by {which} version of align (index format {version}, this one reads {SCHEMA_VERSION}); "
            "rebuild it with `align index`"
        )
    return con


def read_meta(con: sqlite3.Connection) -> dict[str, Any]:
    """Settings; the large binary tables are fetched by name when needed."""
    return dict(con.execute("SELECT key, value FROM meta WHERE typeof(value) != 'blob'"))


def meta_blob(con: sqlite3.Connection, key: str) -> bytes:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None or not isinstance(row[0], bytes):
        raise AlignError(f"index is missing its '{key}' table; rebuild it with `align index`")
    return row[0]


def read_docs(con: sqlite3.Connection) -> list[DocInfo]:
    rows = con.execute("SELECT id, name, source, kind, lang_a, lang_b, cjk_a, cjk_b, first, count FROM docs ORDER BY first")
    return [DocInfo(r[0], r[1], r[2], r[3], (r[4], r[5]), (bool(r[6]), bool(r[7])), r[8], r[9]) for r in rows]


def open_vectors(db_path: Path, meta: dict, con: sqlite3.Connection | None = None) -> VectorStore | None:
    """The vectors, with the clustering tables when ``con`` is given (search)."""
    if meta.get("vectors_rows") is None:
        return None
    return VectorStore(db_path, meta, (lambda key: meta_blob(con, key)) if con is not None else None)


# ---------------------------------------------------------------- building


def default_encoder(name: str | None = None) -> Any:
    """The project's encoder (align.embed), USE-multilingual unless named."""
    try:
        from align.embed import get_encoder
    except ImportError:  # pragma: no cover - align.embed is part of the package
        raise AlignError("semantic search needs align.embed, which is missing from this installation") from None
    return get_encoder(name)


def _temp(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.{tag}.tmp")


def _side_cjk(lang: str, texts: Iterable[str]) -> bool:
    """A side is CJK by its language code; for 'src'/'tgt' keys or unknown codes,
    by whether most of its first texts contain CJK characters."""
    if is_cjk_lang(lang):
        return True
    if len(base_lang(lang)) in (2, 3) and base_lang(lang) not in ("src", "tgt"):
        return False
    sample = [t for t in texts if t][:200]
    return bool(sample) and sum(map(has_cjk, sample)) * 2 > len(sample)


class _TextIndex:
    """The full-text side of a build: ``fts_other`` and the CJK sides'
    postings (``align.lookup.postings``) made inline on the builder's
    connection, or for big inputs each on a thread of its own that writes
    them into a file of its own (``temp_dbs``: postings, fts) for us to copy."""

    def __init__(self, con: sqlite3.Connection, temp_dbs: tuple[Path, Path] | None) -> None:
        self.builder = PostingsBuilder()
        self.sink = self.fts_sink = None
        self.loader = None
        if temp_dbs is not None:
            self.sink = PostingsSink(self.builder, temp_dbs[0])
            self.fts_sink = FtsSink(temp_dbs[1])
        else:
            prepare_fts(con)
            self.loader = FtsLoader(con)
        self.cpu = {"cpu_bigrams": 0.0, "cpu_postings_insert": 0.0}

    def put(self, cjk: tuple[list[int], list[str]], other: tuple[list[int], list[str]]) -> None:
        """(rowids, texts) of the CJK sides and of the others, as they are."""
        if self.sink is not None:
            self.sink.put(*cjk)
        else:
            self.builder.add(*cjk)
        if self.fts_sink is not None:
            self.fts_sink.put(*other)  # (its thread makes the index texts)
            return
        c0 = time.thread_time()
        other_texts = index_texts(other[1])
        self.cpu["cpu_bigrams"] += time.thread_time() - c0
        self.loader.put(other[0], other_texts)

    def finish(self) -> None:
        """No more rows: the postings thread merges its runs while we merge
        ``fts_other`` and list its words."""
        if self.sink is not None:
            self.sink.close()
        if self.fts_sink is not None:
            self.fts_sink.close()
        else:
            self.loader.finish()

    def write(self, con: sqlite3.Connection) -> float:
        """Insert the postings and the CJK sides' words (``con`` in a
        transaction, left in one); the wall seconds spent waiting for the
        postings thread."""
        t0 = time.perf_counter()
        if self.sink is not None:
            self.sink.wait()
            self.fts_sink.wait()
        waited = time.perf_counter() - t0
        c0 = time.thread_time()
        if self.sink is not None:
            con.execute("COMMIT")
            self.sink.copy_into(con)
            con.execute("COMMIT")
            self.fts_sink.copy_into(con)
        else:
            insert_rows(con, self.builder)
        con.executemany("INSERT OR IGNORE INTO vocab(term) VALUES (?)", ((w,) for w in self.builder.words() if w < chr(CJK_FIRST)))
        self.cpu["cpu_postings_insert"] += time.thread_time() - c0
        return waited

    def report(self) -> dict[str, float]:
        if self.loader is not None:
            out = {**self.cpu, **{f"cpu_{k}": v for k, v in self.loader.cpu.items() if k != "fts_bigrams"}}
        else:
            out = {**self.cpu, "cpu_fts_thread": self.fts_sink.cpu_thread, **{f"fts_thread_cpu_{k}": v for k, v in self.fts_sink.cpu.items()}}
        steps = dict(self.builder.cpu)
        if self.sink is None:
            out.update({f"cpu_postings_{k}": v for k, v in steps.items()})
        else:
            steps["insert"] = self.sink.cpu_insert
            out.update(cpu_postings_thread=self.sink.cpu_thread, **{f"postings_thread_cpu_{k}": v for k, v in steps.items()})
        return out

    def abort(self) -> None:
        if self.sink is not None:
            self.sink.abort()
        if self.fts_sink is not None:
            self.fts_sink.abort()


# Below this input size the postings thread's hand-overs cost more than the
# second core saves.
PARALLEL_MIN_BYTES = 4 << 20


class _Builder:
    def __init__(self, con: sqlite3.Connection, fts: _TextIndex, writer: VectorSink | None, encoder: Any,
                 progress: Progress | None, batch: int) -> None:
        self.con = con
        self.fts = fts
        self.writer = writer
        self.encoder = encoder
        self.progress = progress
        self.batch = batch
        self.next_id = 0
        self.next_doc = 1
        self.sections: dict[tuple[str | None, str | None], int] = {}
        self.embedded = 0
        self.findings = 0
        self.t_embed = 0.0
        self.batches = 0
        # CPU seconds by step (reading = parsing the sources), for benchmarks
        self.cpu = dict.fromkeys(("cpu_read", "cpu_beads", "cpu_vectors"), 0.0)

    def add_document(self, name: str, source: str | None, kind: str, langs: tuple[str, str], beads: Iterable[BeadRow],
                     findings: Sequence[tuple[int, str]], vectors: Callable[[int, int], np.ndarray] | None = None,
                     cjk: tuple[bool, bool] | None = None) -> int:
        """Insert one document; ``vectors(first_old_row, rows)`` supplies stored
        vectors instead of encoding (used when copying from the old index)."""
        try:
            return self._add_document(name, source, kind, langs, beads, findings, vectors, cjk)
        except UnicodeEncodeError as exc:  # JSON can escape a lone surrogate, which no UTF-8 file can hold
            raise AlignError(f"{source or name}: a text is not valid Unicode ({exc.reason}: {exc.object[exc.start:exc.end]!r}); "
                             "fix the file and index it again") from None

    def _add_document(self, name: str, source: str | None, kind: str, langs: tuple[str, str], beads: Iterable[BeadRow],
                      findings: Sequence[tuple[int, str]], vectors: Callable[[int, int], np.ndarray] | None,
                      cjk: tuple[bool, bool] | None) -> int:
        doc = self.next_doc
        self.next_doc += 1
        first = self.next_id
        it = iter(beads)
        count = 0
        pending: list[BeadRow] = []
        c0 = time.thread_time()
        for row in it:
            pending.append(row)
            if len(pending) >= self.batch:
                self.cpu["cpu_read"] += time.thread_time() - c0
                if cjk is None:
                    cjk = self._detect(langs, pending)
                count += self._flush(doc, pending, cjk, vectors, count)
                pending = []
                c0 = time.thread_time()
        self.cpu["cpu_read"] += time.thread_time() - c0
        if pending or cjk is None:
            if cjk is None:
                cjk = self._detect(langs, pending)
            count += self._flush(doc, pending, cjk, vectors, count)
        self.con.executemany("INSERT INTO findings(doc, bead, data) VALUES (?, ?, ?)", [(doc, b, d) for b, d in findings])
        self.findings += len(findings)
        self.con.executemany(
            "INSERT INTO docs(id, name, source, kind, lang_a, lang_b, cjk_a, cjk_b, first, count) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(doc, name, source, kind, langs[0], langs[1], int(cjk[0]), int(cjk[1]), first, count)],
        )
        return count

    @staticmethod
    def _detect(langs: tuple[str, str], rows: list[BeadRow]) -> tuple[bool, bool]:
        return _side_cjk(langs[0], (r.text_a for r in rows)), _side_cjk(langs[1], (r.text_b for r in rows))

    def _flush(self, doc: int, rows: list[BeadRow], cjk: tuple[bool, bool], vectors: Callable[[int, int], np.ndarray] | None, done: int) -> int:
        if not rows:
            return 0
        base = self.next_id
        ids = range(base, base + len(rows))
        self.batches += 1
        c0 = time.thread_time()
        self.con.executemany(_INSERT_BEAD, _bead_records(ids, doc, rows, self.sections))
        if cjk[0] != cjk[1]:  # the usual case: each side has a table of its own
            a = _side(ids, rows, 0)
            b = _side(ids, rows, 1)
            tables = (a, b) if cjk[0] else (b, a)
        else:  # both sides in one table, interleaved in rowid order
            both = ([], [])
            for i, r in zip(ids, rows):
                for rowid, text in ((2 * i, r.text_a), (2 * i + 1, r.text_b)):
                    if text:
                        both[0].append(rowid)
                        both[1].append(text)
            tables = (both, ([], [])) if cjk[0] else (([], []), both)
        self.cpu["cpu_beads"] += time.thread_time() - c0
        self.fts.put(*tables)  # (CJK postings, fts_other)
        c3 = time.thread_time()
        if self.writer is not None:
            t0 = time.perf_counter()
            self.writer.append(vectors(done, len(rows)) if vectors else self._encode(rows))
            self.t_embed += time.perf_counter() - t0
            self.cpu["cpu_vectors"] += time.thread_time() - c3
        self.next_id += len(rows)
        if self.progress:
            self.progress("index", self.next_id, None)
        return len(rows)

    def _encode(self, rows: list[BeadRow]) -> np.ndarray:
        texts = [t for r in rows for t in (r.text_a, r.text_b)]
        where = None
        if not all(map(str.strip, texts)):  # (strip returns the string itself when it has nothing to strip)
            where = [k for k, t in enumerate(texts) if t.strip()]
            texts = [texts[k] for k in where]
        try:
            vecs = np.asarray(self.encoder.encode(texts), dtype=np.float32) if texts else None
        except AlignError:
            raise
        except Exception as exc:  # a model that will not load or run: say which
            raise AlignError(f"cannot embed with encoder '{getattr(self.encoder, 'name', '?')}': {exc}") from None
        if vecs is not None and (vecs.ndim != 2 or vecs.shape[0] != len(texts)):
            raise AlignError(f"encoder {getattr(self.encoder, 'name', '?')} returned {vecs.shape[0]} vectors for {len(texts)} texts")
        self.embedded += len(texts)
        if where is None:
            return vecs  # no empty side: already in row order
        dim = vecs.shape[1] if vecs is not None else (self.writer.dim or int(getattr(self.encoder, "dim", 0)) or 1)
        out = np.zeros((2 * len(rows), dim), dtype=np.float32)
        if vecs is not None:
            out[where] = vecs
        return out


def _side(ids: range, rows: list[BeadRow], side: int) -> tuple[Sequence[int], list[str]]:
    """(rowids, texts) of one side's non-empty texts; the rowids a ``range``
    when none is empty (the usual case, which ``FtsSink`` inserts cheaper)."""
    texts = [r[1 + side] for r in rows]
    if all(texts):
        return range(2 * ids.start + side, 2 * ids.stop + side, 2), texts
    return [2 * i + side for i, t in zip(ids, texts) if t], [t for t in texts if t]


# Python's sqlite3 binds an int, float or str directly but sends None through
# its adapter lookup (a tuple key, a dict probe and two attribute lookups),
# which cost 5 s of CPU for the usual five None columns of a million beads.
# So those columns are bound as '' and turned into NULL by SQLite.
_INSERT_BEAD = (
    "INSERT INTO beads(id, doc, n, text_a, text_b, spans_a, spans_b, sec, clause_a, clause_b, number, number_b, score, flags)"
    " VALUES (?, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''),"
    " NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''))"
)


def _bead_records(ids: Iterable[int], doc: int, rows: list[BeadRow], sections: dict[tuple[str | None, str | None], int]) -> list[tuple]:
    """The parameters of ``_INSERT_BEAD`` ('' for NULL) for each row.

    ``sec``: the section labels (both languages) as a small id, added to
    ``sections`` when new, so that a clause lookup is one index probe per
    matching section. ``number`` from the record (else its labels), and
    ``number_b`` the other side's label when it disagrees (a wrong numeral in
    the translation is still addressable by what it says). One loop with
    tuple unpacking: a function call per row and attribute lookups cost
    4.6 us a bead, more than the SQLite insert."""
    out = []
    append = out.append
    for i, (n, text_a, text_b, spans_a, spans_b, sec_a, sec_b, clause_a, clause_b, number, score, flags) in zip(ids, rows):
        if sec_a is None and sec_b is None:
            sec = ""
        else:
            sec = sections.get((sec_a, sec_b))
            if sec is None:
                sec = sections[(sec_a, sec_b)] = len(sections) + 1
        # spans and flags are None or non-empty text
        spans_a, spans_b, flags = spans_a or "", spans_b or "", flags or ""
        score = "" if score is None else score
        if clause_a is None and clause_b is None:
            append((i, doc, n, text_a, text_b, spans_a, spans_b, sec, "", "", "" if number is None else number, "", score, flags))
            continue
        na, nb = clause_number(clause_a), clause_number(clause_b)
        if number is None:
            number = na if na is not None else nb
        other = na if na is not None and na != number else nb if nb is not None and nb != number else None
        append((i, doc, n, text_a, text_b, spans_a, spans_b, sec, clause_a or "", clause_b or "",
                "" if number is None else number, "" if other is None else other, score, flags))
    return out


def build_index(
    sources: Sequence[Path | str],
    db_path: Path | str = DEFAULT_DB,
    encoder: Any = None,
    progress: Progress | None = None,
    *,
    vectors: bool = True,
    fresh: bool = False,
    batch: int = 5000,
    parallel: bool | None = None,
) -> IndexStats:
    """Index bead JSONL files (with their ``.audit.jsonl``) and TMX files.

    Documents are named by file stem; a name already in the index is replaced,
    other documents are kept (unless ``fresh``). ``encoder`` (anything with
    ``encode(list[str]) -> (n, d)`` unit vectors and ``name``) embeds every
    bead side for semantic search; None means align's default encoder, and
    ``vectors=False`` skips embedding (semantic search then refuses).
    ``parallel`` makes the CJK postings on a second thread; by default it
    does for inputs over 4 MB.
    """
    from threadpoolctl import threadpool_limits

    # One BLAS thread for the whole build: the vectors' thread, this one and
    # the full-text writer already share the two cores, and OpenBLAS's own
    # threads on these small products spin (the clustering took 4x the CPU
    # and 4x the time, measured). An encoder's nested limits nest inside it.
    with threadpool_limits(limits=1, user_api="blas"):
        return _build_index(sources, Path(db_path), encoder, progress, vectors, fresh, batch, parallel)


def _build_index(sources: Sequence[Path | str], db_path: Path, encoder: Any, progress: Progress | None, vectors: bool, fresh: bool,
                 batch: int, parallel: bool | None) -> IndexStats:
    t_start = time.perf_counter()
    cpu_start = time.process_time()
    check_fts5()
    srcs = open_sources(sources)
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AlignError(f"{db_path.parent}: cannot create folder: {exc.strerror or exc}") from None

    old_con = None
    old_docs: list[DocInfo] = []
    old_store = None
    old_meta: dict = {}
    if db_path.exists() and not fresh:
        try:
            old_con = connect(db_path, versions=COPYABLE_VERSIONS)
        except AlignError as exc:
            raise AlignError(f"{exc}; or start a new index with --fresh (drops its other documents)") from None
        try:
            old_meta = read_meta(old_con)
            old_docs = read_docs(old_con)
        except sqlite3.DatabaseError as exc:
            old_con.close()
            raise _corrupt(db_path, exc) from None
        if vectors:
            with suppress(AlignError):  # unusable old vectors: kept documents get embedded again
                old_store = open_vectors(db_path, old_meta)

    enc = None
    if vectors:
        enc = encoder if encoder is not None else default_encoder(old_meta.get("vectors_encoder"))
    enc_name = getattr(enc, "name", type(enc).__name__) if enc is not None else None

    tmp_db, tmp_post, tmp_fts, tmp_vec, tmp_coarse, tmp_rows = (_temp(db_path, t) for t in ("db", "post", "fts", "vec", "coarse", "rows"))
    writer: VectorSink | None = None
    fts: _TextIndex | None = None
    con = final = None
    timings: dict[str, float] = {}
    if parallel is None:
        size = sum(s.path.stat().st_size for s in srcs) + sum(d.count for d in old_docs if d.name not in {s.name for s in srcs}) * 300
        parallel = size >= PARALLEL_MIN_BYTES
    try:
        if vectors:  # its thread writes the vectors and, for a large store, their coarse layer (vectors.py)
            writer = VectorSink(tmp_vec, CoarsePlan(tmp_coarse, tmp_rows, COARSE_DIM, COARSE_MIN_ROWS))
        con = open_bulk(str(tmp_db), begin=False)
        con.executescript(_SCHEMA)
        con.execute("BEGIN")
        fts = _TextIndex(con, (tmp_post, tmp_fts) if parallel else None)
        b = _Builder(con, fts, writer, enc, progress, batch)
        t0 = time.perf_counter()
        replaced = {s.name for s in srcs}
        kept = []
        reuse = old_store is not None and old_store.encoder == enc_name
        for d in old_docs:
            if d.name in replaced:
                continue
            kept.append(d.name)
            getter = None
            if reuse:
                def getter(done: int, rows: int, d: DocInfo = d) -> np.ndarray:
                    start = 2 * (d.first + done)
                    return old_store.block(start, start + 2 * rows)
            rows = _old_rows(old_con, d)
            findings = list(old_con.execute("SELECT bead, data FROM findings WHERE doc = ? ORDER BY rowid", (d.id,)))
            b.add_document(d.name, d.source, d.kind, d.langs, rows, findings, getter, d.cjk)
        new_beads = 0
        for s in srcs:
            new_beads += b.add_document(s.name, str(s.path), s.kind, s.langs, s.beads, s.findings)
        timings["load"] = time.perf_counter() - t0 - b.t_embed
        if writer is not None:
            writer.close()  # its thread finishes the file and clusters while we go on
        t0 = time.perf_counter()
        fts.finish()  # parallel: the postings and fts threads merge their tables while we make the b-trees
        timings["fts_finish"] = time.perf_counter() - t0
        timings["embed"] = b.t_embed
        c0 = time.thread_time()
        timings.update(_finish(con, b.sections))
        b.cpu["cpu_btree_indexes"] = time.thread_time() - c0
        t0 = time.perf_counter()
        timings["postings_wait"] = fts.write(con)
        timings["postings_write"] = time.perf_counter() - t0 - timings["postings_wait"]
        meta: dict[str, Any] = {"created": time.strftime("%Y-%m-%dT%H:%M:%S"), "tokenizer": "cjk-postings/unicode61"}
        if writer is not None:
            t0 = time.perf_counter()
            vec_meta = writer.result()
            if vec_meta:
                meta.update(vectors_encoder=enc_name, **vec_meta)
            timings["vectors_wait"] = time.perf_counter() - t0
            timings["vectors_queue_full"] = writer.waited  # (part of embed)
        final, con = con, None
        final.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
        final.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        final.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        final.execute("COMMIT")
        final.close()
        final = None
        if old_con is not None:
            old_con.close()
            old_con = None
        has_vectors = writer is not None and writer.rows > 0
        has_coarse = tmp_coarse.exists()
        _install(db_path, tmp_db, {
            vectors_path(db_path): tmp_vec if has_vectors else None,
            coarse_path(db_path): tmp_coarse if has_coarse else None,
            coarse_rows_path(db_path): tmp_rows if has_coarse else None,
        })
    except sqlite3.Error as exc:
        raise AlignError(f"{db_path}: building the index failed: {exc}") from None
    except UnicodeEncodeError as exc:  # a label with a lone surrogate (texts are caught per document)
        raise AlignError(f"{db_path}: an input label is not valid Unicode ({exc.reason}: {exc.object[exc.start:exc.end]!r})") from None
    except OSError as exc:
        raise AlignError(f"{db_path}: cannot write the index: {exc.strerror or exc}") from None
    finally:
        if old_store is not None:
            old_store.close()
        if fts is not None:
            fts.abort()
        for c in (con, final, old_con):
            if c is not None:
                c.close()
        if writer is not None:
            writer.abort()
        for t in (tmp_db, tmp_post, tmp_fts, tmp_vec, tmp_coarse, tmp_rows):
            with suppress(OSError):
                t.unlink()
    return IndexStats(
        db_path=db_path,
        documents=tuple(s.name for s in srcs),
        kept=tuple(kept),
        beads=new_beads,
        total_beads=b.next_id,
        findings=b.findings,
        vectors=b.embedded,
        encoder=enc_name if writer is not None and writer.rows else None,
        seconds=time.perf_counter() - t_start,
        timings={**timings, "batches": b.batches, "cpu_this_process": time.process_time() - cpu_start, **b.cpu, **fts.report(),
                 **({"cpu_vectors_thread": sum(writer.cpu.values()), **{f"vectors_thread_cpu_{k}": v for k, v in writer.cpu.items()}}
                    if writer is not None else {})},
    )


def _finish(con: sqlite3.Connection, sections: dict[tuple[str | None, str | None], int]) -> dict[str, float]:
    """The bead table's b-tree indexes, built after the bulk load: cheaper than
    maintaining them row by row."""
    t0 = time.perf_counter()
    con.executemany("INSERT INTO sections(id, a, b) VALUES (?, ?, ?)", ((i, a, b) for (a, b), i in sections.items()))
    for statement in filter(str.strip, _INDEXES.split(";")):
        con.execute(statement)  # executescript() would commit
    return {"btree_indexes": time.perf_counter() - t0}


def _old_rows(con: sqlite3.Connection, d: DocInfo) -> Iterable[BeadRow]:
    cur = con.execute(
        "SELECT b.n, b.text_a, b.text_b, b.spans_a, b.spans_b, s.a, s.b, b.clause_a, b.clause_b, b.number, b.score, b.flags"
        " FROM beads b LEFT JOIN sections s ON s.id = b.sec WHERE b.id >= ? AND b.id < ? ORDER BY b.id",
        (d.first, d.first + d.count),
    )
    for r in cur:
        yield BeadRow(*r)


def _install(db_path: Path, tmp_db: Path, sidecars: dict[Path, Path | None]) -> None:
    """Sidecars first, database last: the database's fingerprints decide which
    sidecar files are valid, so a crash in between is detected, never misread."""
    for final, tmp in sidecars.items():
        if tmp is not None:
            os.replace(tmp, final)
        else:
            with suppress(FileNotFoundError):
                final.unlink()
    os.replace(tmp_db, db_path)
