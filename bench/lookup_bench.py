"""Benchmark `align lookup` at scale: build an index of N synthetic bead pairs and time lookups.

Pairs are recombined from real aligned beads (MAC-Dev zh-en gold and the
Bible en-zh gold under <repo>/../shared/bench), one or two beads per pair,
with enumerated clause labels, dates and sections varied, written as bead
JSONL files (several documents) exactly as `align run` writes them, then
indexed with ``align.lookup.build_index``.

Vectors: embedding a million sentences with USE would take hours here, so the
index's vectors are *derived* from real USE vectors of a pool of real beads
(each text gets a fixed mix of two pool vectors plus noise, picked by a hash
of the text). The query side is real USE. Timings are real; similarities are
not meaningful, but the approximate (coarse + re-rank) search is compared
with an exact scan of the same vectors for its recall.

Indexing is reported as wall time and as CPU seconds by step in each of the
build's threads (the main one, the vectors', the CJK postings' and fts_other's): on a
shared machine the wall time says more about the other processes than about
the index, and the CPU figures bound what two free cores would do. With --workdir the JSONL
files are kept and reused by later runs of the same size.

    python bench/lookup_bench.py --pairs 1000000 --workdir /tmp/lookup-1m
    python bench/lookup_bench.py --pairs 1000000 --vectors none    # the text index alone
    python bench/lookup_bench.py --zh-tokenizers     # jieba vs bigram correctness
    python bench/lookup_bench.py --query-encoding    # cold USE query encoding, step by step
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from align.lookup import build_index, search  # noqa: E402
from align.lookup.store import connect, open_vectors, read_meta  # noqa: E402
from align.lookup.text import index_text, index_texts  # noqa: E402

SECTIONS = [
    ("政治合作", "Political cooperation"),
    ("安全合作", "Security cooperation"),
    ("务实合作", "Practical cooperation"),
    ("人文交流", "Cultural exchanges"),
    ("国际协作", "International collaboration"),
    ("总则", "General provisions"),
    ("附则", "Supplementary provisions"),
]
ZH_DIGITS = "零一二三四五六七八九"
MONTHS = "January February March April May June July August September October November December".split()


def zh_number(n: int) -> str:
    if n < 10:
        return ZH_DIGITS[n]
    if n < 20:
        return "十" + (ZH_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return ZH_DIGITS[n // 10] + "十" + (ZH_DIGITS[n % 10] if n % 10 else "")
    return str(n)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- real beads


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _gold_beads(folder: Path, zh_is_src: bool) -> list[tuple[str, str]]:
    out = []
    for gold in sorted((folder / "gold").glob("*.align")):
        src, tgt = _read_lines(folder / "src" / gold.stem), _read_lines(folder / "tgt" / gold.stem)
        for line in _read_lines(gold):
            a, b = line.split(":")
            si, ti = json.loads(a), json.loads(b)
            if not si or not ti:
                continue
            s_text = [src[i] for i in si]
            t_text = [tgt[i] for i in ti]
            zh, en = (s_text, t_text) if zh_is_src else (t_text, s_text)
            out.append(("".join(zh), " ".join(en)))
    return out


def real_beads(shared: Path) -> list[tuple[str, str]]:
    bench = shared / "bench"
    beads = []
    if (bench / "mac-dev").is_dir():
        beads += _gold_beads(bench / "mac-dev", zh_is_src=True)
    if (bench / "bible-en-zh").is_dir():
        beads += _gold_beads(bench / "bible-en-zh", zh_is_src=False)
    if not beads:
        sys.exit(f"no benchmark data under {bench} (need mac-dev and/or bible-en-zh); pass --shared")
    return beads


# ---------------------------------------------------------------- synthetic corpus


def write_corpus(beads: list[tuple[str, str]], pairs: int, docs: int, out: Path, seed: int = 0) -> list[Path]:
    rnd = random.Random(seed)
    per_doc = -(-pairs // docs)
    paths = []
    made = 0
    for d in range(docs):
        path = out / f"synthetic-{d:03d}.jsonl"
        paths.append(path)
        n_here = min(per_doc, pairs - made)
        zpos = epos = 0
        section = SECTIONS[0]
        clause = 0
        with open(path, "w", encoding="utf-8") as f:
            for n in range(n_here):
                if n % 60 == 0:
                    section = SECTIONS[rnd.randrange(len(SECTIONS))]
                    clause = 0
                k = 1 if rnd.random() < 0.8 else 2
                picked = [beads[rnd.randrange(len(beads))] for _ in range(k)]
                zh = "".join(p[0] for p in picked)
                en = " ".join(p[1] for p in picked)
                zcl = ecl = None
                number = None
                if rnd.random() < 0.35:
                    clause += 1
                    number = clause
                    zcl, ecl = f"（{zh_number(clause)}）", f"({clause})"
                    zh, en = zcl + zh, ecl + " " + en
                if rnd.random() < 0.25:
                    y, m, day = rnd.randrange(1949, 2030), rnd.randrange(1, 13), rnd.randrange(1, 29)
                    zh += f"（{y}年{m}月{day}日）"
                    en += f" ({MONTHS[m - 1]} {day}, {y})"
                rec = {
                    "bead": n,
                    "zh": zh,
                    "en": en,
                    "zh_spans": [[zpos, zpos + len(zh)]],
                    "en_spans": [[epos, epos + len(en)]],
                    "score": round(rnd.uniform(0.5, 1.0), 4),
                    "flags": [],
                    "section": {"zh": section[0], "en": section[1]},
                    "clause": {"zh": zcl, "en": ecl},
                    "number": number,
                }
                zpos += len(zh) + 1
                epos += len(en) + 1
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        made += n_here
    return paths


# ---------------------------------------------------------------- vectors


class DerivedEncoder:
    """Cheap vectors with the statistics of real ones: a hash of each text
    picks one of 65,536 precomputed mixes (a real USE pool vector, half of
    another, some noise) plus a small jitter row, normalised."""

    name = "bench-derived-usem3"

    def __init__(self, pool: np.ndarray, noise: float = 0.25, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        pool = pool.astype(np.float32)
        self.dim = pool.shape[1]
        m = 65536
        mix = pool[rng.integers(0, len(pool), m)] + 0.5 * pool[rng.integers(0, len(pool), m)]
        mix += noise * _unit(rng.standard_normal((m, self.dim)).astype(np.float32))
        self.mix = _unit(mix)
        self.jitter = 0.1 * _unit(rng.standard_normal((1024, self.dim)).astype(np.float32))

    seconds = cpu_seconds = 0.0  # spent making vectors: the stand-in's own cost, not the index's

    def encode(self, texts: list[str]) -> np.ndarray:
        t0, c0 = time.perf_counter(), time.thread_time()  # this thread's: the index's vectors thread runs meanwhile
        h = np.fromiter((zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in texts), dtype=np.int64, count=len(texts))
        v = self.mix[h & 0xFFFF]
        v += self.jitter[(h >> 16) & 1023]
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        self.seconds += time.perf_counter() - t0
        self.cpu_seconds += time.thread_time() - c0
        return v


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class RandomEncoder(DerivedEncoder):
    name = "bench-random"

    def __init__(self, dim: int = 512, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        super().__init__(rng.standard_normal((65536, dim)).astype(np.float32), noise=1.0, seed=seed)


class QueryEncoder:
    """Real USE for queries, under the index's encoder name."""

    def __init__(self, inner, name: str) -> None:
        self.inner, self.name = inner, name

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode(texts)


