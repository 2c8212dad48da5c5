"""The end-to-end job: read -> segment -> embed -> align -> audit -> export.

This is the public entry point a script or the CLI calls. Each stage lives in
its own module; this one only wires them together and does the file I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import aligner
from .embed import Encoder, get_encoder
from .model import AlignError, Document, PairResult, Segment
from .pairfeatures import SideEvidence, half_texts, pair_scorer, sentence_marks, side_evidence, stray_pair
from .read import read_document
from .segment import segment, segment_lines

Progress = Callable[[str, int, int], None]
DEFAULT_FORMATS = ("tmx", "csv", "jsonl", "audit", "report")
CJK_LANGS = ("zh", "ja")


@dataclass(frozen=True)
class RunOptions:
    """What a user can choose for one run."""

    src_lang: str | None = None
    tgt_lang: str | None = None
    encoding: str | None = None
    presplit: bool = False
    audit: bool = True
    config: aligner.AlignConfig | None = None  # None: the language pair's ``aligner.family_config``


def segments_for(doc: Document, presplit: bool) -> list[Segment]:
    return segment_lines(doc) if presplit else segment(doc)


# Big steps let the encoder share work between the sentences of a step
# (USE computes each distinct token's features once per call).
EMBED_STEP = 1024


def embed_texts(encoder: Encoder, texts: Sequence[str], progress: Progress | None = None, label: str = "embed") -> np.ndarray:
    """Vectors of the texts, in batches so a progress bar can move on long documents."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    step = EMBED_STEP
    for start in range(0, len(texts), step):
        out[start : start + step] = encoder.encode(texts[start : start + step])
        if progress:
            progress(label, min(len(texts), start + step), len(texts))
    return out


