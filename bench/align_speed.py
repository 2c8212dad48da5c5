"""Time one ``aligner.align_evidence`` call, the search alone, on a long pair.

Embeddings are computed once (from the on-disk embedding cache, in a child
process so that the encoder's memory does not count) and kept in a ``.npz``
under ``--vectors-dir``; the measuring process then builds the Evidence with
``pipeline.build_evidence`` (timed apart) and times ``align_evidence``: wall seconds,
CPU seconds (``process_time``: on a shared machine wall time is noisy) and
peak RSS of the process. ``--save``/``--compare`` pickle the bead list so a
change to the search can be checked to leave its output untouched.

    python bench/align_speed.py --n 30000              # Bible, first 30k English lines
    python bench/align_speed.py --n 5000 --profile     # plus a cProfile summary
    python bench/align_speed.py --corpus mac-dev --save /tmp/mac.pkl
    python bench/align_speed.py --corpus mac-dev --compare /tmp/mac.pkl

Vectors come from ``pipeline.embed_side`` as in ``align run`` (sentence
halves where the language pair's weights use them); pair vectors are kept
(``--pairs all``) or dropped (``--pairs none``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pickle
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from align import aligner as A  # noqa: E402
from align.evaluate import read_align  # noqa: E402
from align.pipeline import build_evidence, embed_gloss, embed_side, text_evidence  # noqa: E402
from align.read import document_from_text  # noqa: E402
from align.segment import segment_lines  # noqa: E402


def bible_docs(shared: Path, size: int) -> list[tuple[str, str, str, str, str]]:
    """The first ``size`` English lines cut at a gold-bead boundary (as bench/bible.py)."""
    bench = shared / "bench" / "bible-en-zh"
    n_src = n_tgt = 0
    for src, tgt in read_align(bench / "gold" / "006.align"):
        if src and max(src) >= size:
            break
        n_src = max([n_src] + [i + 1 for i in src])
        n_tgt = max([n_tgt] + [j + 1 for j in tgt])
    src = (bench / "src" / "006").read_text(encoding="utf-8").splitlines()[:n_src]
    tgt = (bench / "tgt" / "006").read_text(encoding="utf-8").splitlines()[:n_tgt]
    return [(f"bible-{size}", "".join(x + "\n" for x in src), "".join(x + "\n" for x in tgt), "en", "zh")]


def mac_docs(shared: Path) -> list[tuple[str, str, str, str, str]]:
    bench = shared / "bench" / "mac-dev"
    return [(f"mac-{p.name}", p.read_text(encoding="utf-8"), (bench / "tgt" / p.name).read_text(encoding="utf-8"), "zh", "en")
            for p in sorted((bench / "src").iterdir())]


def segments(text: str, lang: str):
    return segment_lines(document_from_text(text, lang))


def embed_all(docs, out_dir: Path, pairs: bool) -> None:
    """Child-process job: embed every document and store the vectors."""
    from align.embed import get_encoder

    encoder = get_encoder()
    for name, st, tt, sl, tl in docs:
        path = out_dir / f"{name}-{'pairs' if pairs else 'nopairs'}-halves.npz"
        if path.exists():
            continue
        s, t = segments(st, sl), segments(tt, tl)
        halves = A.uses_halves(sl, tl)
        (sv, sp, sh), (tv, tp, th) = embed_side(encoder, s, sl, halves=halves), embed_side(encoder, t, tl, halves=halves)
        arrays = {"src_vecs": sv, "tgt_vecs": tv}
        if sh is not None and th is not None:
            arrays.update(src_halves=sh, tgt_halves=th)
        for side, key in zip(text_evidence(s, t, sl, tl), ("src_gloss", "tgt_gloss")):
            gloss = embed_gloss(encoder, side)
            if gloss is not None:
                arrays[key] = gloss
        if pairs and sp is not None and tp is not None:
            arrays.update(src_pairs=sp, tgt_pairs=tp)
        np.savez(path, **arrays)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--corpus", choices=("bible", "mac-dev"), default="bible")
    ap.add_argument("--n", type=int, default=30000, help="Bible: number of English lines (5000, 10000, 20000, 30000)")
    ap.add_argument("--pairs", choices=("all", "none"), default="all")
    ap.add_argument("--profile", action="store_true", help="print a cProfile summary of the align_evidence call")
    ap.add_argument("--save", type=Path, help="pickle the beads to this file")
    ap.add_argument("--compare", type=Path, help="check the beads against this pickle")
    ap.add_argument("--vectors-dir", type=Path, default=Path("/tmp/align_speed"))
    ap.add_argument("--embed-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not (args.shared / "bench").is_dir():
        sys.exit(f"align_speed: {args.shared / 'bench'} not found (pass --shared)")
    docs = bible_docs(args.shared, args.n) if args.corpus == "bible" else mac_docs(args.shared)
    pairs = args.pairs == "all"
    args.vectors_dir.mkdir(parents=True, exist_ok=True)
    if args.embed_only:
        embed_all(docs, args.vectors_dir, pairs)
        return
    if not all((args.vectors_dir / f"{d[0]}-{'pairs' if pairs else 'nopairs'}-halves.npz").exists() for d in docs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--embed-only", *sys.argv[1:]], check=True)
        print(f"embedding (child process, cache-backed): {time.perf_counter() - t0:.1f} s", flush=True)

    results = {}
    total_wall = total_cpu = 0.0
    for name, st, tt, sl, tl in docs:
        s, t = segments(st, sl), segments(tt, tl)
        vec = np.load(args.vectors_dir / f"{name}-{'pairs' if pairs else 'nopairs'}-halves.npz")
        t0 = time.perf_counter()
        ev = build_evidence(s, t, vec["src_vecs"], vec["tgt_vecs"], sl, tl, True,
                            *(vec[k] if k in vec else None for k in ("src_pairs", "tgt_pairs", "src_gloss", "tgt_gloss")),
                            src_halves=vec.get("src_halves"), tgt_halves=vec.get("tgt_halves"))
        ev_s = time.perf_counter() - t0
        rss0 = rss_mb()
        prof = cProfile.Profile(time.process_time) if args.profile else None  # CPU time: the machine is shared
        w0, c0 = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        al = A.align_evidence(ev, sl, tl)
        if prof:
            prof.disable()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        total_wall += wall
        total_cpu += cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{name}: {len(s)} x {len(t)} sentences; build_evidence {ev_s:.1f} s; align_evidence wall {wall:.2f} s, "
              f"CPU {cpu:.2f} s; RSS before {rss0:.0f} MB, peak RSS {peak:.0f} MB; {len(al.beads)} beads", flush=True)
        results[name] = [(b.src, b.tgt, b.score, b.flags) for b in al.beads]
        if prof:
            out = io.StringIO()
            st_ = pstats.Stats(prof, stream=out).strip_dirs()
            st_.sort_stats("cumulative").print_stats(25)
            st_.sort_stats("tottime").print_stats(15)
            print(out.getvalue())
    if len(docs) > 1:
        print(f"all: align_evidence wall {total_wall:.2f} s, CPU {total_cpu:.2f} s")
    if args.save:
        args.save.write_bytes(pickle.dumps(results))
        print(f"saved beads to {args.save}")
    if args.compare:
        old = pickle.loads(args.compare.read_bytes())
        ok = True
        for name, beads in results.items():
            ref = old.get(name)
            if ref is None:
                print(f"{name}: not in {args.compare}")
                ok = False
                continue
            same = [(b[0], b[1], b[3]) for b in beads] == [(b[0], b[1], b[3]) for b in ref]
            diff = max((abs(x[2] - y[2]) for x, y in zip(beads, ref)), default=0.0) if same else float("nan")
            print(f"{name}: beads {'IDENTICAL' if same else 'DIFFER'} ({len(beads)} vs {len(ref)}); max score difference {diff:.2e}")
            ok &= same
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
