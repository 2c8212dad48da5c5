"""Sentence vectors next to the index: one float32 row per bead side, memory-mapped.

Row ``2 * bead_id + side`` holds the vector of that side (zeros for an empty
side). Small stores are searched by one exact matrix-vector product. A full
scan of 2 million 512-d rows reads 4 GB (measured 0.5-1.2 s here), over the
300 ms budget, so large stores also get an inverted-file (IVF) layer:

* a *coarse* copy of every row, projected on the top 96 principal directions
  of the data, stored grouped by cluster (``<db>.coarse.npy``);
* sqrt(n) cluster centroids (spherical k-means on a sample, in the projected
  space; in the index's meta table) and, per coarse row, the vector row it
  stands for (``<db>.coarse-rows.npy``). The clusters are found in two
  levels (about sqrt(sqrt(n)) groups, each split again), so that a row is
  assigned by comparing it with the groups and then with the clusters of its
  two nearest groups, not with every cluster: the flat assignment cost 20 s
  of CPU at a million pairs, the whole clustering now about 14 s.

A query scores the centroids, scans the coarse rows of the nearest 1/12 of
the clusters, and re-scores the best 4,000 rows exactly with the full
vectors. That is approximate. At a million pairs (40 real USE queries, the
benchmark's derived vectors) 99.7% of the returned top 10 scored at least as
high as the exact 10th best, in 37 ms median; 128 dimensions and 2,000 rows
re-scored gave 97.5% in 34 ms, 64 and 4,000 95.5% in 35 ms.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from align.model import AlignError

COARSE_MIN_ROWS = 200_000  # below this an exact scan is fast enough
COARSE_DIM = 96
RERANK_MIN = 4000  # rows re-scored exactly after the coarse pass
PROBE_FRACTION = 1 / 12  # share of clusters scanned per query
COARSE_RAM_BYTES = 2 << 30  # larger coarse copies are staged in a temp file while clustering


def vectors_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".vectors.npy")


def coarse_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".coarse.npy")


def coarse_rows_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".coarse-rows.npy")


def _header(rows: int, dim: int) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (rows, dim)})
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


class VectorWriter:
    """Appends rows to a .npy whose row count is only known at the end.

    numpy pads .npy headers so the shape can grow in place; we write the
    header for 0 rows first and rewrite it (same length) when closing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dim: int | None = None
        self.rows = 0
        self._f = open(path, "wb")

    def append(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype="<f4")
        if block.ndim != 2:
            raise ValueError("vector block must be 2-d")
        if self.dim is None:
            self.dim = int(block.shape[1])
            self._f.write(_header(0, self.dim))
        elif block.shape[1] != self.dim:
            raise AlignError(f"encoder returned {block.shape[1]}-d vectors after {self.dim}-d ones")
        self._f.write(memoryview(block).cast("B"))  # no copy, unlike tobytes()
        self.rows += block.shape[0]

    def close(self) -> None:
        if self.dim is None:
            self.dim = 0
            self._f.write(_header(0, 0))
        head = _header(self.rows, self.dim)
        if len(head) != len(_header(0, self.dim)):  # numpy's padding makes this impossible
            raise RuntimeError("npy header grew; cannot rewrite in place")
        self._f.seek(0)
        self._f.write(head)
        self._f.close()  # no fsync: the index stores this file's fingerprint and refuses a torn copy

    def abort(self) -> None:
        if not self._f.closed:
            self._f.close()


def projection(vectors: np.ndarray, dim: int, sample: int = 50_000, seed: int = 0) -> np.ndarray:
    """(d, dim) matrix of the top principal directions (uncentred: it is dot
    products we want to preserve, not variance around the mean)."""
    s = _sample(vectors, sample, seed).astype(np.float64)
    _, vecs = np.linalg.eigh(s.T @ s)
    return np.ascontiguousarray(vecs[:, ::-1][:, :dim], dtype=np.float32)


def _sample(vectors: np.ndarray, size: int, seed: int) -> np.ndarray:
    n = vectors.shape[0]
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(n, size), replace=False))
    s = np.asarray(vectors[idx], dtype=np.float32)
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