def embed_side(encoder: Encoder, segments: Sequence[Segment], lang: str, progress: Progress | None = None,
               halves: bool = False) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Sentence vectors; pair vectors indexed by run end when the encoder can
    compose them from sentence states (else None: see ``embed_pairs``); with
    ``halves``, the vectors of each sentence's halves (``Evidence.src_halves``).

    An encoder with states reads each half once and joins them into the
    sentence (cosine to the whole sentence read at once ≈ 0.98–0.99 on
    MAC-Dev), so the halves cost no extra encoding; others encode them too.
    """
    texts = [s.text for s in segments]
    cut = [half_texts(t) for t in texts] if halves else [None] * len(texts)
    two = np.array([c is not None for c in cut], dtype=bool)
    label = "embed " + lang
    pairs = part_vecs = None
    if not encoder.state_dim:
        vecs = embed_texts(encoder, texts, progress, label)
        if halves:
            part_vecs = embed_texts(encoder, [p for c in cut if c for p in c], progress, "halves " + lang)
    else:
        # a step at a time, so only one step's part states are held (72k Bible sentences: 0.4 GB each time)
        states = np.zeros((len(texts), encoder.state_dim), dtype=np.float32)
        part_vecs = np.zeros((2 * int(two.sum()), encoder.dim), dtype=np.float32) if halves else None
        done, step = 0, EMBED_STEP
        for lo in range(0, len(texts), step):
            hi = min(len(texts), lo + step)
            got = encoder.encode_states([p for t, c in zip(texts[lo:hi], cut[lo:hi]) for p in (c or (t,))])
            counts = 1 + two[lo:hi].astype(np.int64)
            states[lo:hi] = encoder.join_parts(got, counts) if halves else got
            if halves and two[lo:hi].any():
                ends = np.cumsum(counts)[two[lo:hi]]
                rows = np.stack([ends - 2, ends - 1], axis=1).ravel()
                part_vecs[done : done + len(rows)] = encoder.vectors_from_states(got[rows])
                done += len(rows)
            if progress:
                progress(label, hi, len(texts))
        vecs = encoder.vectors_from_states(states)
        if len(segments) >= 2:
            pairs = np.zeros((len(segments) + 1, vecs.shape[1]), dtype=np.float32)
            pairs[2:] = encoder.run_vectors(states, 2)
    if part_vecs is None:
        return vecs, pairs, None
    out = np.repeat(vecs[:, None, :], 2, axis=1)  # no cut: both halves are the sentence
    out[two] = part_vecs.reshape(-1, 2, vecs.shape[1])
    return vecs, pairs, out


def embed_pairs(encoder: Encoder, segments: Sequence[Segment], vecs: np.ndarray, lang: str, ends: Sequence[int] | None = None,
                progress: Progress | None = None) -> np.ndarray | None:
    """Pair vectors indexed by run end: real embeddings of two joined segments
    at ``ends`` (all when None), the mean of the two sentence vectors elsewhere.

    The aligner builds every longer run from these and single sentences, so
    the encoder sees at most two texts per sentence.
    """
    from .export.base import join_texts

    n = len(segments)
    if n < 2:
        return None
    out = np.zeros((n + 1, vecs.shape[1]), dtype=np.float32)
    out[2:] = (vecs[1:] + vecs[:-1]) / 2.0
    todo = list(range(2, n + 1)) if ends is None else list(ends)
    step = 256
    for start in range(0, len(todo), step):
        chunk = todo[start : start + step]
        texts = [join_texts([segments[e - 2].text, segments[e - 1].text], lang) for e in chunk]
        out[chunk] = encoder.encode(texts)
        if progress:
            progress(f"pairs {lang}", min(len(todo), start + step), len(todo))
    return out


# Below this many sentences on the shorter side, a child process costs more than it saves.
PARALLEL_MIN_SENTENCES = 2000


def text_evidence(src: Sequence[Segment], tgt: Sequence[Segment], src_lang: str,
                  tgt_lang: str) -> tuple[SideEvidence, SideEvidence]:
    """Both sides' ``pairfeatures.side_evidence``. It is pure Python (the GIL
    rules out threads), so on long documents a forked child reduces about
    half of the sentences while this process does the rest."""
    texts = ([s.text for s in src], [t.text for t in tgt])
    langs = ((src_lang, tgt_lang), (tgt_lang, src_lang))
    pool = _fork_pool() if min(len(src), len(tgt)) >= PARALLEL_MIN_SENTENCES else None
    if pool is None:
        return side_evidence(texts[0], *langs[0]), side_evidence(texts[1], *langs[1])
    # Both sides' sentences in order, cut where the cost is half, a Chinese sentence
    # counted as two English ones (word splitting, dictionary bags, glosses). Rough:
    # on the Bible a cut by characters measured no faster.
    weight = [2.0 if langs[k][0] in CJK_LANGS else 1.0 for k in (0, 1)]
    half = (len(texts[0]) * weight[0] + len(texts[1]) * weight[1]) / 2
    cut0 = min(len(texts[0]), int(half / weight[0]))
    cut1 = int((half - cut0 * weight[0]) / weight[1])
    theirs = [(0, 0, cut0), (1, 0, cut1)]
    mine = [(0, cut0, len(texts[0])), (1, cut1, len(texts[1]))]

    def work(ranges: list[tuple[int, int, int]]) -> list[tuple[int, SideEvidence]]:
        return [(k, side_evidence(texts[k][a:b], *langs[k], marks=False)) for k, a, b in ranges if b > a]

    with pool:
        job = pool.submit(_side_runs, [(k, texts[k][a:b], langs[k]) for k, a, b in theirs if b > a])
        done = work(mine)
        marks = [sentence_marks(texts[k], langs[k][0]) for k in (0, 1)]
        try:
            done = job.result() + done
        except BrokenProcessPool:  # the child died (memory?): do its share here
            done = work(theirs) + done
    return tuple(SideEvidence.concat([e for j, e in done if j == k], marks[k]) for k in (0, 1))  # type: ignore[return-value]


def _side_runs(runs: list[tuple[int, list[str], tuple[str, str]]]) -> list[tuple[int, SideEvidence]]:
    """The child's share of ``text_evidence``."""
    return [(k, side_evidence(texts, *langs, marks=False)) for k, texts, langs in runs]


