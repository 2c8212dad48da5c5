"""Sentence vectors next to the index: one row per bead side, memory-mapped.

Row ``2 * bead_id + side`` holds the vector of that side (zeros for an empty
side), stored as int16 fixed point (steps of 1/``QUANT``): encoders give
unit vectors, every component within [-1, 1], and the steps moved a cosine
by at most 4.9e-5 (40 real queries against a million pairs' vectors), while
half the bytes halve what a build writes. Writing 4 GB of float32 (a
million pairs) cost 3.5-7 s of kernel CPU here (past the page cache's
dirty-page thresholds), 2 GB 1-1.6 s; the conversion costs about 1.2 s.

Small stores are searched by one exact matrix-vector product. A full scan of
2 million 512-d rows reads 2 GB, over the 300 ms budget, so large stores
also get an inverted-file (IVF) layer:

* a *coarse* copy of every row, projected on the top 96 principal directions
  of the data, stored (int16 too) grouped by cluster (``<db>.coarse.npy``);
* sqrt(n) cluster centroids (spherical k-means on a sample, in the projected
  space; in the index's meta table) and, per coarse row, the vector row it
  stands for (``<db>.coarse-rows.npy``). The clusters are found in two
  levels (about sqrt(sqrt(n)) groups, each split again), so that a row is
  assigned by comparing it with the groups and then with the clusters of its
  nearest group, not with every cluster.

A query scores the centroids, scans the coarse rows of the nearest 1/12 of
the clusters, and re-scores the best 4,000 rows exactly with the full
vectors. That is approximate. At a million pairs (40 real USE queries, the
benchmark's derived vectors, which have many exact ties) 99.7% of the
returned top 10 scored within 1e-4 of the exact 10th best (recall@10 0.930),
in 39 ms median; 64 dimensions gave 95.7% (0.900), and 98.2% re-scoring
8,000 rows, in 50 ms.

A build hands its vectors to a ``VectorSink``, whose thread converts and
writes them and projects them to the coarse space while they are in cache
(numpy and file writes release the GIL, so this runs on the second core
beside the builder's Python work), and clusters the projected rows when the
input ends, while the builder makes its b-tree indexes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from align.model import AlignError

from .sink import ThreadSink

COARSE_MIN_ROWS = 200_000  # below this an exact scan is fast enough
COARSE_DIM = 96
RERANK_MIN = 4000  # rows re-scored exactly after the coarse pass
PROBE_FRACTION = 1 / 12  # share of clusters scanned per query
COARSE_RAM_BYTES = 2 << 30  # larger coarse copies are staged in a temp file while clustering
# The coarse projection is fitted on the first rows of a build, so that the
# rest can be projected as they arrive; if all rows keep less than this share
# of the energy the fitted rows kept (the first documents were not typical),
# it is fitted again on a sample of all rows and everything projected again.
FIT_ROWS = 50_000
REFIT_BELOW = 0.98
QUANT = 32767.0  # stored value = round(component * QUANT), as int16
STORED_DTYPE = "<i2"


def vectors_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".vectors.npy")


def coarse_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".coarse.npy")


def coarse_rows_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".coarse-rows.npy")


def _header(rows: int, dim: int, dtype: str = "<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": (rows, dim)})
    return buf.getvalue()


def fingerprint(path: Path) -> str:
    """Cheap identity of a vectors file, stored in the index so that a file
    from another build (or a half-finished one) is detected, not trusted."""
    h = hashlib.sha1()
    size = path.stat().st_size
    h.update(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 16))
        if size > 1 << 16:
            f.seek(max(size - (1 << 16), 1 << 16))
            h.update(f.read())
    return h.hexdigest()


# Rows converted at a time: a chunk's float32 scratch copy stays in cache
# across the steps (quantising 10,000-row blocks whole cost 1.8x the CPU).
# Projecting and quantising cold 10,000-row blocks (as the sink gets them),
# min of 4 runs, CPU s per 2M rows: 2,048 rows 5.7, 1,024 5.5, 512 5.1,
# 256 5.1 (a 512-row chunk is 1 MB, this machine's L2); the product itself
# is 3.5 of it, at 56 GFLOP/s.
_CHUNK = 512


def quantise(block: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Rows with every component within [-1, 1] (unit vectors, their
    projections) as stored: int16 steps of 1/QUANT."""
    out = np.empty(block.shape, dtype=STORED_DTYPE) if out is None else out
    scratch = np.empty((min(_CHUNK, block.shape[0]), *block.shape[1:]), dtype=np.float32)
    for i in range(0, block.shape[0], _CHUNK):
        s = scratch[: min(_CHUNK, block.shape[0] - i)]
        np.multiply(block[i : i + _CHUNK], QUANT, out=s)
        np.rint(s, out=s)
        # a component over 1 saturates instead of wrapping round
        np.clip(s, -QUANT, QUANT, out=out[i : i + _CHUNK], casting="unsafe")
    return out