def build_coarse(vectors: np.ndarray, path: Path, rows_path: Path, dim: int = COARSE_DIM, lists: int | None = None,
                 chunk: int = 131072) -> dict[str, bytes]:
    """Write the clustered coarse copy to ``path`` and, for each of its rows,
    the vector row it comes from to ``rows_path``; return the meta blobs.

    One BLAS thread: on this busy two-core machine OpenBLAS's threads made
    the clustering 4x dearer in CPU and 4x slower (measured); the other core
    is merging the full-text index meanwhile anyway."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _build_coarse(vectors, path, rows_path, dim, lists, chunk)


def _build_coarse(vectors: np.ndarray, path: Path, rows_path: Path, dim: int, lists: int | None, chunk: int) -> dict[str, bytes]:
    n = vectors.shape[0]
    proj = projection(vectors, dim)
    lists = lists or int(min(4096, max(16, round(np.sqrt(n)))))
    sample = _sample(vectors, max(64 * lists, 50_000), 1) @ proj
    clusters = TwoLevelClusters(sample, min(lists, sample.shape[0]))
    centroids = clusters.centroids
    lists = centroids.shape[0]
    # the projected rows in row order, before they are grouped by cluster
    spill = n * dim * 4 > COARSE_RAM_BYTES
    tmp = path.with_name(path.name + ".rows")
    try:
        projected = np.lib.format.open_memmap(tmp, mode="w+", dtype="<f4", shape=(n, dim)) if spill else np.empty((n, dim), np.float32)
        assign = np.empty(n, dtype=np.int32)
        for i in range(0, n, chunk):
            c = np.asarray(vectors[i : i + chunk]) @ proj
            projected[i : i + chunk] = c
            assign[i : i + chunk] = clusters.assign(c)
        perm = np.argsort(assign, kind="stable").astype(np.int32)
        offsets = np.concatenate([[0], np.cumsum(np.bincount(assign, minlength=lists))]).astype(np.int64)
        with open(path, "wb") as f:  # written in order: plain writes, no dirty memory map to flush
            f.write(_header(n, dim))
            for i in range(0, n, chunk):
                idx = perm[i : i + chunk]
                if spill:
                    order = np.argsort(idx)  # read the row-order file sequentially
                    block = np.empty((idx.shape[0], dim), dtype=np.float32)
                    block[order] = projected[idx[order]]
                else:
                    block = projected[idx]
                f.write(memoryview(block).cast("B"))
        del projected
    finally:
        _unlink_quietly(tmp)
    with open(rows_path, "wb") as f:  # a file object: np.save would append ".npy" to a name
        np.save(f, perm.astype("<i4"), allow_pickle=False)
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
        self.vectors = _load(vpath, meta.get("vectors_fp"), (rows, dim), np.float32)
        self._vectors = _Rows(vpath, self.vectors)
        self.coarse = None
        if meta.get("coarse_fp") and blobs is not None:
            self.proj = np.frombuffer(blobs("coarse_proj"), dtype="<f4").reshape(dim, -1)
            self.centroids = np.frombuffer(blobs("ivf_centroids"), dtype="<f4").reshape(-1, self.proj.shape[1])
            self.offsets = np.frombuffer(blobs("ivf_offsets"), dtype="<i8")
            cpath, rpath = coarse_path(db_path), coarse_rows_path(db_path)
            self.coarse = _load(cpath, meta["coarse_fp"], (rows, self.proj.shape[1]), np.float32)
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
            scores = _matvec(self.vectors, q)
            if allowed is not None:
                scores[~allowed] = -np.inf
            rows = _top(scores, k)
            return rows, scores[rows]
        qc = _matvec(self.proj.T, q)
        lists = self.centroids.shape[0]
        nearest = np.sort(_top(_matvec(self.centroids, qc), max(1, int(np.ceil(lists * probe)))))
        spans = [(int(self.offsets[c]), int(self.offsets[c + 1])) for c in nearest.tolist()]
        approx = np.concatenate([_matvec(self._coarse.range(a, b), qc) for a, b in spans])
        rows = np.concatenate([self._rows.range(a, b) for a, b in spans]).astype(np.int64)
        if allowed is not None:
            approx[~allowed[rows]] = -np.inf
        pool = np.sort(rows[_top(approx, min(rows.shape[0], max(rerank or RERANK_MIN, 20 * k)))])
        exact = _matvec(self._vectors.take(pool), q)
        best = _top(exact, k)
        return pool[best], exact[best]

    def score_rows(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact scores of the given (sorted) rows."""
        return _matvec(self._vectors.take(rows), np.asarray(q, dtype=np.float32))


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
        raise AlignError(f"{path}: vectors file has shape {arr.shape}, the index expects {shape}; rebuild with `align index`")
    return arr