def _fork_pool() -> ProcessPoolExecutor | None:
    """A one-process pool sharing this process's memory, or None where that is
    impossible (no fork; inside a batch worker, which may have no children).
    The child only runs Python and small numpy code, never BLAS or the encoder,
    so forking a process that has their threads is safe here."""
    import multiprocessing
    import sys

    # fork is only safe (and the default) on Linux; elsewhere this runs inline
    if not sys.platform.startswith("linux") or multiprocessing.current_process().daemon:
        return None
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))


def embed_gloss(encoder: Encoder, side: SideEvidence, progress: Progress | None = None) -> np.ndarray | None:
    """Vectors of a side's English glosses (Chinese aligned with English), else
    None: the aligner's second view of the Chinese side."""
    if side.glosses is None:
        return None
    return embed_texts(encoder, side.glosses, progress, "gloss")


def build_evidence(src: Sequence[Segment], tgt: Sequence[Segment], src_vecs: np.ndarray, tgt_vecs: np.ndarray,
                   src_lang: str, tgt_lang: str, presplit: bool,
                   src_pairs: np.ndarray | None = None, tgt_pairs: np.ndarray | None = None,
                   src_gloss: np.ndarray | None = None, tgt_gloss: np.ndarray | None = None,
                   sides: tuple[SideEvidence, SideEvidence] | None = None,
                   src_halves: np.ndarray | None = None, tgt_halves: np.ndarray | None = None) -> aligner.Evidence:
    """Everything the aligner needs about the two segment lists (glosses:
    ``embed_gloss``; ``sides``: ``text_evidence``, computed here if None;
    halves: ``embed_side``)."""

    def lengths(segs: Sequence[Segment]) -> np.ndarray:
        return np.array([len("".join(s.text.split())) for s in segs], dtype=np.float64)

    def par_starts(segs: Sequence[Segment]) -> np.ndarray | None:
        if presplit:
            return None
        return np.array([k == 0 or segs[k].paragraph != segs[k - 1].paragraph for k in range(len(segs))], dtype=np.int64)

    src_side, tgt_side = sides or text_evidence(src, tgt, src_lang, tgt_lang)
    src_texts, tgt_texts = [s.text for s in src], [t.text for t in tgt]
    stray = stray_pair(src_texts, tgt_texts)
    return aligner.Evidence(
        src_vecs=src_vecs,
        tgt_vecs=tgt_vecs,
        src_lens=lengths(src),
        tgt_lens=lengths(tgt),
        src_par_start=par_starts(src),
        tgt_par_start=par_starts(tgt),
        pair_fn=pair_scorer(src_texts, tgt_texts, src_lang, tgt_lang, (src_side, tgt_side)),
        src_pairs=src_pairs,
        tgt_pairs=tgt_pairs,
        src_gloss=src_gloss,
        tgt_gloss=tgt_gloss,
        src_stray=stray[0],
        tgt_stray=stray[1],
        src_halves=src_halves,
        tgt_halves=tgt_halves,
    )


def check_languages(src: Document, tgt: Document) -> list[str]:
    """Warn about same-language or identical inputs; they align badly, silently."""
    from .read import detect_lang

    warnings = []
    s, t = detect_lang(src.text), detect_lang(tgt.text)
    if src.text.strip() == tgt.text.strip():
        warnings.append(f"{src.path or 'source'} and {tgt.path or 'target'} have the same text; "
                        "alignment expects a text and its translation")
    elif s == t and s != "und":
        warnings.append(f"both texts look like {s}; alignment expects a text and its translation")
    return warnings