def dequantise(rows: np.ndarray) -> np.ndarray:
    """Stored rows as float32 (float32 rows, from older indexes, as they are)."""
    if rows.dtype == np.float32:
        return np.asarray(rows)
    return np.multiply(rows, np.float32(1 / QUANT), dtype=np.float32)


def _check_block(block: np.ndarray, dim: int | None) -> int:
    """The store's width: that of the first block; every later one must match it."""
    if block.ndim != 2:
        raise ValueError("vector block must be 2-d")
    if dim is not None and block.shape[1] != dim:
        raise AlignError(f"encoder returned {block.shape[1]}-d vectors after {dim}-d ones")
    return int(block.shape[1])


class VectorWriter:
    """Appends rows to a .npy whose row count is only known at the end.

    numpy pads .npy headers so the shape can grow in place; we write the
    header for 0 rows first and rewrite it (same length) when closing.
    """

    def __init__(self, path: Path, dtype: str = "<f4") -> None:
        self.path = path
        self.dtype = dtype
        self.dim: int | None = None
        self.rows = 0
        self._f = open(path, "wb")

    def append(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype)
        first = self.dim is None
        self.dim = _check_block(block, self.dim)
        if first:
            self._f.write(_header(0, self.dim, self.dtype))
        self._f.write(memoryview(block).cast("B"))  # no copy, unlike tobytes()
        self.rows += block.shape[0]

    def close(self) -> None:
        if self.dim is None:
            self.dim = 0
            self._f.write(_header(0, 0, self.dtype))
        head = _header(self.rows, self.dim, self.dtype)
        if len(head) != len(_header(0, self.dim, self.dtype)):  # numpy's padding makes this impossible
            raise RuntimeError("npy header grew; cannot rewrite in place")
        self._f.seek(0)
        self._f.write(head)
        self._f.close()  # no fsync: the index stores this file's fingerprint and refuses a torn copy

    def abort(self) -> None:
        if not self._f.closed:
            self._f.close()


@dataclass(frozen=True)
class CoarsePlan:
    """Where and how to make the coarse layer, if the store gets big enough."""

    path: Path
    rows_path: Path
    dim: int = COARSE_DIM
    min_rows: int = COARSE_MIN_ROWS
    fit_rows: int | None = None  # FIT_ROWS


class _Stopped(Exception):
    """The build was abandoned: the sink's thread stops where it is."""


