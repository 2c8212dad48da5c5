"""Time `align batch` on N copies of the Joint Statement, with --jobs 1 vs 2 (and Dask).

Each configuration runs in a fresh subprocess, into a fresh output folder,
with the same inputs. By default every pair embeds from scratch (no
embedding cache: identical copies would otherwise be served from the cache
after the first), so the figures are those of N different documents of this
size. Prints per configuration: wall seconds, pairs per minute, speed-up
over the first configuration, the sum of per-pair seconds, and the peak RSS
of the largest worker process.

    python bench/batch.py                      # 4 copies, --jobs 1 then 2
    python bench/batch.py --copies 8 --jobs 1,2 --dask
    python bench/batch.py --cache              # warm embedding cache: alignment + audit + I/O only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from align.batch import Job, run_batch  # noqa: E402
from align.pipeline import RunOptions  # noqa: E402

TEXTS = REPO / "texts"


def make_corpus(root: Path, copies: int) -> list[Job]:
    (root / "zh").mkdir(parents=True, exist_ok=True)
    (root / "en").mkdir(parents=True, exist_ok=True)
    jobs = []
    for k in range(copies):
        stem = f"joint-statement-{k:03d}"
        shutil.copyfile(TEXTS / "zh" / "joint-statement.txt", root / "zh" / f"{stem}.txt")
        shutil.copyfile(TEXTS / "en" / "joint-statement.txt", root / "en" / f"{stem}.txt")
        jobs.append(Job(stem, root / "zh" / f"{stem}.txt", root / "en" / f"{stem}.txt"))
    return jobs


def child(args) -> dict:
    """One configuration, in this process; pool workers are its children."""
    jobs = make_corpus(args.root, args.copies)
    options = RunOptions(audit=not args.no_audit)
    formats = args.formats.split(",")
    out = Path(tempfile.mkdtemp(prefix="align-bench-out-"))
    start = time.perf_counter()
    # engine "dask" without a scheduler: run_batch starts (and times) a local Dask cluster.
    results = run_batch(jobs, out, formats, options, n_jobs=args.child_jobs, engine=args.engine,
                        cache=args.cache, force=True)
    wall = time.perf_counter() - start
    shutil.rmtree(out, ignore_errors=True)
    failed = [r for r in results if r.status != "done"]
    return {
        "engine": args.engine,
        "jobs": args.child_jobs,
        "pairs": len(results),
        "failed": len(failed),
        "first_error": failed[0].error if failed else None,
        "wall_s": round(wall, 2),
        "pair_seconds_sum": round(sum(r.seconds for r in results), 2),
        "pair_seconds_max": round(max(r.seconds for r in results), 2),
        "beads": results[0].beads,
        "findings": results[0].findings,
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=4, help="number of document pairs (copies of the Joint Statement)")
    ap.add_argument("--jobs", default="1,2", help="comma-separated worker counts to compare")
    ap.add_argument("--dask", action="store_true", help="also run with --engine dask (a local Dask cluster, its start-up timed too)")
    ap.add_argument("--formats", default="tmx,csv,jsonl,audit,report")
    ap.add_argument("--no-audit", action="store_true", help="skip the audit (and the report format)")
    ap.add_argument("--cache", action="store_true", help="use a warm temporary embedding cache (pre-filled, untimed)")
    ap.add_argument("--child-jobs", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="local", help=argparse.SUPPRESS)
    ap.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.no_audit:
        args.formats = ",".join(f for f in args.formats.split(",") if f not in ("audit", "report"))

    if args.child_jobs is not None:
        print(json.dumps(child(args)), flush=True)
        return

    with tempfile.TemporaryDirectory(prefix="align-bench-batch-") as tmp:
        root = Path(tmp) / "corpus"
        env = dict(os.environ)
        if args.cache:
            env["ALIGN_CACHE_DIR"] = str(Path(tmp) / "cache")
            os.environ["ALIGN_CACHE_DIR"] = env["ALIGN_CACHE_DIR"]
            warm = make_corpus(Path(tmp) / "warm", 1)
            run_batch(warm, Path(tmp) / "warm-out", args.formats.split(","), RunOptions(audit=not args.no_audit), n_jobs=1)
        configs = [("local", int(j)) for j in args.jobs.split(",") if j.strip()]
        if args.dask:
            configs.append(("dask", max(n for _, n in configs)))
        print(f"{args.copies} copies of the Joint Statement, formats {args.formats}, "
              f"embedding cache {'warm' if args.cache else 'off (every pair embeds)'}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        print(f"{'engine':<7}{'jobs':>5}{'wall s':>9}{'pairs/min':>11}{'speed-up':>10}{'sum pair s':>12}{'worker RSS MB':>15}  failed")
        base = None
        for engine, n in configs:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child-jobs", str(n), "--engine", engine,
                   "--root", str(root), "--copies", str(args.copies), "--formats", args.formats]
            cmd += ["--no-audit"] if args.no_audit else []
            cmd += ["--cache"] if args.cache else []
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
            if proc.returncode != 0:
                print(f"{engine:<7}{n:>5}  failed (exit status {proc.returncode}); its error is above", flush=True)
                continue
            rec = json.loads(proc.stdout.strip().splitlines()[-1])
            base = base or rec["wall_s"]
            print(f"{engine:<7}{n:>5}{rec['wall_s']:>9.1f}{60 * rec['pairs'] / rec['wall_s']:>11.1f}"
                  f"{base / rec['wall_s']:>10.2f}{rec['pair_seconds_sum']:>12.1f}{rec['worker_peak_rss_mb']:>15.0f}"
                  f"  {rec['failed']}{' ' + rec['first_error'] if rec['first_error'] else ''}", flush=True)


if __name__ == "__main__":
    main()
