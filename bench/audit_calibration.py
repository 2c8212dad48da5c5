"""Calibrate the audit: false alarms on MAC-Dev gold beads (human translations).

Every finding on a gold bead of a human translation counts as a false alarm
(MAC-Dev is mostly faithful, so this over-counts a little). Prints, per
document and overall, the share of beads with >= 1 finding, by check, and
the clause check's false-alarm rate for several z thresholds.

    /work/venv/bin/python bench/audit_calibration.py [--encoder] [--z 2.0 2.5 3.0]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from align.audit import CHECKS, audit  # noqa: E402
from align.audit.clauses import ClauseCheck  # noqa: E402
from align.audit.gold import load_vecalign  # noqa: E402
from align.lexicon import load_lexicon  # noqa: E402


def flagged_rate(findings, n_beads: int) -> float:
    return len({f.bead for f in findings}) / max(1, n_beads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=REPO.parent / "shared" / "bench" / "mac-dev")
    ap.add_argument("--encoder", action="store_true", help="use the sentence encoder (slower)")
    ap.add_argument("--z", type=float, nargs="*", default=[2.0, 2.5, 3.0])
    args = ap.parse_args()
    if not args.root.exists():
        sys.exit(f"{args.root}: MAC-Dev not found")
    enc = None
    if args.encoder:
        from align.embed import get_encoder

        enc = get_encoder(None)
    lex = load_lexicon()
    names = sorted(p.name for p in (args.root / "src").iterdir())
    total_beads = 0
    flagged_beads = 0
    by_kind: Counter = Counter()
    by_check: Counter = Counter()
    by_z: Counter = Counter()
    t_audit = 0.0
    print(f"{'doc':>5} {'beads':>6} {'flagged':>8} {'rate':>6}")
    for name in names:
        pair = load_vecalign(args.root, name)
        beads = [b for b in pair.alignment.beads if b.src and b.tgt]
        n = len(pair.alignment.beads)
        t = time.perf_counter()
        fs = audit(pair, encoder=enc, lexicon=lex)
        t_audit += time.perf_counter() - t
        flagged = {f.bead for f in fs}
        total_beads += n
        flagged_beads += len(flagged)
        by_kind.update(f.kind for f in fs)
        for cname in CHECKS:
            fc = audit(pair, encoder=enc, checks=[cname], lexicon=lex)
            by_check[cname] += len({f.bead for f in fc})
        for z in args.z:
            fz = audit(pair, encoder=enc, checks=[ClauseCheck(z=z)], lexicon=lex)
            by_z[z] += len({f.bead for f in fz})
        print(f"{name:>5} {n:6d} {len(flagged):8d} {len(flagged) / n:6.3f}   ({len(beads)} 1+-1+ beads)")
    print(f"{'all':>5} {total_beads:6d} {flagged_beads:8d} {flagged_beads / total_beads:6.3f}")
    print(f"false-alarm rate (beads with >= 1 finding): {flagged_beads / total_beads:.3f}")
    print("findings by kind:", dict(by_kind))
    print("beads flagged by each check alone:",
          {k: f"{v / total_beads:.3f}" for k, v in by_check.items()})
    print("clause check, beads flagged by z threshold:",
          {z: f"{v / total_beads:.3f}" for z, v in sorted(by_z.items())})
    print(f"audit time: {t_audit:.1f} s for {total_beads} beads (encoder={'on' if enc else 'off'})")


if __name__ == "__main__":
    main()