class VectorSink(ThreadSink):
    """Takes a build's vector blocks (float32, unit rows) and, on a thread of
    its own, writes them quantised to ``path`` and, with a ``CoarsePlan``,
    projects them to the coarse space while they are still in cache; when
    the input ends (``close``) it clusters them and writes the coarse files.
    ``result`` waits for all that and gives the index's meta entries.

    BLAS must be limited to one thread meanwhile (``build_index`` does): two
    BLAS threads on these products spin badly when the cores are busy.
    """

    def __init__(self, path: Path, coarse: CoarsePlan | None = None, queue_blocks: int = 12) -> None:
        super().__init__("align-index-vectors", queue_blocks)
        self.path = path
        self.plan = coarse
        self.dim: int | None = None
        self.rows = 0
        self.cpu: dict[str, float] = {}  # the thread's CPU seconds by step
        self.waited = 0.0  # wall seconds ``append`` waited for room in the queue
        self._writer = VectorWriter(path, STORED_DTYPE)
        self._meta: dict | None = None
        self._start()

    def append(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=np.float32)
        self.dim = _check_block(block, self.dim)  # here, so that the builder gets the error
        t0 = time.perf_counter()
        self._put(block)
        self.waited += time.perf_counter() - t0
        self.rows += block.shape[0]

    def result(self) -> dict:
        """Meta entries (vectors_rows, vectors_dim, vectors_dtype, vectors_fp
        and, for a coarse layer, its tables and fingerprints) once the thread
        is done; {} if no rows came."""
        self.wait()
        assert self._meta is not None
        return self._meta

    def abort(self) -> None:
        """Stop the thread (it gives up between steps) and close the file."""
        super().abort()
        self._writer.abort()

    def _tick(self, step: str, since: float) -> float:
        if self._stop.is_set():
            raise _Stopped
        now = time.thread_time()
        self.cpu[step] = self.cpu.get(step, 0.0) + now - since
        return now

    def _run(self) -> None:
        with contextlib.suppress(_Stopped):
            self._meta = self._work()

    def _work(self) -> dict:
        plan = self.plan
        coarse = _Projector(plan.dim, plan.fit_rows or FIT_ROWS, plan.path) if plan is not None else None
        t = time.thread_time()
        try:
            for block in self._items():
                if coarse is not None and block.shape[1] > plan.dim:
                    stored = coarse.add(block)  # projected while the block is in cache, and quantised
                    t = self._tick("project_quantise", t)
                else:
                    stored = quantise(block)
                    t = self._tick("quantise", t)
                self._writer.append(stored)
                t = self._tick("write", t)
            if self._stop.is_set():
                raise _Stopped
            self._writer.close()
            if not self._writer.rows:
                return {}
            meta = {"vectors_rows": self._writer.rows, "vectors_dim": self._writer.dim, "vectors_dtype": STORED_DTYPE,
                    "vectors_fp": fingerprint(self.path)}
            t = self._tick("write", t)
            if coarse is not None and self._writer.rows >= plan.min_rows and self._writer.dim > plan.dim:
                meta.update(coarse.finish(self.path, plan.path, plan.rows_path, self._tick))
                t = time.thread_time()
                meta.update(coarse_fp=fingerprint(plan.path), coarse_rows_fp=fingerprint(plan.rows_path))
                self._tick("coarse_write", t)
            return meta
        finally:
            if coarse is not None:
                coarse.discard()


