"""The full-text half of an index build: FTS5 inserts.

``FtsLoader`` fills FTS5 tables of an index from (rowid, index text) rows and
finishes them (one merge, the word vocabulary). A small build runs it on the
builder's own connection. A big one runs the Chinese table, the largest
single cost (FTS5's term hashing of the bigrams: some 25 s of CPU at a
million pairs), in a child process (``python _writer.py DB``, reading
pickled batches from stdin) on a database file of its own, while the parent
parses the input and writes the bead table and the English one into its
file; at the end the parent copies the child's table into its file
(``merge_child``: 60 MB at a million pairs, where copying the bead table
the other way was 400 MB). Each process owns its file, so neither waits for
the other's writes. A thread could not do this: the sqlite3 module takes
the GIL back for every row.

The Chinese tokens (``cjk_index_texts``, about 8 s of CPU at a million pairs)
are made by whichever process has time: the parent sends a batch's texts as
they are, for the child to convert, unless the last batch had to wait for
the child.

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

# fts_cjk holds CJK sides as tokens made by ``cjk_index_texts`` (bigrams, and
# other words already folded), so FTS5's plain 'ascii' tokenizer only has to
# split on spaces, and keeps no positions (detail=none): a query's bigrams
# are looked up as a conjunction and the search checks each candidate's text.
# Measured on the CJK sides of 100k pairs against unicode61 with positions:
# insert + optimize CPU 2.1 s instead of 3.5-3.8 s, the table 6 MB instead
# of 18 MB. fts_other keeps unicode61 (its folding and word rules) and
# positions, for English phrases.
_FTS_DEFINITIONS = {
    "cjk": "fts5(text, content='', columnsize=0, detail=none, tokenize='ascii')",
    "other": "fts5(text, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2')",
}
# FTS5 keeps a table's index in these ordinary tables, which hold all of it.
_SHADOW_TABLES = ("data", "idx", "config")


def fts_schema(kinds: Sequence[str] = tuple(FTS_TABLES)) -> str:
    return "".join(f"CREATE VIRTUAL TABLE {FTS_TABLES[k]} USING {_FTS_DEFINITIONS[k]};\n" for k in kinds)


FTS_SCHEMA = fts_schema()
# vocab: the non-CJK words, for substring queries inside a word; cjk_terms:
# the CJK tokens, for one-character queries (see ``fill_vocab``).
VOCAB_SCHEMA = "CREATE TABLE vocab(term TEXT PRIMARY KEY) WITHOUT ROWID;\nCREATE TABLE cjk_terms(term TEXT PRIMARY KEY) WITHOUT ROWID;\n"
CJK_FIRST = 0x2E80  # no CJK character sorts below this; every word character that is not CJK does

# FTS5 buffers new terms in a hash table and writes it out as a new segment
# whenever it passes this size (default 1 MB). Bigram vocabularies are large,
# so small flushes write the same terms again and again and merge them again
# later; a huge table misses the CPU caches on every term. Measured CPU of
# loading + merging 500k pairs, both tables in one with positions: 1 MB 2x,
# 4 MB 1.1x, 16 MB 1x, 64 MB 1.1x. Apart, 500k sides each: fts_cjk 16 MB
# 1.2x, 64 MB 1x, 256 MB 1.05x; fts_other 4 MB 1.2x, 16 MB 1.3x, 64 MB 1x
# (its final merge 4x cheaper). Most of the insert's time is spent waiting
# for memory in the hash table's lookup of each token.
FTS_HASH_BYTES = {"cjk": 64 << 20, "other": 64 << 20}

# A table with more segments than this (one per hash flush) is merged into
# one at the end. fts_cjk always: a one-character query looks up each token
# that starts with it, in every segment. fts_other: a million pairs make a
# few segments, and lookups were as fast unmerged (p95 0.45 ms against 0.6
# ms) while the merge cost 2-2.5 s of CPU at the end of the build.
MERGE_SEGMENTS = {"cjk": 1, "other": 8}


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
        self.cpu = {"fts_bigrams": 0.0, **{f"fts_insert_{k}": 0.0 for k in self.kinds}}  # CPU seconds by step
        self.converted = 0  # batches given as raw text

    def put(self, kind: str, rowids: Sequence[int], texts: Sequence[str], raw: bool = False) -> None:
        """Rows in ascending rowid order, each text as ``cjk_index_texts`` (kind
        'cjk') or ``index_texts`` make it, or as it is if ``raw``. (Two lists,
        not (rowid, text) pairs: 40% cheaper to pickle and unpickle.)"""
        t0 = time.process_time()
        if raw:
            from align.lookup.text import cjk_index_texts, index_texts  # absolute: this file also runs as a script

            texts = (cjk_index_texts if kind == "cjk" else index_texts)(texts)
            self.converted += 1
        t1 = time.process_time()
        self.con.executemany(f"INSERT INTO {FTS_TABLES[kind]}(rowid, text) VALUES (?, ?)", zip(rowids, texts))
        self.cpu["fts_bigrams"] += t1 - t0
        self.cpu[f"fts_insert_{kind}"] += time.process_time() - t1

    def finish(self) -> None:
        """Merge each table into one segment where that pays; list the words
        for substring queries."""
        t0 = time.process_time()
        for kind in self.kinds:
            table = FTS_TABLES[kind]
            # the segments written so far, and the one the term buffer becomes at commit
            segments = self.con.execute(f"SELECT count(DISTINCT segid) FROM {table}_idx").fetchone()[0] + 1
            if segments > MERGE_SEGMENTS[kind]:
                self.con.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        t1 = time.process_time()
        fill_vocab(self.con, self.kinds)
        self.cpu.update(fts_optimize=t1 - t0, fts_vocabulary=time.process_time() - t1)


def fill_vocab(con: sqlite3.Connection, kinds: Sequence[str] = tuple(FTS_TABLES)) -> None:
    """The distinct non-CJK words of the index, for substring queries that are
    a fragment of one word, and the CJK tokens of ``fts_cjk``, for queries of
    one CJK character. Read back from FTS5 after the load (one pass over each
    optimised table) instead of tokenising every text again in Python.

    A one-character query is a prefix query ("的"*), which FTS5 answers by
    merging the doclists of every token with that prefix before returning
    the first row: 420 ms for 的 at a million pairs. The same tokens OR-ed
    together are merged lazily, and a lookup wants only the first rows: 12 ms.
    Listing the tokens costs some 1.5 s of CPU at a million pairs."""
    for kind in kinds:
        table = FTS_TABLES[kind]
        con.execute(f"CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, {table}, 'row')")
        # a range on term, unlike a function of it, lets fts5vocab skip the CJK
        # terms without reading their doclists (UTF-8 sorts by code point)
        con.execute(f"INSERT OR IGNORE INTO vocab(term) SELECT term FROM temp.terms WHERE term < char({CJK_FIRST})")
        if kind == "cjk":
            con.execute(f"INSERT INTO cjk_terms(term) SELECT term FROM temp.terms WHERE term >= char({CJK_FIRST})")
        con.execute("DROP TABLE temp.terms")


# The FTS tables the child process fills; the parent fills the others. Both
# ways measured at 200k pairs, CPU seconds parent / child: fts_other in the
# child 7.8 / 9.2, in the parent 7.8 / 6.7 (with the parent's bead records
# made 0.5 s cheaper since), the Chinese tokens made by the child.
CHILD_KINDS = ("cjk",)


def merge_child(con: sqlite3.Connection, child_db: str) -> None:
    """Copy the ``CHILD_KINDS`` tables a child process built into this
    connection's database, where they are still empty, and the words it listed.

    An FTS5 table is its shadow tables, so copying their rows verbatim gives
    the same index; SQLite copies them page by page ('transfer optimisation':
    same schema, empty target). Must be called outside a transaction; leaves
    one open."""
    con.execute("ATTACH DATABASE ? AS child", (child_db,))
    con.execute("BEGIN")
    for kind in CHILD_KINDS:
        for shadow in _SHADOW_TABLES:
            name = f"{FTS_TABLES[kind]}_{shadow}"
            con.execute(f"DELETE FROM main.{name}")
            con.execute(f"INSERT INTO main.{name} SELECT * FROM child.{name}")
    con.execute("INSERT OR IGNORE INTO main.vocab(term) SELECT term FROM child.vocab")
    con.execute("INSERT INTO main.cjk_terms(term) SELECT term FROM child.cjk_terms")


def main(argv: list[str]) -> int:
    """Child process (``_writer.py DB [PACKAGE_ROOT]``): fills the ``CHILD_KINDS``
    tables of a new database DB from batches, lists of (kind, rowids, texts, raw),
    then prints 'ok' and its CPU seconds by step and the batches it
    converted (JSON) after committing, else the error, and exits 1."""
    try:
        if len(argv) > 2:
            sys.path.insert(0, argv[2])  # for align.lookup.text, when asked for bigrams
        con = open_bulk(argv[1], begin=False)
        con.executescript(fts_schema(CHILD_KINDS) + VOCAB_SCHEMA)
        prepare_fts(con, CHILD_KINDS)
        con.execute("BEGIN")
        loader = FtsLoader(con, CHILD_KINDS)
        stream = sys.stdin.buffer
        t_read = 0.0
        while True:
            t0 = time.process_time()
            msg = pickle.load(stream)
            t_read += time.process_time() - t0
            if msg is None:
                break
            for kind, rowids, texts, raw in msg:
                loader.put(kind, rowids, texts, raw)
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