def check_lengths(src: Document, tgt: Document, src_segs: Sequence[Segment], tgt_segs: Sequence[Segment]) -> list[str]:
    """Warn when one side has far more sentences: a partial translation or the wrong file."""
    n, m = len(src_segs), len(tgt_segs)
    if min(n, m) and max(n, m) >= 3 * min(n, m) and max(n, m) - min(n, m) >= 10:
        longer = src if n > m else tgt
        return [f"{longer.path or 'input'} has {max(n, m)} sentences, the other side {min(n, m)}: "
                "is one of them only partly translated?"]
    return []


def align_documents(src: Document, tgt: Document, stem: str, encoder: Encoder | None = None,
                    options: RunOptions = RunOptions(), progress: Progress | None = None) -> PairResult:
    """Align two decoded documents and, unless disabled, audit the result."""
    encoder = encoder or get_encoder()
    src_segs = segments_for(src, options.presplit)
    tgt_segs = segments_for(tgt, options.presplit)
    if not any(s.text for s in src_segs) or not any(t.text for t in tgt_segs):
        empty = src if not any(s.text for s in src_segs) else tgt
        raise AlignError(f"{empty.path or 'input'}: no sentences found")
    # Pair-level warnings travel with the source document: it is what every
    # consumer (CLI, report) already prints.
    extra = check_languages(src, tgt) + check_lengths(src, tgt, src_segs, tgt_segs)
    if extra:
        src = replace(src, warnings=src.warnings + tuple(extra))
    sides = text_evidence(src_segs, tgt_segs, src.lang, tgt.lang)
    halves = aligner.uses_halves(src.lang, tgt.lang)
    src_vecs, src_pairs, src_halves = embed_side(encoder, src_segs, src.lang, progress, halves)
    tgt_vecs, tgt_pairs, tgt_halves = embed_side(encoder, tgt_segs, tgt.lang, progress, halves)
    ev = build_evidence(src_segs, tgt_segs, src_vecs, tgt_vecs, src.lang, tgt.lang, options.presplit, src_pairs, tgt_pairs,
                        embed_gloss(encoder, sides[0], progress), embed_gloss(encoder, sides[1], progress), sides,
                        src_halves, tgt_halves)
    if progress:
        progress("align", 0, 1)
    alignment = aligner.align_evidence(ev, src.lang, tgt.lang, options.config)
    if not encoder.state_dim:
        # Without composable states, pairs are embedded for real only where the
        # first pass (mean-vector pairs) put a multi-sentence bead or doubted.
        src_ends, tgt_ends = aligner.pairs_worth_embedding(alignment, len(src_segs), len(tgt_segs))
        ev.src_pairs = embed_pairs(encoder, src_segs, src_vecs, src.lang, src_ends, progress)
        ev.tgt_pairs = embed_pairs(encoder, tgt_segs, tgt_vecs, tgt.lang, tgt_ends, progress)
        alignment = aligner.align_evidence(ev, src.lang, tgt.lang, options.config)
    if progress:
        progress("align", 1, 1)
    pair = PairResult(stem=stem, src=src, tgt=tgt, src_segments=tuple(src_segs), tgt_segments=tuple(tgt_segs), alignment=alignment)
    check_coverage(pair)
    if options.audit and not alignment.src_lang.lower().startswith("zh"):
        # The audit's checks read Chinese; other pairs (de-fr, en-zh) still align.
        note = f"audit skipped: it needs Chinese as the source language, not {alignment.src_lang!r}"
        pair = replace(pair, src=replace(pair.src, warnings=pair.src.warnings + (note,)))
    elif options.audit:
        from .audit import audit

        pair = replace(pair, findings=tuple(audit(pair, encoder=encoder)))
    return pair


