"""On-disk embedding cache, so a re-run of the same texts embeds nothing.

SQLite gives atomic, concurrent-safe writes for free; each vector carries a
checksum so a damaged entry is recomputed instead of poisoning an alignment.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import zlib
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import numpy as np

from .base import WrappedEncoder

SCHEMA = 1


def default_cache_dir() -> Path:
    """$ALIGN_CACHE_DIR, else the XDG cache directory."""
    env = os.environ.get("ALIGN_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "align"


def _key(model: str, text: str) -> bytes:
    return hashlib.sha256(f"{model}\x00{text}".encode("utf-8", "surrogatepass")).digest()[:20]


class CachedEncoder(WrappedEncoder):
    """Wraps an encoder; only texts missing from the cache reach it."""

    def __init__(self, inner, cache_dir: Path | None = None) -> None:
        super().__init__(inner)
        self.path = (cache_dir or default_cache_dir()) / "embeddings.sqlite"
        self.hits = 0
        self.repaired = 0
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None:
            for _attempt in range(2):
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    db = sqlite3.connect(self.path, timeout=30)
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, dim INTEGER, data BLOB, crc INTEGER)"
                    )
                    self._db = db
                    break
                except (sqlite3.OperationalError, OSError):
                    # Locked, read-only or missing: a cache problem must never stop an alignment.
                    return None
                except sqlite3.DatabaseError:
                    # Not a database any more ("file is not a database"): start a new one.
                    self._quarantine()
        return self._db

    def _quarantine(self) -> None:
        """Move a damaged cache file aside (kept for inspection) so a fresh one replaces it.

        Otherwise every later run would silently embed everything again.
        """
        if self._db is not None:
            with suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with suppress(OSError):
            os.replace(self.path, self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{os.urandom(3).hex()}"))
        for suffix in ("-wal", "-shm"):
            with suppress(OSError):
                os.unlink(str(self.path) + suffix)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.state_dim:
            # One cache entry per sentence serves both its vector and its runs.
            return self.inner.vectors_from_states(self.encode_states(texts))
        return self._cached(list(texts), self.name, self.dim, self.inner.encode)

    def encode_states(self, texts: Sequence[str]) -> np.ndarray:
        return self._cached(list(texts), self.name + "#state", self.state_dim, self.inner.encode_states)

    def _cached(self, texts: list[str], tag: str, dim: int, compute) -> np.ndarray:
        keys = [_key(tag, t) for t in texts]
        found = self._fetch(set(keys), dim)
        missing = sorted({t for t, k in zip(texts, keys) if k not in found})
        if missing:
            fresh = {_key(tag, t): v for t, v in zip(missing, compute(missing))}
            self._store(fresh)
            found.update(fresh)
        self.hits += len(texts) - len(missing)
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _fetch(self, keys: set[bytes], dim: int) -> dict[bytes, np.ndarray]:
        db = self._conn()
        out: dict[bytes, np.ndarray] = {}
        if db is None or not keys:
            return out
        key_list = list(keys)
        try:
            for i in range(0, len(key_list), 500):
                chunk = key_list[i : i + 500]
                rows = db.execute(
                    f"SELECT key, dim, data, crc FROM vec WHERE key IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
                for key, stored, data, crc in rows:
                    vec = self._valid(stored, data, crc, dim)
                    if vec is None:
                        self.repaired += 1  # recomputed below and stored over the bad row
                        continue
                    out[key] = vec
        except sqlite3.OperationalError:
            return {}
        except sqlite3.DatabaseError:  # "database disk image is malformed"
            self._quarantine()
            return {}
        return out

    @staticmethod
    def _valid(dim, data, crc, expected: int) -> np.ndarray | None:
        """The stored vector, or None if the row is damaged in any way.

        SQLite is dynamically typed, so a damaged row may hold NULLs or text
        where blobs and integers belong; all of it must read as "recompute".
        """
        if not (isinstance(data, bytes) and isinstance(dim, int) and isinstance(crc, int)):
            return None
        if dim != expected or len(data) != 4 * dim or zlib.crc32(data) != crc:
            return None
        vec = np.frombuffer(data, dtype=np.float32)
        return vec if np.isfinite(vec).all() else None

    def _store(self, vecs: dict[bytes, np.ndarray]) -> None:
        db = self._conn()
        if db is None:
            return
        rows = []
        for key, v in vecs.items():
            data = np.ascontiguousarray(v, dtype=np.float32).tobytes()
            rows.append((key, v.shape[0], data, zlib.crc32(data)))
        try:
            with db:
                db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)", rows)
        except sqlite3.DatabaseError:
            pass  # a read-only or full disk only costs the cache, never the run
