"""The FTS5 half of an index build: ``fts_other``, the non-CJK bead sides.

``FtsLoader`` fills it from (rowid, index text) rows and finishes it (a merge
when it has many segments, the word vocabulary): on the builder's own
connection for small builds, and for large ones on a thread of its own in a
temp SQLite file (``FtsSink``), whose FTS5 tables are copied in at the end.
Each batch goes in as one statement over a JSON array, so SQLite holds no GIL
for the whole batch; per-row statements would hand the GIL back and forth with
the parsing thread on every row. CJK sides are not in FTS5 any more (``align.lookup.postings``):
FTS5's term hashing of their bigrams cost 22 s of CPU at a million pairs,
in a child process that the build needed for it, which is gone with it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from align.model import AlignError

from .sink import ThreadSink

BULK_PRAGMAS = (
    "PRAGMA journal_mode=OFF",
    "PRAGMA synchronous=OFF",
    "PRAGMA locking_mode=EXCLUSIVE",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-262144",
)

# Non-CJK sides; unicode61 gives its folding and word rules, and positions
# serve English phrases.
FTS_TABLE = "fts_other"
FTS_SCHEMA = (f"CREATE VIRTUAL TABLE {FTS_TABLE} USING "
              "fts5(text, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2');\n")
# vocab: the non-CJK words, for substring queries inside a word (see ``fill_vocab``).
VOCAB_SCHEMA = "CREATE TABLE vocab(term TEXT PRIMARY KEY) WITHOUT ROWID;\n"
CJK_FIRST = 0x2E80  # no CJK character sorts below this; every word character that is not CJK does

# FTS5 buffers new terms in a hash table and writes it out as a new segment
# whenever it passes this size (default 1 MB); small flushes write the same
# terms again and again and merge them again later. Measured on 500k sides:
# 4 MB 1.2x the CPU, 16 MB 1.3x, 64 MB 1x (its final merge 4x cheaper).
FTS_HASH_BYTES = 64 << 20

# A table with more segments than this (one per hash flush) is merged into
# one at the end: a million pairs make a few segments, and lookups were as
# fast unmerged (p95 0.45 ms against 0.6 ms) while the merge cost 2-2.5 s of
# CPU at the end of the build.
MERGE_SEGMENTS = 8


def open_bulk(db_path: str, begin: bool = True) -> sqlite3.Connection:
    """A connection for loading a temp file that nobody else reads yet: no
    journal, no syncs (the finished file is renamed into place)."""
    con = sqlite3.connect(db_path, isolation_level=None)
    for p in BULK_PRAGMAS:
        con.execute(p)
    if begin:
        con.execute("BEGIN")
    return con


def prepare_fts(con: sqlite3.Connection) -> None:
    """Loading settings: no incremental merges (one 'optimize' at the end) and a big term buffer."""
    con.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', 0)")
    con.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('hashsize', {FTS_HASH_BYTES})")


class FtsLoader:
    """Inserts bead sides into the FTS table of an open bulk connection."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self.cpu = {"fts_insert_other": 0.0}  # CPU seconds by step

    def put(self, rowids: Sequence[int], texts: Sequence[str]) -> None:
        """Rows in ascending rowid order, each text as ``index_texts`` makes it.
        (Two lists, not (rowid, text) pairs.) CPU is counted per thread: the
        vectors' and postings' threads run meanwhile."""
        t0 = time.thread_time()
        self.con.executemany(f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (?, ?)", zip(rowids, texts))
        self.cpu["fts_insert_other"] += time.thread_time() - t0

    def finish(self) -> None:
        """Merge the table into one segment where that pays; list the words
        for substring queries."""
        t0 = time.thread_time()
        # the segments written so far, and the one the term buffer becomes at commit
        segments = self.con.execute(f"SELECT count(DISTINCT segid) FROM {FTS_TABLE}_idx").fetchone()[0] + 1
        if segments > MERGE_SEGMENTS:
            self.con.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
        t1 = time.thread_time()
        fill_vocab(self.con)
        self.cpu.update(fts_optimize=t1 - t0, fts_vocabulary=time.thread_time() - t1)


def fill_vocab(con: sqlite3.Connection) -> None:
    """The distinct non-CJK words of the index, for substring queries that are
    a fragment of one word, read back from FTS5 after the load (one pass over
    the table) instead of tokenising every text again in Python. (The CJK
    sides' words come from their postings.)"""
    con.execute(f"CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, {FTS_TABLE}, 'row')")
    # a range on term, unlike a function of it, lets fts5vocab skip the CJK
    # terms without reading their doclists (UTF-8 sorts by code point)
    con.execute(f"INSERT OR IGNORE INTO vocab(term) SELECT term FROM temp.terms WHERE term < char({CJK_FIRST})")
    con.execute("DROP TABLE temp.terms")


def _json_dumps() -> Callable[[object], bytes]:
    """orjson's encoder when installed (UTF-8 bytes, 10x json's), else json's."""
    try:
        import orjson
    except ImportError:
        import json

        return lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8")
    return orjson.dumps


class FtsSink(ThreadSink):
    """``fts_other`` built on a thread of its own, in a database file of its
    own (``db_path``), then copied into the index (``copy_into``).

    FTS5 tokenises inside ``sqlite3_step``, which runs without the GIL, so the
    tokenising (9 s of CPU at a million pairs) overlaps the builder's Python.
    Each batch is one statement over a JSON array (``json_each``), not one
    ``executemany`` step per row: a thread that gives the GIL back and waits
    for it again on every row gets it about once per switch interval (5 ms)
    while the builder computes, which made a 50,000-row insert take 130 s
    instead of 0.3 s (measured). The table's shadow tables are plain SQLite
    tables, copied as they are into the index's empty ones (the index's
    connection never reads or writes the FTS5 table itself)."""

    _SHADOWS = ("data", "idx", "config")

    def __init__(self, db_path: Path, queue_batches: int = 8) -> None:
        super().__init__("align-index-fts", queue_batches)
        self.db_path = db_path
        self.cpu: dict[str, float] = {"fts_bigrams": 0.0, "fts_insert_other": 0.0, "fts_optimize": 0.0, "fts_vocabulary": 0.0}
        self._start()

    def _run(self) -> None:
        con = open_bulk(str(self.db_path), begin=False)
        try:
            con.executescript(FTS_SCHEMA + VOCAB_SCHEMA)
            prepare_fts(con)
            con.execute("BEGIN")
            loader = FtsLoader(con)
            for item in self._items():
                self._insert(con, *item)
            if not self._stop.is_set():
                loader.finish()
                self.cpu["fts_optimize"] = loader.cpu["fts_optimize"]
                self.cpu["fts_vocabulary"] = loader.cpu["fts_vocabulary"]
                con.execute("COMMIT")
        finally:
            con.close()

    def _insert(self, con: sqlite3.Connection, rowids: Sequence[int], texts: Sequence[str]) -> None:
        from .text import index_texts

        c0 = time.thread_time()
        texts = index_texts(texts)
        c1 = time.thread_time()
        dumps = _json_dumps()
        try:
            blob = dumps(texts)
            if b"\\u0000" in blob:  # json_each would cut a text at a NUL; for unicode61 it is a separator like a space
                blob = dumps([t.replace("\0", " ") for t in texts])
        except (TypeError, UnicodeEncodeError) as exc:  # a lone surrogate; the beads insert normally reports it first
            raise AlignError(f"a text is not valid Unicode ({exc}); fix the file and index it again") from None
        table = FTS_TABLE
        if isinstance(rowids, range):  # the usual case: every bead side of the batch, evenly spaced
            con.execute(f"INSERT INTO {table}(rowid, text) SELECT ?2 + ?3 * key, value FROM json_each(?1)",
                        (blob, rowids.start, rowids.step))
        else:  # [rowid, text] pairs
            pairs = dumps([[r, t.replace("\0", " ")] for r, t in zip(rowids, texts)])
            con.execute(f"INSERT INTO {table}(rowid, text) SELECT value->>0, value->>1 FROM json_each(?1)", (pairs,))
        self.cpu["fts_bigrams"] += c1 - c0
        self.cpu["fts_insert_other"] += time.thread_time() - c1

    def copy_into(self, con: sqlite3.Connection) -> None:
        """Copy the finished table and its words into ``con``'s (whose FTS5
        table must be new and unused). Must be called outside a transaction;
        leaves one open."""
        con.execute("ATTACH DATABASE ? AS fts", (str(self.db_path),))
        con.execute("BEGIN")
        table = FTS_TABLE
        for shadow in self._SHADOWS:
            con.execute(f"DELETE FROM main.{table}_{shadow}")
            con.execute(f"INSERT INTO main.{table}_{shadow} SELECT * FROM fts.{table}_{shadow}")
        con.execute("INSERT OR IGNORE INTO main.vocab(term) SELECT term FROM fts.vocab")

