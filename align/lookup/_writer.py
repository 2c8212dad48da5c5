"""The FTS5 half of an index build: ``fts_other``, the non-CJK bead sides.

``FtsLoader`` fills it from (rowid, index text) rows on the builder's own
connection and finishes it (a merge when it has many segments, the word
vocabulary). CJK sides are not in FTS5 any more (``align.lookup.postings``):
FTS5's term hashing of their bigrams cost 22 s of CPU at a million pairs,
in a child process that the build needed for it, which is gone with it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

BULK_PRAGMAS = (
    "PRAGMA journal_mode=OFF",
    "PRAGMA synchronous=OFF",
    "PRAGMA locking_mode=EXCLUSIVE",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-262144",
)

# Non-CJK sides; unicode61 gives its folding and word rules, and positions
# serve English phrases.
FTS_TABLES = {"other": "fts_other"}
_FTS_DEFINITIONS = {
    "other": "fts5(text, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2')",
}


def fts_schema(kinds: Sequence[str] = tuple(FTS_TABLES)) -> str:
    return "".join(f"CREATE VIRTUAL TABLE {FTS_TABLES[k]} USING {_FTS_DEFINITIONS[k]};\n" for k in kinds)


FTS_SCHEMA = fts_schema()
# vocab: the non-CJK words, for substring queries inside a word (see ``fill_vocab``).
VOCAB_SCHEMA = "CREATE TABLE vocab(term TEXT PRIMARY KEY) WITHOUT ROWID;\n"
CJK_FIRST = 0x2E80  # no CJK character sorts below this; every word character that is not CJK does

# FTS5 buffers new terms in a hash table and writes it out as a new segment
# whenever it passes this size (default 1 MB); small flushes write the same
# terms again and again and merge them again later. Measured on 500k sides:
# 4 MB 1.2x the CPU, 16 MB 1.3x, 64 MB 1x (its final merge 4x cheaper).
FTS_HASH_BYTES = {"other": 64 << 20}

# A table with more segments than this (one per hash flush) is merged into
# one at the end: a million pairs make a few segments, and lookups were as
# fast unmerged (p95 0.45 ms against 0.6 ms) while the merge cost 2-2.5 s of
# CPU at the end of the build.
MERGE_SEGMENTS = {"other": 8}


def open_bulk(db_path: str, begin: bool = True) -> sqlite3.Connection:
    """A connection for loading a temp file that nobody else reads yet: no
    journal, no syncs (the finished file is renamed into place)."""
    con = sqlite3.connect(db_path, isolation_level=None)
    for p in BULK_PRAGMAS:
        con.execute(p)
    if begin:
        con.execute("BEGIN")
    return con


def prepare_fts(con: sqlite3.Connection, kinds: Sequence[str] = tuple(FTS_TABLES)) -> None:
    """Loading settings: no incremental merges (one 'optimize' at the end) and a big term buffer."""
    for kind in kinds:
        table = FTS_TABLES[kind]
        con.execute(f"INSERT INTO {table}({table}, rank) VALUES ('automerge', 0)")
        con.execute(f"INSERT INTO {table}({table}, rank) VALUES ('hashsize', {FTS_HASH_BYTES[kind]})")


class FtsLoader:
    """Inserts bead sides into some of the FTS tables of an open bulk connection."""

    def __init__(self, con: sqlite3.Connection, kinds: Sequence[str] = tuple(FTS_TABLES)) -> None:
        self.con = con
        self.kinds = tuple(kinds)
        self.cpu = {f"fts_insert_{k}": 0.0 for k in self.kinds}  # CPU seconds by step

    def put(self, kind: str, rowids: Sequence[int], texts: Sequence[str]) -> None:
        """Rows in ascending rowid order, each text as ``index_texts`` makes it.
        (Two lists, not (rowid, text) pairs.) CPU is counted per thread: the
        vectors' and postings' threads run meanwhile."""
        t0 = time.thread_time()
        self.con.executemany(f"INSERT INTO {FTS_TABLES[kind]}(rowid, text) VALUES (?, ?)", zip(rowids, texts))
        self.cpu[f"fts_insert_{kind}"] += time.thread_time() - t0

    def finish(self) -> None:
        """Merge each table into one segment where that pays; list the words
        for substring queries."""
        t0 = time.thread_time()
        for kind in self.kinds:
            table = FTS_TABLES[kind]
            # the segments written so far, and the one the term buffer becomes at commit
            segments = self.con.execute(f"SELECT count(DISTINCT segid) FROM {table}_idx").fetchone()[0] + 1
            if segments > MERGE_SEGMENTS[kind]:
                self.con.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        t1 = time.thread_time()
        fill_vocab(self.con, self.kinds)
        self.cpu.update(fts_optimize=t1 - t0, fts_vocabulary=time.thread_time() - t1)


def fill_vocab(con: sqlite3.Connection, kinds: Sequence[str] = tuple(FTS_TABLES)) -> None:
    """The distinct non-CJK words of the index, for substring queries that are
    a fragment of one word, read back from FTS5 after the load (one pass over
    each table) instead of tokenising every text again in Python. (The CJK
    sides' words come from their postings.)"""
    for kind in kinds:
        table = FTS_TABLES[kind]
        con.execute(f"CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, {table}, 'row')")
        # a range on term, unlike a function of it, lets fts5vocab skip the CJK
        # terms without reading their doclists (UTF-8 sorts by code point)
        con.execute(f"INSERT OR IGNORE INTO vocab(term) SELECT term FROM temp.terms WHERE term < char({CJK_FIRST})")
        con.execute("DROP TABLE temp.terms")