# ---------------------------------------------------------------- timing


def timed(fn, repeat: int = 1):
    best = None
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best, out


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   max {ms[-1]:7.1f} ms   (n={len(ms)})"


def query_sets(beads: list[tuple[str, str]], n: int, seed: int = 1) -> dict[str, list]:
    rnd = random.Random(seed)
    zh_words, en_words, en_phrases, en_frags, zh_subs, zh_chars = [], [], [], [], [], []
    while len(zh_words) < n or len(en_phrases) < n:
        zh, en = beads[rnd.randrange(len(beads))]
        runs = re.findall(r"[\u4e00-\u9fff]{4,}", zh)
        if runs:
            r = rnd.choice(runs)
            i = rnd.randrange(len(r) - 1)
            zh_words.append(r[i : i + rnd.choice((2, 3))])
            zh_chars.append(r[i])
            i = rnd.randrange(max(1, len(r) - 4))
            zh_subs.append(r[i : i + 4])
        words = re.findall(r"[A-Za-z]{5,}", en)
        if len(words) >= 2:
            en_words.append(rnd.choice(words))
            toks = en.split()
            i = rnd.randrange(max(1, len(toks) - 3))
            en_phrases.append(" ".join(toks[i : i + 3]))
            w = rnd.choice(words)
            en_frags.append(w[1:-1])
    return {
        "zh_apart": apart_queries(beads, n),
        "zh_words": zh_words[:n],
        "zh_chars": zh_chars[:n],
        "zh_subs": zh_subs[:n],
        "en_words": en_words[:n],
        "en_phrases": en_phrases[:n],
        "en_frags": en_frags[:n],
    }


