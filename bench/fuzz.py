"""Longer fuzz run of the reliability targets (issue 7).

The test suite runs the same targets for a few seconds (tests/test_reliability.py,
``test_bounded_fuzz_run``); this runs them for as long as you like and prints
how many inputs each target tried and every failure found, with Hypothesis'
shrunk example. Targets (see tests/reliability_support.py):

- segment:  both segmenters on hostile text; the segments must tile the text.
- exports:  random segmentations under random bead structures; TMX must validate
            against the TMX 1.4b DTD, CSV must round-trip, JSONL must be lossless.
- pipeline: align_documents end to end (bigram-hashing encoder, audit on/off);
            a result with valid, lossless outputs, or a one-line AlignError.
- decode:   arbitrary bytes and text in many encodings, cut short; decoded
            text, or a one-line AlignError, never another exception.

    python bench/fuzz.py --minutes 10                 # all targets, 10 minutes
    python bench/fuzz.py --minutes 2 --target exports --seed 7
    python bench/fuzz.py --minutes 5 --keep-going     # do not stop at the first failure
    python bench/fuzz.py --minutes 5 --min-pieces 100 --max-pieces 400   # longer documents
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reliability_support import DTD_PATH, fuzz  # noqa: E402

TARGETS = ("segment", "exports", "pipeline", "decode")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0, help="time budget for all targets together")
    ap.add_argument("--target", action="append", choices=TARGETS, help="run only these targets (repeatable)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=100, help="Hypothesis examples per round")
    ap.add_argument("--keep-going", action="store_true", help="record failures and go on")
    ap.add_argument("--max-pieces", type=int, default=40, help="most pieces (sentences, odd characters) per text")
    ap.add_argument("--min-pieces", type=int, default=0, help="fewest pieces per text (Hypothesis favours small inputs)")
    ap.add_argument("--json", type=Path, help="also write the summary here")
    args = ap.parse_args()
    targets = tuple(args.target or TARGETS)
    if not DTD_PATH.exists():
        print(f"note: {DTD_PATH} not found; TMX is checked for well-formedness only", file=sys.stderr)
    report = fuzz(args.minutes * 60, targets, seed=args.seed, batch=args.batch, stop_on_failure=not args.keep_going,
                  max_pieces=args.max_pieces, min_pieces=args.min_pieces)
    print(report.line())
    for failure in report.failures:
        print("FAILURE", failure, sep="\n", end="\n\n")
    if args.json:
        args.json.write_text(json.dumps({"tried": report.tried, "seconds": round(report.seconds, 1),
                                         "failures": report.failures, "seed": args.seed,
                                         "pieces": [args.min_pieces, args.max_pieces]}, indent=2))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