class _Projector:
    """The coarse copy of a stream of vector blocks, in row order and stored
    as int16 like the vectors: projected with a projection fitted on the first
    ``fit_rows`` rows, kept in memory (or in a temp file next to ``where``
    beyond ``COARSE_RAM_BYTES``)."""

    def __init__(self, dim: int, fit_rows: int, where: Path) -> None:
        self.dim = dim
        self.fit_rows = fit_rows
        self.pending: list[np.ndarray] = []
        self.pending_rows = 0
        self.proj: np.ndarray | None = None
        self.fit_energy = 1.0  # share of the fitted rows' energy the projection keeps
        self.energy = [0.0, 0.0]  # of all rows so far: total, kept
        self.parts: list[np.ndarray] = []
        self.bytes = 0
        self.spill_path = where.with_name(where.name + ".spill")
        self.spill: VectorWriter | None = None

    def add(self, block: np.ndarray) -> np.ndarray:
        """Take a block (float32 rows) and return it quantised."""
        if self.proj is not None:
            return self._convert(block)
        self.pending.append(block)
        self.pending_rows += block.shape[0]
        if self.pending_rows >= self.fit_rows:
            self._fit()
        return quantise(block)

    def _fit(self) -> None:
        x = np.concatenate(self.pending) if len(self.pending) > 1 else self.pending[0]
        self.proj, self.fit_energy = fit_projection(x, self.dim)
        pending, self.pending = self.pending, []
        for block in pending:
            self._keep(self._project(block))

    def _convert(self, block: np.ndarray) -> np.ndarray:
        """Project and quantise a block, chunk by chunk while each is in cache."""
        stored = np.empty(block.shape, dtype=STORED_DTYPE)
        coarse = np.empty((block.shape[0], self.dim), dtype=STORED_DTYPE)
        for i in range(0, block.shape[0], _CHUNK):
            x = block[i : i + _CHUNK]
            self._project(x, coarse[i : i + _CHUNK])
            quantise(x, stored[i : i + _CHUNK])
        self._keep(coarse)
        return stored

    def _project(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        c = x @ self.proj
        kept = np.einsum("ij,ij->i", c, c)
        self.energy[0] += np.count_nonzero(kept)  # unit rows: each non-empty one has energy 1 (0.5 s of CPU less)
        self.energy[1] += float(kept.sum())
        return quantise(c, out)

    def _keep(self, c: np.ndarray) -> None:
        self.bytes += c.nbytes
        if self.spill is None and self.bytes > COARSE_RAM_BYTES:
            self.spill = VectorWriter(self.spill_path, STORED_DTYPE)
            for part in self.parts:
                self.spill.append(part)
            self.parts = []
        if self.spill is not None:
            self.spill.append(c)
        else:
            self.parts.append(c)

    def _rows(self) -> np.ndarray:
        if self.spill is not None:
            self.spill.close()
            return np.load(self.spill_path, mmap_mode="r")
        rows = np.concatenate(self.parts) if len(self.parts) != 1 else self.parts[0]
        self.parts = []
        return rows

    def refit(self, vectors: np.ndarray) -> None:
        """Fit on a sample of all of ``vectors`` (stored rows) and project them all."""
        self.discard()
        self.proj, self.fit_energy = fit_projection(_sample(vectors, self.fit_rows, 0), self.dim)
        self.bytes = 0
        self.energy = [0.0, 0.0]
        for i in range(0, vectors.shape[0], 65536):
            self._keep(self._project(dequantise(vectors[i : i + 65536])))

    def finish(self, vectors_file: Path, path: Path, rows_path: Path, tick: Callable[[str, float], float]) -> dict[str, bytes]:
        """Cluster and write the coarse layer; refit first if the first rows were not typical."""
        t = time.thread_time()
        if self.proj is None:
            self._fit()
        total, kept = self.energy
        if total > 0 and kept / total < REFIT_BELOW * self.fit_energy:
            vectors = np.load(vectors_file, mmap_mode="r")
            self.refit(vectors)
            del vectors
            t = tick("refit", t)
        projected = self._rows()
        tick("project_quantise", t)
        return cluster_coarse(projected, self.proj, path, rows_path, tick=tick, spilled=self.spill is not None)

    def discard(self) -> None:
        self.parts = []
        self.pending = []
        if self.spill is not None:
            self.spill.abort()
            self.spill = None
        _unlink_quietly(self.spill_path)


def fit_projection(x: np.ndarray, dim: int) -> tuple[np.ndarray, float]:
    """(d, dim) matrix of the top principal directions of the rows of ``x``
    (uncentred: it is dot products we want to preserve, not variance around
    the mean), and the share of their energy it keeps."""
    s = np.asarray(x, dtype=np.float32)
    s = s[np.any(s != 0, axis=1)]
    gram = (s.T @ s).astype(np.float64)
    values, vecs = np.linalg.eigh(gram)
    trace = float(values.sum())
    kept = float(values[::-1][:dim].sum()) / trace if trace > 0 else 1.0
    return np.ascontiguousarray(vecs[:, ::-1][:, :dim], dtype=np.float32), kept


def projection(vectors: np.ndarray, dim: int, sample: int = 50_000, seed: int = 0) -> np.ndarray:
    """``fit_projection`` on a sample of the rows."""
    return fit_projection(_sample(vectors, sample, seed), dim)[0]


def _sample(vectors: np.ndarray, size: int, seed: int) -> np.ndarray:
    n = vectors.shape[0]
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(n, size), replace=False))
    s = dequantise(vectors[idx])
    return s[np.any(s != 0, axis=1)]


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def _assign(x: np.ndarray, centroids: np.ndarray, chunk: int = 32768) -> np.ndarray:
    out = np.empty(x.shape[0], dtype=np.int32)
    for i in range(0, x.shape[0], chunk):
        out[i : i + chunk] = np.argmax(x[i : i + chunk] @ centroids.T, axis=1)
    return out


def spherical_kmeans(x: np.ndarray, k: int, iters: int = 8, seed: int = 0) -> np.ndarray:
    """(k, d) unit centroids; an empty cluster is re-seeded from a random row.

    Meant for small ``k`` (the levels of ``TwoLevelClusters``): cluster sums
    are one (k, n) one-hot product, far cheaper than ``np.add.reduceat``.
    """
    rng = np.random.default_rng(seed)
    x = _normalise(x).astype(np.float32)
    n = x.shape[0]
    centroids = x[rng.choice(n, size=k, replace=False)].copy()
    onehot = np.zeros((k, n), dtype=np.float32)
    cols = np.arange(n)
    for _ in range(iters):
        a = _assign(x, centroids)
        onehot[a, cols] = 1.0
        sums = onehot @ x
        onehot[a, cols] = 0.0
        empty = np.flatnonzero(np.bincount(a, minlength=k) == 0)
        if empty.size:
            sums[empty] = x[rng.choice(n, size=empty.size, replace=False)]
        centroids = _normalise(sums).astype(np.float32)
    return centroids


