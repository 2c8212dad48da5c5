"""Wall time and peak memory of `align run` on the Joint Statement, cold and warm.

    python bench/joint_statement.py [--runs 3]

Cold: an empty embedding cache (every sentence embedded, models loaded).
Warm: the same command again, served from the cache. Each run is a fresh
process, timed from outside; peak RSS is the child's maximum resident size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


# a wrapper process per run, so each peak RSS belongs to that run alone
_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run_once(env: dict[str, str], out: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    cmd = [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "align.cli", "run", "-o", str(out), "-q"]
    done = subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    return wall, int(done.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"{'run':<6}{'wall s':>8}{'peak MiB':>10}")
    for k in range(args.runs):
        cache = Path(tempfile.mkdtemp(prefix="align-cache-"))
        out = Path(tempfile.mkdtemp(prefix="align-out-"))
        env = dict(os.environ, ALIGN_CACHE_DIR=str(cache))
        try:
            for label in ("cold", "warm"):
                wall, peak = run_once(env, out)
                print(f"{label:<6}{wall:8.2f}{peak:10.0f}", flush=True)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
