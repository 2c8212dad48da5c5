"""The Chinese (CJK-side) full-text index: our own postings, built with numpy.

Every CJK side is indexed by its *terms*: each CJK character, each pair of
adjacent CJK characters of a run (spacing between CJK characters ignored),
each other word folded by ``text.fold``, and ``CHECK_TOKEN`` where a plain
substring test cannot decide a match (``text.needs_check``). A term's
postings are the ascending rowids (``2 * bead + side``) of the sides that
hold it; a query intersects the postings of its terms, smallest first, and
checks the candidates on the texts (the postings keep no positions).

Why not FTS5: its term hashing of some 70 million bigram occurrences cost
22 s of CPU at a million pairs (in a child process of its own); here the
terms are integers computed over code points (a BMP CJK character is its
rank among the CJK characters, a bigram the pair of ranks), the (term,
rowid) pairs packed in one uint64 and sorted per chunk (``np.sort``), and
the chunks' sorted runs merged term range by term range. The sorting memory
is bounded by the chunk and range sizes; the runs wait in memory at 4 bytes
per distinct (term, side) pair (some 60 million, 240 MB, at a million pairs).

Table ``cjk_postings(term TEXT PRIMARY KEY, ids BLOB)``: one row per term;
``ids`` is a byte giving the width w (1, 2 or 4) of the gaps, the first
rowid as 4 bytes little-endian, then the gaps between successive rowids as
w-byte little-endian integers (the widest gap of the term decides w).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from align.model import AlignError

from .sink import ThreadSink

from .text import (
    _CJK_TABLE_TOKEN,
    _WS,
    CHECK_TOKEN,
    _Chars,
    _chars,
    _tables,
    fold,
    needs_check,
    normalize_width,
)

POSTINGS_TABLE = "cjk_postings"
POSTINGS_SCHEMA = f"CREATE TABLE {POSTINGS_TABLE}(term TEXT PRIMARY KEY, ids BLOB NOT NULL) WITHOUT ROWID;\n"
# (term, rowid) pairs collected before they are sorted into a run: 8M pairs
# are 64 MB; the final merge handles this many per term range.
CHUNK_PAIRS = 8_000_000
RANGE_PAIRS = 16_000_000
_WIDTHS = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}
_MAX_ROWID = (1 << 32) - 1


# ---------------------------------------------------------------- terms


@lru_cache(maxsize=1)
def _ranks() -> tuple[np.ndarray, np.ndarray, int]:
    """Each BMP code point's rank among the CJK characters (as uint64), the
    code point of each rank, and the base B of term ids: character c is term
    rank(c) * B, the bigram cd is rank(c) * B + rank(d) + 1 (so ids sort
    like the terms' text), other terms are numbered from B * B up."""
    cjk = _tables()[0]
    cps = np.flatnonzero(cjk).astype(np.uint32)
    rank = np.zeros(0x10000, dtype=np.uint64)
    rank[cps] = np.arange(cps.size, dtype=np.uint64)
    return rank, cps, int(cps.size) + 1


def reference_terms(text: str) -> set[str]:
    """The terms of one text, written plainly (the tests' oracle, and the
    path for texts with characters beyond the BMP, which the vectorised
    lookup tables do not cover)."""
    out: set[str] = set()
    for m in _CJK_TABLE_TOKEN.finditer(normalize_width(text)):
        if m.lastgroup == "cjk":
            run = _WS.sub("", m.group())
            out.update(run)
            out.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.add(fold(m.group()))
    if needs_check(text):
        out.add(CHECK_TOKEN)
    return out


class TermIds:
    """Term text <-> integer id: computed for BMP CJK characters and bigrams,
    numbered in order of appearance for the others (words, the rare terms
    with astral characters, ``CHECK_TOKEN``)."""

    def __init__(self) -> None:
        self.rank, self.cps, self.base = _ranks()
        self.cjk = _tables()[0]
        self.others: dict[str, int] = {}

    def other(self, term: str) -> int:
        tid = self.others.get(term)
        if tid is None:
            tid = self.others[term] = self.base * self.base + len(self.others)
        return tid

    def of(self, term: str) -> int:
        codes = [ord(ch) for ch in term]
        if 1 <= len(codes) <= 2 and all(c < 0x10000 and self.cjk[c] for c in codes):
            first = int(self.rank[codes[0]]) * self.base
            return first if len(codes) == 1 else first + int(self.rank[codes[1]]) + 1
        return self.other(term)

    def texts(self, ids: np.ndarray) -> list[str]:
        """The terms of ascending-or-not ``ids`` (uint32/uint64)."""
        ids = ids.astype(np.int64)
        sq = self.base * self.base
        out: list[str | None] = [None] * ids.size
        cjk = np.flatnonzero(ids < sq)
        if cjk.size:
            first, second = np.divmod(ids[cjk], self.base)
            pairs = np.zeros((cjk.size, 2), dtype=np.uint32)
            pairs[:, 0] = self.cps[first]
            pairs[:, 1] = np.where(second > 0, self.cps[np.maximum(second - 1, 0)], 0)
            joined = pairs.tobytes().decode("utf-32-le")
            for k, i in enumerate(cjk.tolist()):
                t = joined[2 * k : 2 * k + 2]
                out[i] = t if t[1] != "\0" else t[0]
        if cjk.size < ids.size:
            names = {v: k for k, v in self.others.items()}
            for i in np.flatnonzero(ids >= sq).tolist():
                out[i] = names[int(ids[i])]
        return out  # type: ignore[return-value]


def batch_pairs(ids: TermIds, rowids: Sequence[int], texts: Sequence[str]) -> np.ndarray:
    """The (term id << 32 | rowid) of every term occurrence in the texts
    (unsorted, with repeats). Vectorised over the batch like
    ``text.index_texts``; ``reference_terms`` is the definition, and
    makes the terms of the (rare) texts with characters beyond the BMP."""
    if not texts:
        return np.zeros(0, dtype=np.uint64)
    if rowids[-1] > _MAX_ROWID:
        raise AlignError(f"the index is limited to {_MAX_ROWID // 2:,} beads")
    c = _chars(texts)
    astral = np.flatnonzero(c.a > 0xFFFF)
    if astral.size == 0:
        parts = _bmp_pairs(ids, np.asarray(rowids, dtype=np.uint64), c)
    else:
        odd = set(np.searchsorted(c.ends, astral, side="right").tolist())
        keep = [k for k in range(len(texts)) if k not in odd]
        parts = _bmp_pairs(ids, np.asarray([rowids[k] for k in keep], dtype=np.uint64), _chars([texts[k] for k in keep])) if keep else []
        for k in sorted(odd):
            tids = np.fromiter((ids.of(t) for t in reference_terms(texts[k])), dtype=np.uint64)
            parts.append((tids << np.uint64(32)) | np.uint64(rowids[k]))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _bmp_pairs(ids: TermIds, rowids: np.ndarray, c: _Chars) -> list[np.ndarray]:
    _, _, word_bmp, folded_bmp, to_cjk_bmp = _tables()
    a, n = c.a, c.a.shape[0]
    lens = np.diff(c.ends, prepend=0)
    row = np.repeat(rowids, lens)
    rank, base = ids.rank, np.uint64(ids.base)
    shift = np.uint64(32)
    r = rank[a]  # (a is all BMP here)
    out = []
    uni = np.flatnonzero(c.cjk)
    out.append(((r[uni] * base) << shift) | row[uni])
    bi = np.flatnonzero(c.pair)
    out.append(((r[bi] * base + r[bi + 1] + np.uint64(1)) << shift) | row[bi])
    word = word_bmp[a]
    if word.any():
        # runs of word characters within one text
        start = word.copy()
        start[1:] &= ~word[:-1]
        end = word.copy()
        end[:-1] &= ~word[1:]
        cuts = c.ends[(c.ends > 0) & (c.ends < n)]
        start[cuts] = word[cuts]
        end[cuts - 1] = word[cuts - 1]
        s, e = np.flatnonzero(start), np.flatnonzero(end) + 1
        folded = folded_bmp[a[s[0] : e[-1]]].tobytes().decode("utf-32-le", "surrogatepass")
        o = int(s[0])
        other = ids.other
        wids = np.fromiter((other(folded[i - o : j - o]) for i, j in zip(s.tolist(), e.tolist())), dtype=np.uint64, count=s.size)
        out.append((wids << shift) | row[s])
    odd = np.flatnonzero(to_cjk_bmp[a])
    check = c.gaps | (np.bincount(np.searchsorted(c.ends, odd, side="right"), minlength=rowids.size) > 0)
    if check.any():
        out.append((np.uint64(ids.other(CHECK_TOKEN)) << shift) | rowids[check])
    return out


# ---------------------------------------------------------------- building


class _Run:
    """One chunk's pairs, sorted and without repeats: the distinct terms, where
    each one's rowids start in ``rows`` (and the end), the rowids."""

    def __init__(self, pairs: np.ndarray) -> None:
        pairs.sort()
        keep = np.empty(pairs.size, dtype=bool)
        keep[:1] = True
        np.not_equal(pairs[1:], pairs[:-1], out=keep[1:])
        pairs = pairs[keep]
        terms = (pairs >> np.uint64(32)).astype(np.uint32)
        self.rows = pairs.astype(np.uint32)
        del pairs
        new = np.empty(terms.size, dtype=bool)
        new[:1] = True
        np.not_equal(terms[1:], terms[:-1], out=new[1:])
        self.starts = np.append(np.flatnonzero(new), terms.size)
        self.terms = terms[new]


class PostingsBuilder:
    """Collects (rowids, texts) batches in ascending rowid order and gives the
    encoded postings, term range by term range (``rows``)."""

    def __init__(self, chunk_pairs: int | None = None, range_pairs: int | None = None) -> None:
        self.ids = TermIds()
        self.chunk_pairs = chunk_pairs or CHUNK_PAIRS
        self.range_pairs = range_pairs or RANGE_PAIRS
        self._pending: list[np.ndarray] = []
        self._pending_size = 0
        self._runs: list[_Run] = []
        self.last_rowid = -1
        self.cpu = {"terms": 0.0, "sort": 0.0, "merge": 0.0, "encode": 0.0}

    def add(self, rowids: Sequence[int], texts: Sequence[str]) -> None:
        if not rowids:
            return
        if rowids[0] <= self.last_rowid:
            raise ValueError("postings batches must come in ascending rowid order")
        self.last_rowid = rowids[-1]
        c0 = time.thread_time()
        pairs = batch_pairs(self.ids, rowids, texts)
        self._pending.append(pairs)
        self._pending_size += pairs.size
        self.cpu["terms"] += time.thread_time() - c0
        if self._pending_size >= self.chunk_pairs:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        c0 = time.thread_time()
        pairs = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending, self._pending_size = [], 0
        self._runs.append(_Run(pairs))
        self.cpu["sort"] += time.thread_time() - c0

    def words(self) -> list[str]:
        """The non-CJK terms (folded words), for the vocabulary of substring queries."""
        return [t for t in self.ids.others if t != CHECK_TOKEN]

    def rows(self) -> Iterator[list[tuple[str, bytes]]]:
        """(term, encoded ids) rows in term-id order, a term range at a time."""
        self._flush()
        runs, self._runs = self._runs, []
        if not runs:
            return
        c0 = time.thread_time()
        terms = np.unique(np.concatenate([r.terms for r in runs]))
        totals = np.zeros(terms.size, dtype=np.int64)
        where = [np.searchsorted(terms, r.terms) for r in runs]  # each run's terms as indices into ``terms``
        for r, w in zip(runs, where):
            totals[w] += np.diff(r.starts)
        ends = np.cumsum(totals)
        self.cpu["merge"] += time.thread_time() - c0
        lo = 0
        while lo < terms.size:
            c0 = time.thread_time()
            first = int(ends[lo - 1]) if lo else 0
            hi = int(np.searchsorted(ends, first + self.range_pairs, side="right"))
            hi = max(hi, lo + 1)
            ids = self._merge(runs, where, totals, lo, hi)
            c1 = time.thread_time()
            out = self._encode(terms[lo:hi], totals[lo:hi], ids)
            self.cpu["merge"] += c1 - c0
            self.cpu["encode"] += time.thread_time() - c1
            yield out
            lo = hi

    @staticmethod
    def _merge(runs: list[_Run], where: list[np.ndarray], totals: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """The rowids of terms [lo, hi), grouped by term, ascending within each:
        each run's share written after the earlier runs' (runs are in rowid order)."""
        offsets = np.zeros(hi - lo + 1, dtype=np.int64)
        np.cumsum(totals[lo:hi], out=offsets[1:])
        out = np.empty(int(offsets[-1]), dtype=np.uint32)
        fill = offsets[:-1].copy()
        for r, w in zip(runs, where):
            s0, s1 = np.searchsorted(w, (lo, hi))
            if s0 == s1:
                continue
            g = w[s0:s1] - lo
            starts = r.starts[s0 : s1 + 1]
            counts = np.diff(starts)
            # destination of each rowid: its term's fill point + its place in the run's segment
            shift = np.repeat(fill[g] - (starts[:-1] - starts[0]), counts)
            shift += np.arange(counts.sum(), dtype=np.int64)
            out[shift] = r.rows[starts[0] : starts[-1]]
            fill[g] += counts
        return out

    def _encode(self, terms: np.ndarray, counts: np.ndarray, ids: np.ndarray) -> list[tuple[str, bytes]]:
        """Each term's row: width byte, first rowid, gaps (see the module docstring)."""
        starts = np.zeros(terms.size, dtype=np.int64)
        np.cumsum(counts[:-1], out=starts[1:])
        gaps = np.empty_like(ids)
        gaps[0] = 0
        np.subtract(ids[1:], ids[:-1], out=gaps[1:])
        gaps[starts] = 0  # not a gap: the first rowid goes in the header
        widest = np.maximum.reduceat(gaps, starts)
        width = np.where(widest < 256, 1, np.where(widest < 65536, 2, 4))
        bodies = {w: gaps.astype(_WIDTHS[w]).tobytes() for w in np.unique(width).tolist()}
        heads = ids[starts].astype("<u4").tobytes()
        names = self.ids.texts(terms)
        out = []
        for k, (name, w, s, n) in enumerate(zip(names, width.tolist(), starts.tolist(), counts.tolist())):
            out.append((name, bytes((w,)) + heads[4 * k : 4 * k + 4] + bodies[w][(s + 1) * w : (s + n) * w]))
        return out


def insert_rows(con: sqlite3.Connection, builder: PostingsBuilder) -> None:
    """Write the builder's postings into ``cjk_postings`` (in the caller's transaction)."""
    for rows in builder.rows():
        con.executemany(f"INSERT INTO {POSTINGS_TABLE}(term, ids) VALUES (?, ?)", rows)


class PostingsSink(ThreadSink):
    """A ``PostingsBuilder`` on a thread of its own: numpy's sorts and array
    arithmetic release the GIL, so the terms are made on the second core
    while the builder parses the input and writes its tables. When the input
    ends the thread merges the runs and writes the table into a database
    file of its own, ``db_path``, while the builder makes its b-trees; the
    builder then copies it (``copy_into``: SQLite copies the pages of a
    table into an empty one of the same schema as they are)."""

    def __init__(self, builder: PostingsBuilder, db_path: Path, queue_batches: int = 8) -> None:
        super().__init__("align-index-postings", queue_batches)
        self.builder = builder
        self.db_path = db_path
        self.cpu_insert = 0.0
        self._start()

    def _run(self) -> None:
        for item in self._items():
            self.builder.add(*item)
        if not self._stop.is_set():
            self._write()

    def _write(self) -> None:
        from ._writer import open_bulk

        con = open_bulk(str(self.db_path), begin=False)
        try:
            con.executescript(POSTINGS_SCHEMA)
            con.execute("BEGIN")
            for rows in self.builder.rows():
                if self._stop.is_set():
                    return
                c0 = time.thread_time()
                con.executemany(f"INSERT INTO {POSTINGS_TABLE}(term, ids) VALUES (?, ?)", rows)
                self.cpu_insert += time.thread_time() - c0
            con.execute("COMMIT")
        finally:
            con.close()

    def copy_into(self, con: sqlite3.Connection) -> None:
        """Copy the written table into ``con``'s empty one. Must be called
        outside a transaction; leaves one open."""
        con.execute("ATTACH DATABASE ? AS postings", (str(self.db_path),))
        con.execute("BEGIN")
        con.execute(f"INSERT INTO main.{POSTINGS_TABLE} SELECT * FROM postings.{POSTINGS_TABLE}")


# ---------------------------------------------------------------- searching


def decode(blob: bytes) -> np.ndarray:
    """A term's rowids (uint32, ascending) from its row."""
    if len(blob) < 5 or blob[0] not in _WIDTHS:
        raise sqlite3.DatabaseError("malformed postings row")
    gaps = np.frombuffer(blob, dtype=_WIDTHS[blob[0]], offset=5)
    out = np.empty(gaps.size + 1, dtype=np.uint32)
    out[0] = int.from_bytes(blob[1:5], "little")
    out[1:] = gaps
    return np.cumsum(out, dtype=np.uint32, out=out)


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sorted unique arrays; a is the smaller: binary search it in b."""
    if a.size == 0 or b.size == 0:
        return a[:0]
    if a.size * 8 < b.size:
        at = np.searchsorted(b, a)
        at[at == b.size] = 0
        return a[b[at] == a]
    return np.intersect1d(a, b, assume_unique=True)


class Postings:
    """Term lookups on an open index; each term is read and decoded once."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self._cache: dict[str, np.ndarray] = {}

    def get(self, term: str) -> np.ndarray:
        ids = self._cache.get(term)
        if ids is None:
            row = self.con.execute(f"SELECT ids FROM {POSTINGS_TABLE} WHERE term = ?", (term,)).fetchone()
            ids = self._cache[term] = decode(row[0]) if row is not None else np.zeros(0, dtype=np.uint32)
        return ids

    def all_of(self, terms: Sequence[str]) -> np.ndarray:
        """Rowids holding every term (no terms: none)."""
        if not terms:
            return np.zeros(0, dtype=np.uint32)
        lists = sorted((self.get(t) for t in dict.fromkeys(terms)), key=len)
        out = lists[0]
        for other in lists[1:]:
            if out.size == 0:
                break
            out = _intersect(out, other)
        return out

    def any_of_all(self, alternatives: Sequence[Sequence[str]]) -> np.ndarray:
        """Rowids holding every term of at least one alternative."""
        found = [self.all_of(terms) for terms in alternatives]
        found = [f for f in found if f.size]
        if not found:
            return np.zeros(0, dtype=np.uint32)
        return found[0] if len(found) == 1 else np.unique(np.concatenate(found))