def check_coverage(pair: PairResult) -> None:
    """No character may be lost or duplicated: refuse to write anything if one is.

    Beads must cover every segment exactly once, in order, and the segments
    must be exact, ordered, non-overlapping slices of their document that
    leave out nothing but whitespace. Together: every non-whitespace character
    of each input is in exactly one bead, in reading order. Linear time.
    """
    for name, beads_side, segs, doc in (
        ("source", [b.src for b in pair.alignment.beads], pair.src_segments, pair.src),
        ("target", [b.tgt for b in pair.alignment.beads], pair.tgt_segments, pair.tgt),
    ):
        flat = [i for side in beads_side for i in side]
        if flat != list(range(len(segs))):
            raise AlignError(f"internal error: the {name} sentences are not covered exactly once, in order; nothing written")
        problem = coverage_problem(doc.text, segs)
        if problem:
            raise AlignError(f"internal error: {doc.path or name}: {problem}; nothing written")


_NOT_SPACE = re.compile(r"\S")  # same set as str.isspace()


def coverage_problem(text: str, segs: Sequence[Segment]) -> str | None:
    """Why ``segs`` do not tile the non-whitespace of ``text``, or None."""
    pos = 0
    for k, seg in enumerate(segs):
        if seg.index != k:
            return f"segment {k} is numbered {seg.index}"
        if not pos <= seg.start <= seg.end <= len(text):
            return f"segment {k} [{seg.start}:{seg.end}] overlaps the previous one or lies outside the text"
        if text[seg.start:seg.end] != seg.text:
            return f"segment {k} text differs from the input at [{seg.start}:{seg.end}]"
        gap = _NOT_SPACE.search(text, pos, seg.start)
        if gap:
            return f"character {gap.start()} ({text[gap.start()]!r}) is in no segment"
        pos = seg.end
    gap = _NOT_SPACE.search(text, pos)
    if gap:
        return f"character {gap.start()} ({text[gap.start()]!r}) is in no segment"
    return None


def align_files(src_path: str | Path, tgt_path: str | Path, out_dir: str | Path | None = None,
                formats: Sequence[str] = DEFAULT_FORMATS, encoder: Encoder | None = None,
                options: RunOptions = RunOptions(), stem: str | None = None,
                progress: Progress | None = None) -> tuple[PairResult, list[Path]]:
    """Read, align and (if ``out_dir``) write every requested format."""
    src = read_document(src_path, options.src_lang, options.encoding)
    tgt = read_document(tgt_path, options.tgt_lang, options.encoding)
    if options.src_lang is None and options.tgt_lang is None and src.lang == "en" and tgt.lang == "zh" and not options.presplit:
        raise AlignError(f"{src_path} looks English and {tgt_path} Chinese: the files seem swapped (give the Chinese file first, or set --src-lang/--tgt-lang)")
    stem = stem or Path(src_path).stem
    pair = align_documents(src, tgt, stem, encoder, options, progress)
    written: list[Path] = []
    if out_dir is not None:
        written = write_pair(pair, Path(out_dir), formats)
    return pair, written


def write_pair(pair: PairResult, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    from .export import write_outputs

    return write_outputs(pair, out_dir, list(formats))


def index_outputs(out_dir: str | Path, encoder: Encoder | None = None):
    """(Re)build the lookup index over every bead file in an output folder."""
    from .lookup import build_index

    out = Path(out_dir)
    beads = sorted(p for p in out.glob("*.jsonl") if not p.name.endswith(".audit.jsonl"))
    if not beads:
        return None
    return build_index(beads, out / "align.db", encoder)


def discover_pairs(texts_dir: str | Path) -> list[tuple[str, Path, Path]]:
    """Pairs texts/zh/X.txt with texts/en/X.txt, the default job of `align run`."""
    root = Path(texts_dir)
    zh_dir, en_dir = root / "zh", root / "en"
    if not zh_dir.is_dir() or not en_dir.is_dir():
        raise AlignError(f"{root}: expected folders {zh_dir} and {en_dir}")
    pairs = []
    for zh in sorted(zh_dir.glob("*.txt")):
        en = en_dir / zh.name
        if en.exists():
            pairs.append((zh.stem, zh, en))
    if not pairs:
        raise AlignError(f"{root}: no file in zh/ has a namesake in en/")
    return pairs
