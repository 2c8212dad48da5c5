"""The full-text half of an index build: FTS5 inserts.

``FtsLoader`` fills the two FTS5 tables of an index from (rowid, index text)
rows and finishes them (one merge, the word vocabulary). A small build runs
it on the builder's own connection; a big one runs it in a child process
(``python _writer.py DB``, reading pickled batches from stdin) on a database
file of its own, while the parent parses the input and writes the bead table
into another file; the parent then copies its tables into the child's file.
Each process owns its file, so neither waits for the other's writes, and
FTS5's tokenising and term hashing (the largest single cost, 40-50 s of CPU
at a million pairs) runs on the second core. A thread could not do this: the
sqlite3 module takes the GIL back for every row.

The bigrams (``index_texts``, about 11 s of CPU at a million pairs) are made
by whichever process has time: the parent sends a batch's texts as they are,
for the child to convert, unless the last batch had to wait for the child.
Measured at a million pairs: all made by the parent, 67 s of CPU in it and
57 s in the child; shared this way, 57 s each.

A plain subprocess, not multiprocessing, so callers' scripts need no
``if __name__ == "__main__"`` guard; it runs this file as a script, which
imports the align package (numpy) only when it gets a batch to convert.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
import sys
import time
from collections.abc import Sequence

BULK_PRAGMAS = (
    "PRAGMA journal_mode=OFF",
    "PRAGMA synchronous=OFF",
    "PRAGMA locking_mode=EXCLUSIVE",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-262144",
)

# One table per script: a query only ever searches one of them, each table's
# term hash and b-trees stay smaller (30% less CPU than one two-column table,
# measured on 100k pairs), and its rows arrive in rowid order.
FTS_TABLES = {"cjk": "fts_cjk", "other": "fts_other"}

FTS_SCHEMA = "".join(
    f"CREATE VIRTUAL TABLE {t} USING fts5(text, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2');\n"
    for t in FTS_TABLES.values()
)

# FTS5 buffers new terms in a hash table and writes it out as a new segment
# whenever it passes this size (default 1 MB). Bigram vocabularies are large,
# so small flushes write the same terms again and again and merge them again
# later; a huge table misses the CPU caches on every term. Measured CPU of
# loading + merging 500k pairs: 1 MB 2x, 4 MB 1.1x, 16 MB 1x, 64 MB 1.1x.
FTS_HASH_BYTES = 16 << 20

Rows = Sequence[tuple[int, str]]


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
    for table in FTS_TABLES.values():
        con.execute(f"INSERT INTO {table}({table}, rank) VALUES ('automerge', 0)")
        con.execute(f"INSERT INTO {table}({table}, rank) VALUES ('hashsize', {FTS_HASH_BYTES})")


class FtsLoader:
    """Inserts bead sides into the FTS tables of an open bulk connection."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self.cpu = {"fts_bigrams": 0.0, "fts_insert": 0.0}  # CPU seconds by step
        self.converted = 0  # batches given as raw text

    def put(self, cjk: Rows, other: Rows, raw: bool = False) -> None:
        """(rowid, text) in ascending rowid order, per table: the text as
        ``index_texts`` makes it, or as it is if ``raw``."""
        t0 = time.process_time()
        if raw:
            from align.lookup.text import index_texts  # absolute: this file also runs as a script

            cjk, other = ([(r, t) for (r, _), t in zip(rows, index_texts([t for _, t in rows]))] for rows in (cjk, other))
            self.converted += 1
        t1 = time.process_time()
        for table, rows in ((FTS_TABLES["cjk"], cjk), (FTS_TABLES["other"], other)):
            self.con.executemany(f"INSERT INTO {table}(rowid, text) VALUES (?, ?)", rows)
        self.cpu["fts_bigrams"] += t1 - t0
        self.cpu["fts_insert"] += time.process_time() - t1

    def finish(self) -> None:
        """Merge each table into one segment; list the words for substring queries."""
        t0 = time.process_time()
        for table in FTS_TABLES.values():
            self.con.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        t1 = time.process_time()
        fill_vocab(self.con)
        self.cpu.update(fts_optimize=t1 - t0, fts_vocabulary=time.process_time() - t1)


def fill_vocab(con: sqlite3.Connection) -> None:
    """The distinct non-CJK words of the index, for substring queries that are
    a fragment of one word. Read back from FTS5 after the load (one pass over
    each optimised table) instead of tokenising every text again in Python."""
    selects = []
    for i, table in enumerate(FTS_TABLES.values()):
        con.execute(f"CREATE VIRTUAL TABLE temp.terms{i} USING fts5vocab(main, {table}, 'row')")
        # a range on term, unlike a function of it, lets fts5vocab skip the CJK
        # terms without reading their doclists (UTF-8 sorts by code point)
        selects.append(f"SELECT term FROM temp.terms{i} WHERE term < char({0x2E80})")
    con.execute(f"INSERT INTO vocab(term) {' UNION '.join(selects)}")
    for i in range(len(selects)):
        con.execute(f"DROP TABLE temp.terms{i}")


def main(argv: list[str]) -> int:
    """Child process (``_writer.py DB [PACKAGE_ROOT]``): print 'ok' and its CPU
    seconds by step and the batches it converted (JSON) after committing,
    else the error, and exit 1."""
    try:
        if len(argv) > 2:
            sys.path.insert(0, argv[2])  # for align.lookup.text, when asked for bigrams
        con = open_bulk(argv[1])
        loader = FtsLoader(con)
        stream = sys.stdin.buffer
        t_read = 0.0
        while True:
            t0 = time.process_time()
            msg = pickle.load(stream)
            t_read += time.process_time() - t0
            if msg is None:
                break
            loader.put(*msg)
        loader.finish()
        con.execute("COMMIT")
        con.close()
    except BaseException as exc:  # reported to the parent, which raises AlignError
        print(f"{type(exc).__name__}: {exc}", flush=True)
        return 1
    print("ok", json.dumps({"cpu": {"fts_unpickle": t_read, **loader.cpu}, "converted": loader.converted}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
