"""Sentence vectors next to the index: one float32 row per bead side, memory-mapped.

Row ``2 * bead_id + side`` holds the vector of that side (zeros for an empty
side). A full scan of 2 million 512-d rows reads 4 GB, which is over the
300 ms budget, so large stores also keep a *coarse* copy: every row projected
on the top principal directions of the data (128 of 512 dims). A query scans
the coarse copy, then re-scores the best few thousand rows exactly; the
benchmark measures how often that misses the exact top hits.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np

from align.model import AlignError

COARSE_MIN_ROWS = 200_000  # below this an exact scan is fast enough
COARSE_DIM = 128
RERANK_MIN = 4000  # rows re-scored exactly after the coarse pass


def vectors_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".vectors.npy")


def coarse_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".coarse.npy")


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
        self._f.write(block.tobytes())
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
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()

    def abort(self) -> None:
        if not self._f.closed:
            self._f.close()


def projection(vectors: np.ndarray, dim: int, sample: int = 50_000, seed: int = 0) -> np.ndarray:
    """(d, dim) matrix of the top principal directions (uncentred: it is dot
    products we want to preserve, not variance around the mean)."""
    n = vectors.shape[0]
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(n, sample), replace=False))
    s = np.asarray(vectors[idx], dtype=np.float64)
    s = s[np.any(s != 0, axis=1)]
    m = s.T @ s
    _, vecs = np.linalg.eigh(m)
    return np.ascontiguousarray(vecs[:, ::-1][:, :dim], dtype=np.float32)


def write_coarse(vectors: np.ndarray, proj: np.ndarray, path: Path, chunk: int = 131072) -> None:
    out = np.lib.format.open_memmap(path, mode="w+", dtype="<f4", shape=(vectors.shape[0], proj.shape[1]))
    for i in range(0, vectors.shape[0], chunk):
        out[i : i + chunk] = np.asarray(vectors[i : i + chunk]) @ proj
    out.flush()
    del out


class VectorStore:
    """Read side: memory-maps the files checked against the index's meta."""

    def __init__(self, db_path: Path, meta: dict) -> None:
        self.encoder = meta.get("vectors_encoder")
        vpath = vectors_path(db_path)
        self.vectors = _load(vpath, meta.get("vectors_fp"), int(meta["vectors_rows"]), int(meta["vectors_dim"]))
        self.coarse = None
        self.proj = None
        if meta.get("coarse_fp"):
            self.proj = np.frombuffer(meta["coarse_proj"], dtype="<f4").reshape(int(meta["vectors_dim"]), -1)
            self.coarse = _load(coarse_path(db_path), meta["coarse_fp"], int(meta["vectors_rows"]), self.proj.shape[1])

    def top(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None, rerank: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the ``k`` best rows, best first."""
        q = np.asarray(q, dtype=np.float32)
        n = self.vectors.shape[0]
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self.coarse is None:
            scores = self.vectors @ q
            if allowed is not None:
                scores[~allowed] = -np.inf
            rows = _top(scores, k)
            return rows, scores[rows]
        approx = self.coarse @ (q @ self.proj)
        if allowed is not None:
            approx[~allowed] = -np.inf
        pool = np.sort(_top(approx, min(n, max(rerank or RERANK_MIN, 20 * k))))
        exact = np.asarray(self.vectors[pool]) @ q
        if allowed is not None:
            exact[~allowed[pool]] = -np.inf
        best = _top(exact, k)
        return pool[best], exact[best]

    def score_rows(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.vectors[np.sort(rows)]) @ np.asarray(q, dtype=np.float32)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    if k >= scores.shape[0]:
        idx = np.arange(scores.shape[0])
    else:
        idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.isfinite(scores[idx])]
    return idx[np.argsort(-scores[idx], kind="stable")]


def _load(path: Path, fp: str | None, rows: int, dim: int) -> np.ndarray:
    if not path.is_file():
        raise AlignError(f"{path}: vectors file missing; rebuild the index with `align index`")
    if fp is not None and fingerprint(path) != fp:
        raise AlignError(f"{path}: vectors file does not belong to this index (interrupted build?); rebuild with `align index`")
    try:
        arr = np.load(path, mmap_mode="r")
    except (ValueError, OSError) as exc:
        raise AlignError(f"{path}: unreadable vectors file ({exc}); rebuild with `align index`") from None
    if arr.shape != (rows, dim) or arr.dtype != np.float32:
        raise AlignError(f"{path}: vectors file has shape {arr.shape}, the index expects ({rows}, {dim}); rebuild with `align index`")
    return arr
