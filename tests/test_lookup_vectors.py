"""align.lookup's vector store: int16 storage, the build's vectors thread
(``VectorSink``) and its coarse layer, and indexes whose vectors predate
the int16 format.

The texts are the Joint Statement's lines, embedded by the test suite's
hashing stand-in for a sentence encoder (``HashEncoder``).
"""

from __future__ import annotations

import errno
import sqlite3
import threading

import numpy as np
import pytest

from align.lookup import build_index, search
from align.lookup import store as store_mod
from align.lookup import vectors as vectors_mod
from align.model import AlignError

from test_lookup import EN_PATH, SELF_SCORE_TOLERANCE, ZH_PATH, HashEncoder, bead_records, write_jsonl, write_tmx


def _lines() -> list[str]:
    text = ZH_PATH.read_text(encoding="utf-8") + EN_PATH.read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line.strip()]


@pytest.fixture(scope="module")
def line_vectors() -> np.ndarray:
    return HashEncoder().encode(_lines())


def _vector_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "align-index-vectors"]


def test_quantised_vectors_are_within_half_a_step_and_saturate(line_vectors):
    stored = vectors_mod.quantise(line_vectors)
    assert stored.dtype == np.int16
    back = vectors_mod.dequantise(stored)
    assert np.abs(back - line_vectors).max() <= 0.5 / vectors_mod.QUANT + 1e-7
    self_scores = np.einsum("ij,ij->i", back, line_vectors)
    assert np.abs(self_scores - 1).max() <= SELF_SCORE_TOLERANCE
    # a component beyond [-1, 1] (not a unit vector) saturates instead of wrapping round
    over = vectors_mod.quantise(np.array([[1.5, -2.0, 1.0, -1.0]], dtype=np.float32))
    assert over.tolist() == [[32767, -32767, 32767, -32767]]
    # float32 rows of an older index pass through
    assert vectors_mod.dequantise(line_vectors) is line_vectors


def _kept_energy(proj: np.ndarray, x: np.ndarray) -> float:
    return float(((x @ proj) ** 2).sum() / (x**2).sum())


