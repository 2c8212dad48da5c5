"""Strict alignment accuracy on the dev gold standards, through the public API.

    python bench/accuracy.py [--shared ../shared] [--model NAME]

Aligns every document of MAC-Dev (zh->en) and Text+Berg (de->fr) exactly as
`align run --presplit SRC TGT --formats align` does and prints one table:
corpus, strict precision, recall, F1, seconds (embedding included; a warm
embedding cache makes re-runs faster: pass --no-cache for cold figures) and
texts encoded per sentence (0 when everything came from the cache).

A last row, "mac-dev raw", runs the raw-text path (`align run` on MAC-Dev's
`raw/` paragraphs: our own sentence splitting) and scores it against the same
gold after projecting our beads onto the gold sentences
(``evaluate.project_beads``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from align.embed import get_encoder  # noqa: E402
from align.evaluate import Score, locate_lines, parse_align, project_beads, read_align, score  # noqa: E402
from align.pipeline import RunOptions, align_files  # noqa: E402

CORPORA = [("mac-dev", "src", "tgt", "zh", "en"), ("textberg-de-fr", "de", "fr", "de", "fr")]


def gold_file(root: Path, name: str) -> Path:
    p = root / "gold" / f"{name}.align"
    return p if p.exists() else root / "gold" / name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--model", default=None)
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--by-type", action="store_true", help="also print F1 by bead type")
    args = ap.parse_args()
    if not (args.shared / "bench").is_dir():
        sys.exit(f"accuracy: {args.shared / 'bench'} not found (pass --shared)")
    if args.no_cache:
        os.environ["ALIGN_CACHE_DIR"] = tempfile.mkdtemp(prefix="align-cache-")
    encoder = get_encoder(args.model)
    print(f"{'corpus':<16}{'P':>8}{'R':>8}{'F1':>8}{'seconds':>9}{'encoded/sent':>14}")
    for name, sdir, tdir, sl, tl in CORPORA:
        root = args.shared / "bench" / name
        total = Score()
        calls0, sentences = encoder.calls, 0
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            for src in sorted((root / sdir).iterdir()):
                options = RunOptions(src_lang=sl, tgt_lang=tl, presplit=True, audit=False)
                pair, _ = align_files(src, root / tdir / src.name, out, ["align"], encoder, options, stem=src.name)
                sentences += len(pair.src_segments) + len(pair.tgt_segments)
                pred = parse_align((Path(out) / f"{src.name}.align").read_text(encoding="utf-8"))
                total = total.add(score(pred, read_align(gold_file(root, src.name))))
        secs = time.perf_counter() - t0
        per_sent = (encoder.calls - calls0) / max(sentences, 1)
        print(f"{name:<16}{total.precision:8.4f}{total.recall:8.4f}{total.f1:8.4f}{secs:9.1f}{per_sent:14.2f}", flush=True)
        if args.by_type:
            for k, v in list(total.as_dict()["by_type"].items())[:8]:
                print(f"    {k:<6}{v['precision']:8.3f}{v['recall']:8.3f}{v['f1']:8.3f}  gold {v['gold']}")
    raw_row(args.shared / "bench" / "mac-dev", encoder)


def raw_row(root: Path, encoder) -> None:
    """MAC-Dev through the raw-text path, projected onto the gold sentences."""
    total = Score()
    calls0, sentences = encoder.calls, 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        for src in sorted((root / "src").iterdir()):
            options = RunOptions(src_lang="zh", tgt_lang="en", audit=False)
            pair, _ = align_files(root / "raw" / f"{src.name}.zh.txt", root / "raw" / f"{src.name}.en.txt", out, ["align"],
                                  encoder, options, stem=src.name)
            sentences += len(pair.src_segments) + len(pair.tgt_segments)
            gold_src = locate_lines(pair.src.text, src.read_text(encoding="utf-8").splitlines())
            gold_tgt = locate_lines(pair.tgt.text, (root / "tgt" / src.name).read_text(encoding="utf-8").splitlines())
            beads = [(b.src, b.tgt) for b in pair.alignment.beads]
            pred = project_beads(beads, [(s.start, s.end) for s in pair.src_segments],
                                 [(s.start, s.end) for s in pair.tgt_segments], gold_src, gold_tgt)
            total = total.add(score(pred, read_align(gold_file(root, src.name))))
    secs = time.perf_counter() - t0
    per_sent = (encoder.calls - calls0) / max(sentences, 1)
    print(f"{'mac-dev raw':<16}{total.precision:8.4f}{total.recall:8.4f}{total.f1:8.4f}{secs:9.1f}{per_sent:14.2f}", flush=True)


if __name__ == "__main__":
    main()