class TwoLevelClusters:
    """Clusters in groups: ``centroids`` (k, d) lists group 0's clusters
    first, then group 1's, ...; ``starts[g]:starts[g + 1]`` are group g's."""

    def __init__(self, sample: np.ndarray, lists: int, seed: int = 0) -> None:
        x = _normalise(sample)
        n_groups = max(1, min(int(round(np.sqrt(lists))), x.shape[0], 32767))
        self.groups = spherical_kmeans(x, n_groups, seed=seed)
        member = _assign(x, self.groups)
        parts, starts = [], [0]
        for g in range(n_groups):
            rows = x[member == g]
            k = min(rows.shape[0], max(1, int(round(lists * rows.shape[0] / x.shape[0]))))
            # an empty group keeps its own centroid as its one cluster
            parts.append(spherical_kmeans(rows, k, seed=seed + 1 + g) if k else self.groups[g : g + 1])
            starts.append(starts[-1] + parts[-1].shape[0])
        self.centroids = np.concatenate(parts).astype(np.float32)
        self.starts = starts

    def assign(self, x: np.ndarray, probe: int = 2) -> np.ndarray:
        """Nearest cluster of each row among those of its ``probe`` nearest groups."""
        n, n_groups = x.shape[0], self.groups.shape[0]
        probe = min(probe, n_groups)
        scores = x @ self.groups.T
        near = np.empty((n, probe), dtype=np.int16)
        for p in range(probe):  # repeated argmax: much cheaper than a row-wise argpartition
            near[:, p] = np.argmax(scores, axis=1)
            scores[np.arange(n), near[:, p]] = -np.inf
        near = near.ravel()
        order = np.argsort(near, kind="stable")  # (row, group) pairs by group: a radix sort
        bounds = np.searchsorted(near[order], np.arange(n_groups + 1))
        pair_rows = order // probe
        best = np.full(n, -np.inf, dtype=np.float32)
        out = np.zeros(n, dtype=np.int32)
        for g in range(n_groups):
            rows = pair_rows[bounds[g] : bounds[g + 1]]  # distinct: a row's groups differ
            if rows.size == 0:
                continue
            a, b = self.starts[g], self.starts[g + 1]
            scores = x[rows] @ self.centroids[a:b].T
            j = np.argmax(scores, axis=1)
            value = scores[np.arange(rows.size), j]
            better = value > best[rows]
            best[rows[better]] = value[better]
            out[rows[better]] = a + j[better]
        return out


def build_coarse(vectors: np.ndarray, path: Path, rows_path: Path, dim: int = COARSE_DIM, lists: int | None = None) -> dict[str, bytes]:
    """The coarse layer of a whole vectors array (stored or float32 rows) at
    once: what ``VectorSink`` makes as the rows arrive."""
    coarse = _Projector(dim, FIT_ROWS, path)
    try:
        coarse.refit(vectors)
        return cluster_coarse(coarse._rows(), coarse.proj, path, rows_path, lists, spilled=coarse.spill is not None)
    finally:
        coarse.discard()