def apart_queries(beads: list[tuple[str, str]], n: int) -> list[str]:
    """The worst case for a Chinese table without positions: three characters
    ABC whose bigrams AB and BC are both among the commonest but rarely or
    never adjacent, so most rows the index proposes fail the check on the text."""
    from collections import Counter

    runs = [run for zh, _ in beads for run in re.findall(r"[\u4e00-\u9fff]+", zh)]
    df = Counter(g for run in runs for g in {run[i : i + 2] for i in range(len(run) - 1)})
    common = [g for g, _ in df.most_common(150)]
    joined = "|".join(runs)
    found = sorted(((joined.count(ab + bc[1]), ab + bc[1]) for ab in common for bc in common if ab[1] == bc[0]))
    return [q for c, q in found if c <= 2][:n]


def bench_queries(db: Path, beads, args, query_encoder) -> None:
    qs = query_sets(beads, args.queries)
    cases = [
        ("word   zh (1 char)", "word", qs["zh_chars"]),
        ("word   zh (2-3 chars)", "word", qs["zh_words"]),
        ("word   zh (bigrams apart)", "word", qs["zh_apart"]),
        ("word   en (1 word)", "word", qs["en_words"]),
        ("word   en (3 words)", "word", qs["en_phrases"]),
        ("exact  zh (4 chars)", "exact", qs["zh_subs"]),
        ("exact  en (3 words)", "exact", qs["en_phrases"]),
        ("exact  en (word fragment)", "exact", qs["en_frags"]),
    ]
    print(f"\nlookups (search() wall time incl. opening the index; limit={args.limit}):")
    for label, mode, queries in cases:
        times, counts = [], []
        for q in queries:
            dt, hits = timed(lambda q=q: search(db, q, mode=mode, limit=args.limit), repeat=2)
            times.append(dt * 1000)
            counts.append(len(hits))
        print(f"  {label:28s} {summary(times)}   hits/query {statistics.mean(counts):.1f}")

    times = []
    for sec in SECTIONS[:5]:
        for c in (1, 5, 12):
            for clause, section in ((zh_number(c), sec[0]), (str(c), sec[1].split()[0].lower())):
                dt, hits = timed(lambda: search(db, clause=clause, section=section, limit=args.limit), repeat=2)
                times.append(dt * 1000)
    print(f"  {'clause + section':28s} {summary(times)}")
    times = []
    for pat in [r"\b(?:1[0-9]{3})\)", r"神.{0,3}说", r"Jesus\s+\w+ed"]:
        dt, hits = timed(lambda pat=pat: search(db, pat, mode="regex", limit=args.limit))
        times.append(dt * 1000)
    print(f"  {'regex (scan)':28s} {summary(times)}")
    dt, hits = timed(lambda: search(db, "zq", mode="exact", limit=args.limit))
    print(f"  {'exact, rare 2-letter fragment':28s} {dt * 1000:7.1f} ms  ({len(hits)} hits; vocabulary / scan path)")

    if query_encoder is None:
        return
    con = connect(db)
    store = open_vectors(db, read_meta(con), con)
    sem_queries = [b[1] for b in random.Random(2).sample(beads, args.queries // 2)] + [b[0] for b in random.Random(3).sample(beads, args.queries // 2)]
    enc_times, search_times, recalls, near = [], [], [], []
    for q in sem_queries:
        t0 = time.perf_counter()
        qv = query_encoder.encode([q])[0]
        enc_times.append((time.perf_counter() - t0) * 1000)
        dt, hits = timed(lambda q=q: search(db, q, mode="semantic", limit=args.limit, encoder=_Fixed(qv, query_encoder.name)), repeat=2)
        search_times.append(dt * 1000)
        if store.coarse is not None:
            exact = store.scan(qv)
            truth = np.argsort(-exact)[:10]
            rows, scores = store.top(qv, 10)
            recalls.append(len(set(truth.tolist()) & set(rows.tolist())) / 10)
            near.append(float(np.mean(scores >= exact[truth[-1]] - 0.01)))
    print(f"  {'semantic: search (vector)':28s} {summary(search_times)}")
    threads = getattr(query_encoder.inner, "threads", None)
    print(f"  {'semantic: USE query encode':28s} {summary(enc_times)}   (warm model{f', {threads} BLAS threads' if threads else ''})")
    if threads is not None and threads != 1:
        query_encoder.inner.threads = 1
        one = []
        for q in sem_queries:
            t0 = time.perf_counter()
            query_encoder.encode([q])
            one.append((time.perf_counter() - t0) * 1000)
        query_encoder.inner.threads = threads
        print(f"  {'semantic: USE query encode':28s} {summary(one)}   (warm model, 1 BLAS thread)")
    if recalls:
        print(f"  semantic (clustered, approximate) vs an exact scan of the same vectors: recall@10 {statistics.mean(recalls):.3f}"
              f" (min {min(recalls):.1f}); share of returned top-10 scoring within 0.01 of the true 10th: {statistics.mean(near):.3f}")
        t_exact = [timed(lambda q=q: np.argpartition(-store.scan(query_encoder.encode([q])[0]), 20)[:20])[0] * 1000 for q in sem_queries[:5]]
        print(f"  (exact full scan of {store.vectors.shape[0]:,} x {store.vectors.shape[1]} {store.vectors.dtype}, for comparison: {summary(t_exact)})")
    store.close()
    con.close()


_COLD_PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
marks, last = [], [time.perf_counter(), time.process_time()]
def mark(step):
    now = [time.perf_counter(), time.process_time()]
    marks.append((step, 1000 * (now[0] - last[0]), 1000 * (now[1] - last[1])))
    last[:] = now
import numpy
mark("import numpy")
from align.embed import get_encoder
mark("import align.embed")
enc = get_encoder(None, cache=False)
if hasattr(enc, "threads"):
    enc.threads = int(sys.argv[3])
net = getattr(enc, "_network", None)
if net is not None:  # align's own USE forward pass: weights and tokenizer load separately
    net = net()
    mark("load weights")
    if hasattr(net, "tokenize"):
        net.tokenize(["x"])
        mark("load tokenizer")
enc.encode([sys.argv[2]])
mark("first encode (one query)" if net is not None else "load + first encode")
warm = []
for i in range(15):
    t = [time.perf_counter(), time.process_time()]
    enc.encode([sys.argv[2] + f" {i}"])
    warm.append((1000 * (time.perf_counter() - t[0]), 1000 * (time.process_time() - t[1])))
warm.sort()
marks.append(("warm encode, median of 15", warm[7][0], sorted(w[1] for w in warm)[7]))
print(json.dumps(marks))
"""


def query_encoding(runs: int) -> None:
    """Where a cold semantic lookup's query vector costs: each run is a fresh
    process (as `align lookup --semantic` is), steps in wall / CPU ms."""
    import subprocess

    query = "Which animals will China give to Russia?"
    for threads in (1, 2):
        print(f"USE query encoding, fresh process, {threads} BLAS thread(s) (wall ms / CPU ms; median of {runs} runs):")
        results = [json.loads(subprocess.run([sys.executable, "-c", _COLD_PROBE, str(REPO), query, str(threads)], check=True,
                                             capture_output=True, text=True).stdout) for _ in range(runs)]
        for i, (step, _, _) in enumerate(results[0]):
            wall = statistics.median(r[i][1] for r in results)
            cpu = statistics.median(r[i][2] for r in results)
            print(f"  {step:32s} {wall:7.1f} / {cpu:7.1f}")


class _Fixed:
    """An encoder that returns an already computed query vector: times the search alone."""

    def __init__(self, v: np.ndarray, name: str) -> None:
        self.v, self.name = v, name

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.v[None, :]


# ---------------------------------------------------------------- jieba vs bigrams


def zh_tokenizers(shared: Path, n_queries: int) -> None:
    """Correctness of Chinese FTS5 retrieval: character bigrams vs jieba words.

    Truth is substring containment. Queries are jieba words of the texts and
    random 2-4 character substrings."""
    import sqlite3

    from align.lookup.text import word_expression, word_terms
    from align.segment import word_spans

    texts = []
    zh_js = REPO / "texts" / "zh" / "joint-statement.txt"
    if zh_js.is_file():
        texts += [p for p in zh_js.read_text(encoding="utf-8").split("\n") if p.strip()]
    for f in sorted((shared / "bench" / "mac-dev" / "src").glob("*")):
        texts += _read_lines(f)
    texts = [t for t in texts if t.strip()]
    word_spans(texts[0], "zh")  # load jieba's dictionary and numpy tables before timing
    index_text(texts[0])
    t0 = time.perf_counter()
    jieba_rows = [" ".join(t[s:e] for s, e in word_spans(t, "zh")) for t in texts]
    t_jieba = time.perf_counter() - t0
    t0 = time.perf_counter()
    bigram_rows = index_texts(texts)
    t_bigram = time.perf_counter() - t0
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE j USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    con.execute("CREATE VIRTUAL TABLE b USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    con.executemany("INSERT INTO j(rowid, x) VALUES (?, ?)", enumerate(jieba_rows))
    con.executemany("INSERT INTO b(rowid, x) VALUES (?, ?)", enumerate(bigram_rows))

    rnd = random.Random(7)
    words = sorted({t[s:e] for t in rnd.sample(texts, min(400, len(texts))) for s, e in word_spans(t, "zh") if e - s >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", t[s:e])})
    words = rnd.sample(words, min(n_queries, len(words)))
    subs = []
    while len(subs) < n_queries:
        runs = re.findall(r"[\u4e00-\u9fff]{4,}", rnd.choice(texts))
        if runs:
            r = rnd.choice(runs)
            k = rnd.choice((2, 3, 4))
            i = rnd.randrange(len(r) - k + 1)
            subs.append(r[i : i + k])

    def jieba_query(q: str) -> str:
        toks = [q[s:e] for s, e in word_spans(q, "zh")]
        return " + ".join('"' + t.replace('"', '""') + '"' for t in toks)

    print(f"Chinese retrieval, {len(texts)} texts (Joint Statement + MAC-Dev zh); truth = substring containment")
    print(f"  tokenising all texts (warm): jieba {t_jieba:.2f} s, bigrams {t_bigram:.3f} s")
    for label, queries in (("jieba words as queries", words), ("random 2-4 char substrings", subs)):
        for name, table, build in (("jieba index", "j", jieba_query), ("bigram index", "b", lambda q: word_expression(word_terms(q)))):
            tp = fp = fn = 0
            missed = []
            for q in queries:
                truth = {i for i, t in enumerate(texts) if q in t}
                got = {r for (r,) in con.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH ?", (build(q),))}
                tp += len(truth & got)
                fp += len(got - truth)
                fn += len(truth - got)
                if truth - got and len(missed) < 4:
                    missed.append(q)
            print(f"  {label:28s} {name:13s} recall {tp / max(1, tp + fn):.3f}  precision {tp / max(1, tp + fp):.3f}  (missed e.g. {', '.join(missed) or '-'})")


# ---------------------------------------------------------------- main


def make_encoders(args, beads):
    if args.vectors == "none":
        return None, None
    from align.embed import get_encoder

    use = get_encoder(None)
    if args.vectors == "derived":
        pool_beads = random.Random(5).sample(beads, min(args.pool, len(beads)))
        t0 = time.perf_counter()
        pool = use.encode([t for b in pool_beads for t in b])
        print(f"embedded a pool of {len(pool):,} real sentences with {use.name} in {time.perf_counter() - t0:.1f} s (cached after the first run)")
        encoder = DerivedEncoder(pool)
    else:
        encoder = RandomEncoder()
    print(f"index vectors: {encoder.name} ({'derived from real USE vectors, not embedded' if args.vectors == 'derived' else 'random'}); queries: real {use.name}")
    return encoder, QueryEncoder(get_encoder(None, cache=False), encoder.name)  # uncached: time real encoding


def corpus(beads, args, work: Path) -> list[Path]:
    """The synthetic JSONL files, reused from ``work`` when an earlier run made
    the same ones (a million pairs take a minute to write)."""
    manifest = work / "corpus.json"
    want = {"pairs": args.pairs, "docs": args.docs, "beads": len(beads), "version": 1}
    if manifest.is_file():
        made = json.loads(manifest.read_text())
        files = [work / f for f in made.pop("files", [])]
        if made == want and files and all(f.is_file() for f in files):
            print(f"reusing the {args.pairs:,} pairs in {work}")
            return files
    t0 = time.perf_counter()
    files = write_corpus(beads, args.pairs, args.docs, work)
    manifest.write_text(json.dumps({**want, "files": [f.name for f in files]}))
    size = sum(f.stat().st_size for f in files)
    print(f"wrote {args.pairs:,} pairs in {len(files)} JSONL files ({size / 2**20:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    return files


def build(args, beads, work: Path, db: Path, encoder) -> None:
    files = corpus(beads, args, work)
    with open(files[0], encoding="utf-8") as f:
        sample = [json.loads(next(f)) for _ in range(min(2000, args.pairs // len(files)))]
    print(f"  average pair: {statistics.mean(len(r['zh']) for r in sample):.0f} Chinese characters, "
          f"{statistics.mean(len(r['en']) for r in sample):.0f} English characters ({statistics.mean(len(r['en'].split()) for r in sample):.0f} words)")
    last = [time.perf_counter()]

    def progress(stage: str, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if now - last[0] > 30:
            last[0] = now
            print(f"  ... {done:,} beads indexed", flush=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    stats = build_index(files, db, encoder=encoder, progress=progress, vectors=encoder is not None, fresh=True)
    sizes = {p.name: p.stat().st_size for p in work.glob("align.db*")}
    t = stats.timings
    print(f"\nindexed {stats.beads:,} pairs in {stats.seconds:.1f} s = {stats.pairs_per_second:,.0f} pairs/s (wall; load average before: {load:.1f})")
    if encoder is not None:
        own = stats.seconds - encoder.seconds
        print(f"  without the stand-in encoder's own {encoder.seconds:.1f} s (real vectors come from the embedding cache or a model):"
              f" {own:.1f} s = {stats.beads / own:,.0f} pairs/s")
    cpu_keys = [k for k in t if k.startswith(("cpu_", "vectors_thread_", "postings_thread_", "fts_thread_")) or k == "batches"]
    print("  wall time by phase: " + ", ".join(f"{k} {v:.1f} s" for k, v in t.items() if k not in cpu_keys))
    totals = ("cpu_this_process", "cpu_vectors_thread", "cpu_postings_thread", "cpu_fts_thread")
    vec_cpu, post_cpu, fts_cpu = t.get("cpu_vectors_thread", 0.0), t.get("cpu_postings_thread", 0.0), t.get("cpu_fts_thread", 0.0)
    process_cpu = t.get("cpu_this_process", 0.0)
    if encoder is not None:
        process_cpu -= encoder.cpu_seconds
    main_cpu = process_cpu - vec_cpu - post_cpu - fts_cpu
    if encoder is not None:  # the step's own CPU: handing the vectors over
        t = {**t, "cpu_vectors": t.get("cpu_vectors", 0.0) - encoder.cpu_seconds}
    steps = ", ".join(f"{k[4:]} {t[k]:.1f}" for k in cpu_keys if k.startswith("cpu_") and k not in totals)

    def thread(total: float, prefix: str) -> str:
        return f"{total:.1f} (" + ", ".join(f"{k[len(prefix):]} {t[k]:.1f}" for k in cpu_keys if k.startswith(prefix)) + ")"

    without = " without the stand-in encoder" if encoder is not None else ""
    print(f"  CPU s, this process: {process_cpu:.1f}{without}: main thread {main_cpu:.1f} ({steps};"
          " the rest: findings, committing)"
          + (f", vectors thread {thread(vec_cpu, 'vectors_thread_cpu_')}" if vec_cpu else "")
          + (f", postings thread {thread(post_cpu, 'postings_thread_cpu_')}" if post_cpu else "")
          + (f", fts thread {thread(fts_cpu, 'fts_thread_cpu_')}" if fts_cpu else ""))
    bound = max(main_cpu, vec_cpu, post_cpu, fts_cpu, (main_cpu + vec_cpu + post_cpu + fts_cpu) / 2)
    if bound:
        print(f"  -> at best {stats.beads / bound:,.0f} pairs/s on two free cores (the busiest thread's CPU, or half the total)")
    print("  files: " + ", ".join(f"{k} {v / 2**20:,.0f} MB" for k, v in sorted(sizes.items())))
    tables = table_sizes(db)
    if tables:
        print("  in align.db: " + ", ".join(f"{k} {v / 2**20:,.0f} MB" for k, v in tables.items()))
    print(f"  peak RSS after build: {rss_mb():,.0f} MB")


def table_sizes(db: Path) -> dict[str, int]:
    """Bytes by table, its indexes and (for FTS5) its shadow tables; {} when
    this SQLite lacks the dbstat table."""
    import sqlite3

    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT s.name, m.tbl_name, sum(s.pgsize) FROM dbstat s LEFT JOIN sqlite_schema m ON m.name = s.name GROUP BY s.name").fetchall()
    except sqlite3.Error:
        return {}
    finally:
        con.close()
    out: dict[str, int] = {}
    for name, table, size in rows:
        key = re.sub(r"_(data|idx|config|docsize|content)$", "", table or name)
        out[key] = out.get(key, 0) + size
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=100_000, help="synthetic bead pairs to index (default 100000)")
    ap.add_argument("--docs", type=int, default=20, help="number of JSONL documents to spread them over")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="shared data folder (default <repo>/../shared)")
    ap.add_argument("--workdir", type=Path, default=None, help="where to write the JSONL and the index (default: a temp dir, removed)")
    ap.add_argument("--vectors", choices=("derived", "random", "none"), default="derived",
                    help="derived: mixes of real USE vectors of a pool of beads (default); random; none: no semantic index")
    ap.add_argument("--pool", type=int, default=1000, help="real beads embedded with USE for derived vectors")
    ap.add_argument("--queries", type=int, default=30, help="queries per lookup kind")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--zh-tokenizers", action="store_true", help="only compare jieba and bigram Chinese indexing")
    ap.add_argument("--query-encoding", action="store_true", help="only time a cold USE query encoding, step by step, in fresh processes")
    ap.add_argument("--reuse-index", action="store_true", help="with --workdir: time lookups on the index already there")
    args = ap.parse_args()

    if args.zh_tokenizers:
        zh_tokenizers(args.shared, args.queries * 10)
        return
    if args.query_encoding:
        query_encoding(max(3, args.queries // 6))
        return

    beads = real_beads(args.shared)
    print(f"{len(beads):,} real zh-en beads from {args.shared / 'bench'}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="lookup-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        db = work / "align.db"
        encoder, query_encoder = make_encoders(args, beads)
        if args.reuse_index and db.exists():
            print(f"reusing {db}")
        else:
            build(args, beads, work, db, encoder)
        bench_queries(db, beads, args, query_encoder)
        print(f"\npeak RSS: {rss_mb():,.0f} MB (includes memory-mapped vector pages)")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