@pytest.mark.parametrize("refit", [True, False])
def test_sink_refits_the_projection_when_the_first_rows_are_not_typical(tmp_path, line_vectors, refit, monkeypatch):
    """The coarse projection is fitted on the first rows; when the later rows
    live elsewhere (here: the first half of the stream uses the first 32
    dimensions, the rest the other 32), the build sees that the projection
    keeps too little of their energy and fits it again on all rows."""
    if not refit:
        monkeypatch.setattr(vectors_mod, "REFIT_BELOW", 0.0)
    n, half = line_vectors.shape[0], line_vectors.shape[1] // 2
    first = np.zeros_like(line_vectors)
    first[:, :half] = line_vectors[:, :half]
    later = np.zeros_like(line_vectors)
    later[:, half:] = line_vectors[:, half:]
    rows = vectors_mod._normalise(np.concatenate([first, later])).astype(np.float32)
    plan = vectors_mod.CoarsePlan(tmp_path / "c.npy", tmp_path / "r.npy", dim=16, min_rows=4, fit_rows=n // 2)
    sink = vectors_mod.VectorSink(tmp_path / "v.npy", plan)
    for i in range(0, rows.shape[0], 64):
        sink.append(rows[i : i + 64])
    sink.close()
    meta = sink.result()
    proj = np.frombuffer(meta["coarse_proj"], dtype="<f4").reshape(rows.shape[1], 16)
    assert ("refit" in sink.cpu) == refit
    kept_all, kept_later = _kept_energy(proj, rows), _kept_energy(proj, rows[n:])
    if refit:  # 16 of 64 dimensions, fitted on both halves
        assert kept_all > 0.45 and kept_later > 0.3
    else:  # fitted on the first rows only: the later ones are all but lost
        assert kept_later < 0.01
    stored = np.load(tmp_path / "v.npy")
    assert stored.dtype == np.int16 and np.abs(vectors_mod.dequantise(stored) - rows).max() <= 0.5 / vectors_mod.QUANT + 1e-7
    coarse, order = np.load(tmp_path / "c.npy"), np.load(tmp_path / "r.npy")
    assert sorted(order.tolist()) == list(range(rows.shape[0]))  # every row once, grouped by cluster
    assert np.abs(vectors_mod.dequantise(coarse) - rows[order] @ proj).max() < 1e-4


@pytest.mark.parametrize("fit_rows", [4, vectors_mod.FIT_ROWS])
def test_coarse_layer_made_while_streaming_or_at_the_end(tmp_path, monkeypatch, fit_rows):
    """Force the coarse layer on the small index, with the projection fitted
    on the first 4 rows (then every later batch is projected as it arrives)
    or on all rows at the end; probing every cluster is exact again."""
    monkeypatch.setattr(store_mod, "COARSE_MIN_ROWS", 4)
    monkeypatch.setattr(store_mod, "COARSE_DIM", 16)
    monkeypatch.setattr(vectors_mod, "FIT_ROWS", fit_rows)
    records = bead_records()
    db = tmp_path / "coarse.db"
    build_index([write_jsonl(tmp_path / "joint-statement.jsonl", records)], db, encoder=HashEncoder(), batch=2)
    assert db.with_name("coarse.db.coarse.npy").is_file()
    monkeypatch.setattr(vectors_mod, "PROBE_FRACTION", 1.0)
    for r in records:
        for side, text in ((0, r["zh"]), (1, r["en"])):
            top = search(db, text, mode="semantic", encoder=HashEncoder(), limit=1)[0]
            assert (top.bead, top.side) == (r["bead"], side)
            assert top.score == pytest.approx(1.0, abs=SELF_SCORE_TOLERANCE)


def test_a_failure_in_the_vectors_thread_is_an_error_and_leaves_the_index_alone(tmp_path, monkeypatch):
    records = bead_records()
    jsonl = write_jsonl(tmp_path / "joint-statement.jsonl", records)
    db = tmp_path / "align.db"
    build_index([jsonl], db, encoder=HashEncoder())
    before = {p.name: p.read_bytes() for p in tmp_path.glob("align.db*")}
    real_append = vectors_mod.VectorWriter.append

    def full_disk(self, block):
        if self.rows >= 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_append(self, block)

    monkeypatch.setattr(vectors_mod.VectorWriter, "append", full_disk)
    with pytest.raises(AlignError, match="cannot write the index: No space left on device"):
        build_index([jsonl], db, encoder=HashEncoder(), batch=2)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("align.db*")} == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".spill"))]
    assert not _vector_threads()
    monkeypatch.undo()
    assert search(db, records[7]["en"], mode="semantic", encoder=HashEncoder(), limit=1)[0].bead == 7


def test_a_build_reads_the_float32_vectors_of_a_format_3_index(tmp_path):
    """Format 3 stored float32 vectors (and no 'vectors_dtype'): a lookup asks
    for a rebuild, and a build carries its documents over with their vectors."""
    records = bead_records()
    db = tmp_path / "old.db"
    build_index([write_jsonl(tmp_path / "joint-statement.jsonl", records)], db, encoder=HashEncoder())
    vec = db.with_name("old.db.vectors.npy")
    np.save(vec, vectors_mod.dequantise(np.load(vec)))
    con = sqlite3.connect(db)
    con.execute("DELETE FROM meta WHERE key = 'vectors_dtype'")
    con.execute("UPDATE meta SET value = ? WHERE key = 'vectors_fp'", (vectors_mod.fingerprint(vec),))
    con.execute("PRAGMA user_version = 3")
    con.commit()
    con.close()
    with pytest.raises(AlignError, match="older version.*rebuild it with `align index`"):
        search(db, records[0]["en"], mode="semantic", encoder=HashEncoder())
    stats = build_index([write_tmx(tmp_path / "memory.tmx", records[5:])], db, encoder=HashEncoder())
    assert stats.kept == ("joint-statement",) and stats.vectors == 2 * len(records[5:])  # kept vectors not re-embedded
    assert np.load(vec).dtype == np.int16
    for r in records:
        top = search(db, r["en"], mode="semantic", encoder=HashEncoder(), document="joint-statement", limit=1)[0]
        assert (top.bead, top.side) == (r["bead"], 1)
        assert top.score == pytest.approx(1.0, abs=SELF_SCORE_TOLERANCE)