def cluster_coarse(projected: np.ndarray, proj: np.ndarray, path: Path, rows_path: Path, lists: int | None = None,
                   chunk: int = 131072, tick: Callable[[str, float], float] | None = None, spilled: bool = False) -> dict[str, bytes]:
    """Cluster the projected rows (stored int16, in row order), write them
    grouped by cluster to ``path`` and, for each, the vector row it comes
    from to ``rows_path``; return the meta blobs. ``spilled``: ``projected``
    is a memory map, read in order.

    A row goes to the nearest cluster of its nearest group only (probe 1):
    against probe 2 that cost 3 s less CPU at a million pairs for the same
    recall (0.930 against 0.935 at 10, 40 real queries; 99.7% of the returned
    top 10 within 1e-4 of the exact 10th best, both)."""
    tick = tick or (lambda step, since: time.thread_time())
    t = time.thread_time()
    n, dim = projected.shape
    lists = lists or int(min(4096, max(16, round(np.sqrt(n)))))
    sample = _sample(projected, max(64 * lists, 50_000), 1)
    clusters = TwoLevelClusters(sample, min(lists, sample.shape[0]))
    centroids = clusters.centroids
    lists = centroids.shape[0]
    t = tick("cluster", t)
    assign = np.empty(n, dtype=np.int32)
    for i in range(0, n, chunk):
        assign[i : i + chunk] = clusters.assign(dequantise(projected[i : i + chunk]), probe=1)
        t = tick("assign", t)
    perm = np.argsort(assign, kind="stable").astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(assign, minlength=lists))]).astype(np.int64)
    with open(path, "wb") as f:  # written in order: plain writes, no dirty memory map to flush
        f.write(_header(n, dim, STORED_DTYPE))
        for i in range(0, n, chunk):
            idx = perm[i : i + chunk]
            if spilled:
                order = np.argsort(idx)  # read the row-order file sequentially
                block = np.empty((idx.shape[0], dim), dtype=STORED_DTYPE)
                block[order] = projected[idx[order]]
            else:
                block = projected[idx]
            f.write(memoryview(block).cast("B"))
            t = tick("coarse_write", t)
    with open(rows_path, "wb") as f:  # a file object: np.save would append ".npy" to a name
        np.save(f, perm.astype("<i4"), allow_pickle=False)
    tick("coarse_write", t)
    return {
        "coarse_proj": proj.astype("<f4").tobytes(),
        "ivf_centroids": centroids.astype("<f4").tobytes(),
        "ivf_offsets": offsets.astype("<i8").tobytes(),
    }


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


