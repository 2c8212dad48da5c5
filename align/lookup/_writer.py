"""Bulk-insert worker: ``python _writer.py DB`` runs the
``executemany`` calls it reads (pickled) from stdin in one transaction.

Indexing is half Python (parsing, bigrams) and half SQLite (FTS5 tokenising,
b-trees); a second process lets the two halves use two cores. A thread cannot:
the sqlite3 module re-takes the GIL for every row, so the threads just take
turns (measured: no gain). A plain subprocess rather than multiprocessing, so
callers' scripts need no ``if __name__ == "__main__"`` guard.

Only the standard library here, and run as a plain script: the child starts
in a few milliseconds without importing the align package.
"""

from __future__ import annotations

import pickle
import sqlite3
import sys

BULK_PRAGMAS = (
    "PRAGMA journal_mode=OFF",
    "PRAGMA synchronous=OFF",
    "PRAGMA locking_mode=EXCLUSIVE",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-262144",
)


def open_bulk(db_path: str) -> sqlite3.Connection:
    con = sqlite3.connect(db_path, isolation_level=None)
    for p in BULK_PRAGMAS:
        con.execute(p)
    con.execute("BEGIN")
    return con


def main(argv: list[str]) -> int:
    """Exit 0 and print 'ok' after committing; else print the error, exit 1."""
    try:
        con = open_bulk(argv[1])
        stream = sys.stdin.buffer
        while True:
            msg = pickle.load(stream)
            if msg is None:
                break
            con.executemany(*msg)
        con.execute("COMMIT")
        con.close()
    except BaseException as exc:  # reported to the parent, which raises AlignError
        print(f"{type(exc).__name__}: {exc}", flush=True)
        return 1
    print("ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