class _Rows:
    """Reads row ranges of a 2-d .npy with pread: a query touches a few
    thousand scattered pages, and page-faulting them in through a memory map
    cost 5-10x more than copying them (measured, 1M-pair index)."""

    def __init__(self, path: Path, arr: np.ndarray) -> None:
        self.shape, self.dtype = arr.shape, arr.dtype
        self.row_bytes = int(np.prod(arr.shape[1:], dtype=np.int64)) * arr.dtype.itemsize
        with open(path, "rb") as f:
            np.lib.format.read_magic(f)
            np.lib.format.read_array_header_1_0(f)
            self.offset = f.tell()
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self.arr = arr  # memory map: the fallback where pread is missing

    def range(self, a: int, b: int) -> np.ndarray:
        if not hasattr(os, "preadv"):
            return np.asarray(self.arr[a:b])
        out = np.empty((b - a, *self.shape[1:]), dtype=self.dtype)
        if b > a:
            os.preadv(self.fd, [memoryview(out).cast("B")], self.offset + a * self.row_bytes)
        return out

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Rows by index (sorted); neighbouring rows are read in one call."""
        if not hasattr(os, "preadv") or rows.shape[0] == 0:
            return np.asarray(self.arr[rows])
        out = np.empty((rows.shape[0], *self.shape[1:]), dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        starts = np.concatenate([[0], breaks])
        ends = np.concatenate([breaks, [rows.shape[0]]])
        view = memoryview(out).cast("B")
        for s, e in zip(starts.tolist(), ends.tolist()):
            os.preadv(self.fd, [view[s * self.row_bytes : e * self.row_bytes]], self.offset + int(rows[s]) * self.row_bytes)
        return out

    def close(self) -> None:
        os.close(self.fd)


class VectorStore:
    """Read side: the files checked against the index's meta; ``blobs`` fetches
    the clustering tables, which only semantic search needs."""

    def __init__(self, db_path: Path, meta: dict, blobs: Callable[[str], bytes] | None = None) -> None:
        self.encoder = meta.get("vectors_encoder")
        rows, dim = int(meta["vectors_rows"]), int(meta["vectors_dim"])
        vpath = vectors_path(db_path)
        # float32 in an index made before the format stored int16 (read when a build carries its documents over)
        self.vectors = _load(vpath, meta.get("vectors_fp"), (rows, dim), np.dtype(meta.get("vectors_dtype", "<f4")))
        self.scale = np.float32(1.0 if self.vectors.dtype == np.float32 else 1 / QUANT)  # stored value -> component
        self._vectors = _Rows(vpath, self.vectors)
        self.coarse = None
        if meta.get("coarse_fp") and blobs is not None:
            self.proj = np.frombuffer(blobs("coarse_proj"), dtype="<f4").reshape(dim, -1)
            self.centroids = np.frombuffer(blobs("ivf_centroids"), dtype="<f4").reshape(-1, self.proj.shape[1])
            self.offsets = np.frombuffer(blobs("ivf_offsets"), dtype="<i8")
            cpath, rpath = coarse_path(db_path), coarse_rows_path(db_path)
            self.coarse = _load(cpath, meta["coarse_fp"], (rows, self.proj.shape[1]), np.dtype(STORED_DTYPE))
            self.rows = _load(rpath, meta.get("coarse_rows_fp"), (rows,), np.int32)
            self._coarse, self._rows = _Rows(cpath, self.coarse), _Rows(rpath, self.rows)
            if self.offsets.shape[0] != self.centroids.shape[0] + 1 or self.offsets[-1] != rows:
                raise AlignError(f"{db_path}: index vector tables are inconsistent; rebuild with `align index`")

    def close(self) -> None:
        self._vectors.close()
        if self.coarse is not None:
            self._coarse.close()
            self._rows.close()

    def top(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None, probe: float | None = None,
            rerank: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the ``k`` best rows, best first; ``probe``
        is the share of clusters scanned (default ``PROBE_FRACTION``)."""
        probe = PROBE_FRACTION if probe is None else probe
        q = np.asarray(q, dtype=np.float32)
        n = self.vectors.shape[0]
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self.coarse is None:
            scores = _matvec(self.vectors, q * self.scale)
            if allowed is not None:
                scores[~allowed] = -np.inf
            rows = _top(scores, k)
            return rows, scores[rows]
        qc = _matvec(self.proj.T, q)
        lists = self.centroids.shape[0]
        nearest = np.sort(_top(_matvec(self.centroids, qc), max(1, int(np.ceil(lists * probe)))))
        spans = [(int(self.offsets[c]), int(self.offsets[c + 1])) for c in nearest.tolist()]
        qc *= np.float32(1 / QUANT)  # the coarse rows are stored like the vectors
        approx = np.concatenate([_matvec(self._coarse.range(a, b), qc) for a, b in spans])
        rows = np.concatenate([self._rows.range(a, b) for a, b in spans]).astype(np.int64)
        if allowed is not None:
            approx[~allowed[rows]] = -np.inf
        pool = np.sort(rows[_top(approx, min(rows.shape[0], max(rerank or RERANK_MIN, 20 * k)))])
        exact = _matvec(self._vectors.take(pool), q * self.scale)
        best = _top(exact, k)
        return pool[best], exact[best]

    def score_rows(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact scores of the given (sorted) rows."""
        return _matvec(self._vectors.take(rows), np.asarray(q, dtype=np.float32) * self.scale)

    def scan(self, q: np.ndarray) -> np.ndarray:
        """Exact scores of every row: what ``top`` approximates on a large store."""
        return _matvec(self.vectors, np.asarray(q, dtype=np.float32) * self.scale)

    def block(self, a: int, b: int) -> np.ndarray:
        """Rows a..b as float32 vectors."""
        return dequantise(self.vectors[a:b])


def _matvec(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """m @ v without BLAS: OpenBLAS's threads turned a 15 ms product into
    250 ms on this busy two-core machine (measured); numpy's own loop doesn't."""
    return np.einsum("ij,j->i", m, v)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    if k >= scores.shape[0]:
        idx = np.arange(scores.shape[0])
    else:
        idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.isfinite(scores[idx])]
    return idx[np.argsort(-scores[idx], kind="stable")]


def _load(path: Path, fp: str | None, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if not path.is_file():
        raise AlignError(f"{path}: vectors file missing; rebuild the index with `align index`")
    if fp is not None and fingerprint(path) != fp:
        raise AlignError(f"{path}: vectors file does not belong to this index (interrupted build?); rebuild with `align index`")
    try:
        arr = np.load(path, mmap_mode="r")
    except (ValueError, OSError) as exc:
        raise AlignError(f"{path}: unreadable vectors file ({exc}); rebuild with `align index`") from None
    if arr.shape != shape or arr.dtype != dtype:
        raise AlignError(f"{path}: vectors file holds {arr.shape} {arr.dtype}, the index expects {shape} {np.dtype(dtype)}; "
                         "rebuild with `align index`")
    return arr
