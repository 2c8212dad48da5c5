"""Shared by tests/test_reliability.py, tests/test_cli.py and bench/fuzz.py.

- ``HashEncoder``: a tiny deterministic encoder (character bigrams hashed into
  a vector) so that hostile inputs can go through the whole pipeline in
  milliseconds, without loading USE.
- Hypothesis strategies for hostile text, and checks of the written outputs
  that do not trust the code under test (they parse the TMX/CSV/JSONL bytes).
- Fuzz targets with a time budget, for the suite (seconds) and the bench.
- ``python tests/reliability_support.py [--pause-at STAGE] [--resume-file F] -- ARGS``
  runs the real CLI with ``HashEncoder`` (and optional pauses), for
  subprocess tests of signals and concurrent runs.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import random
import re
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DTD_PATH = SHARED / "spec" / "tmx14.dtd"
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"

if str(REPO) not in sys.path:  # when run as a script from anywhere
    sys.path.insert(0, str(REPO))

from align.embed import Encoder  # noqa: E402
from align.model import Alignment, Bead, Document, PairResult, Segment  # noqa: E402


class HashEncoder(Encoder):
    """Character bigrams hashed into 96 dimensions: identical texts get
    identical vectors, similar ones similar vectors; no model, no I/O."""

    name = "test-hash-bigrams"

    @property
    def dim(self) -> int:
        return 96

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            t = f"\x02{text}\x03"
            for k in range(min(len(t) - 1, 4000)):
                h = zlib.crc32(t[k : k + 2].encode("utf-8", "surrogatepass"))
                out[row, h % self.dim] += 1.0 if h & 0x100 else -1.0
        return out


# --------------------------------------------------------------------------
# hostile text

# Pieces a real document is made of, plus the characters that break tools.
JOINT_ZH = (REPO / "texts" / "zh" / "joint-statement.txt").read_text(encoding="utf-8")
JOINT_EN = (REPO / "texts" / "en" / "joint-statement.txt").read_text(encoding="utf-8")
SPECIALS = [
    # line ends, spaces, page breaks, Word's manual line break
    "\n", "\n\n", "\r\n", "\r", "\t", "\x0b", "\x0c", " ", "\u00a0", "\u3000", "\u2028", "\u2029", "\x85",
    "\x1c", "\x1f",
    # invisible and formatting characters
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u202c", "\u200f",
    # characters XML 1.0 forbids
    "\x00", "\x01", "\x07", "\x1b", "\x7f", "\ufffe", "\uffff", "\ud800", "\udc80", "\udfff",
    # markup and CSV trouble
    "<", ">", "&", "&amp;", "]]>", "<![CDATA[", '"', "'", ",", ";", "=SUM(A1)", "\\",
    # sentence ends and enumerations both segmenters care about
    "。", "！", "？", "……", "…", ".", "!", "?", ". . .", "；", ";", "：", "——", "- ", "• ", "（一）", "（十六）",
    "(16)", "(V)", "（１６）", "”", "“", "」", "『", "Mr.", "e.g.", "U.S.", "1.5", "2018-2022", "二〇一九年六月五日",
    # scripts and symbols
    "١٢٣ مرحبا بالعالم", "שלום", "नमस्ते", "e\u0301\u0301", "\u0301", "👍🏽", "👨‍👩‍👧", "🇨🇳", "𠀀𪚥", "Ａｂｃ１２３", "ｶﾀｶﾅ", "한국어",
    "Ελληνικά", "Привет", "\U0010fffd", "\ue000",
]


def hostile_texts(max_pieces: int = 40, min_pieces: int = 0):
    """A Hypothesis strategy for messy documents: real sentences of both
    languages, arbitrary code points (lone surrogates included) and the
    characters above, in any order."""
    from hypothesis import strategies as st

    sentences = st.sampled_from(
        [s for s in re.split(r"(?<=[。！？.!?])\s*", JOINT_ZH[:3000] + JOINT_EN[:3000]) if s]
    )
    anychar = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
    piece = st.one_of(
        sentences,
        st.sampled_from(SPECIALS),
        st.text(anychar, max_size=12),
        st.text(st.sampled_from("中文字。，、！？“”（）一二三 \n"), max_size=20),
        st.text(st.sampled_from("abc XYZ.,!?'\"()-\n"), max_size=20),
    )
    return st.lists(piece, min_size=min_pieces, max_size=max(min_pieces, max_pieces)).map("".join)


LANGS = ("zh", "en", "de", "fr", "und", "ja", "zh-Hant")


# --------------------------------------------------------------------------
# checks of the written outputs


def assert_tiles(text: str, spans: Sequence[tuple[int, int]], pieces: Sequence[str] | None = None) -> None:
    """Every non-whitespace character of ``text`` lies in exactly one span,
    spans are ordered and disjoint, and each piece is its span's text."""
    pos = 0
    for k, (s, e) in enumerate(spans):
        assert pos <= s <= e <= len(text), f"span {k} {(s, e)} out of order (previous end {pos})"
        gap = text[pos:s]
        assert not gap.strip(), f"non-whitespace {gap.strip()[:20]!r} before span {k} is in no bead"
        if pieces is not None:
            assert text[s:e] == pieces[k], f"span {k} text differs"
        pos = e
    assert not text[pos:].strip(), f"non-whitespace {text[pos:].strip()[:20]!r} after the last span is in no bead"


def bead_spans(pair: PairResult) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """All spans of each side in bead order, read back from the written JSONL."""
    from align.export import render_outputs
    from align.export.base import side_keys

    data = render_outputs(pair, ["jsonl"])[".jsonl"]
    text = data.decode("utf-8")  # must be valid UTF-8 whatever the input held
    src_key, tgt_key = side_keys(pair)
    src, tgt = [], []
    assert not re.search("[\u2028\u2029\x85]", text)  # one record per line for every reader
    lines = text.split("\n")
    assert lines.pop() == ""
    for n, line in enumerate(lines):
        rec = json.loads(line)
        assert rec["bead"] == n
        src.extend(tuple(x) for x in rec[f"{src_key}_spans"])
        tgt.extend(tuple(x) for x in rec[f"{tgt_key}_spans"])
    return src, tgt


def assert_no_loss(pair: PairResult) -> None:
    """The issue's invariant, checked on the JSONL bytes, not on the objects."""
    src, tgt = bead_spans(pair)
    assert_tiles(pair.src.text, src, [s.text for s in pair.src_segments])
    assert_tiles(pair.tgt.text, tgt, [s.text for s in pair.tgt_segments])


@functools.lru_cache(maxsize=1)
def tmx_dtd():
    from lxml import etree

    return etree.DTD(str(DTD_PATH)) if DTD_PATH.exists() else None


def assert_valid_tmx(data: bytes, pair: PairResult | None = None) -> None:
    """Parses with a strict XML parser, validates against the TMX 1.4b DTD
    (when shared/ is there) and, given the pair, holds exactly the expected
    units: beads with text on both sides, XML-forbidden characters removed."""
    from lxml import etree

    from align.export import join_texts, sanitize_xml_text

    root = etree.fromstring(data, parser=etree.XMLParser(huge_tree=True, resolve_entities=False))
    dtd = tmx_dtd()
    if dtd is not None:
        assert dtd.validate(root), dtd.error_log.filter_from_errors()
    if pair is None:
        return
    expected = []
    for n, b in enumerate(pair.alignment.beads):
        sides = []
        for idx, segs, lang in ((b.src, pair.src_segments, pair.alignment.src_lang),
                                (b.tgt, pair.tgt_segments, pair.alignment.tgt_lang)):
            sides.append(join_texts([sanitize_xml_text(segs[i].text)[0] for i in idx], lang))
        if b.src and b.tgt and sides[0].strip() and sides[1].strip():
            expected.append((str(n), sides[0], sides[1]))
    got = []
    for tu in root.iter("tu"):
        segs = [tuv.findtext("seg") or "" for tuv in tu.findall("tuv")]
        got.append((tu.get("tuid"), *segs))
    assert got == expected


_SURROGATE = re.compile("[\ud800-\udfff]")


def assert_csv_round_trips(data: bytes, pair: PairResult) -> None:
    from align.export import join_texts

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(pair.alignment.beads) + 1
    for row, b in zip(rows[1:], pair.alignment.beads):
        src = join_texts([pair.src_segments[i].text for i in b.src], pair.alignment.src_lang)
        tgt = join_texts([pair.tgt_segments[j].text for j in b.tgt], pair.alignment.tgt_lang)
        assert row[1:3] == [_SURROGATE.sub("\ufffd", src), _SURROGATE.sub("\ufffd", tgt)]


def assert_outputs_valid(pair: PairResult, formats: Sequence[str] = ("tmx", "csv", "jsonl", "audit", "report")) -> dict[str, bytes]:
    from align.export import export_warnings, render_outputs

    out = render_outputs(pair, list(formats))
    if ".tmx" in out:
        assert_valid_tmx(out[".tmx"], pair)
    if ".csv" in out:
        assert_csv_round_trips(out[".csv"], pair)
    for suffix in (".audit.jsonl", ".report.html"):
        if suffix in out:
            out[suffix].decode("utf-8")
    export_warnings(pair, list(formats))
    assert_no_loss(pair)
    return out


# --------------------------------------------------------------------------
# random structures


def random_alignment(n: int, m: int, rng: random.Random) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """A monotone cover of n x m segments by beads of 0..3 x 0..3 segments."""
    beads = []
    i = j = 0
    while i < n or j < m:
        a = rng.randint(0, min(3, n - i))
        b = rng.randint(0, min(3, m - j))
        if a == b == 0:
            a, b = (1, 0) if i < n else (0, 1)
        beads.append((tuple(range(i, i + a)), tuple(range(j, j + b))))
        i, j = i + a, j + b
    return beads


def pair_from(src: Document, tgt: Document, beads, src_segs, tgt_segs) -> PairResult:
    alignment = Alignment(
        tuple(Bead(s, t, score=0.5, flags=() if s and t else ("unaligned",)) for s, t in beads),
        src.lang, tgt.lang,
    )
    return PairResult("fuzz", src, tgt, tuple(src_segs), tuple(tgt_segs), alignment)


# --------------------------------------------------------------------------
# fuzz targets


def target_segment(text: str, lang: str) -> None:
    """Both segmenters tile the text; offsets exact; no empty running segment."""
    from align.pipeline import coverage_problem
    from align.segment import segment, segment_lines

    doc = Document(text=text, lang=lang)
    segs = segment(doc)
    assert coverage_problem(text, segs) is None, coverage_problem(text, segs)
    assert all(s.text and s.text == s.text.strip() for s in segs)
    assert [s.paragraph for s in segs] == sorted(s.paragraph for s in segs)
    lines = segment_lines(doc)
    assert coverage_problem(text, lines) is None, coverage_problem(text, lines)


def target_exports(src_text: str, tgt_text: str, src_lang: str, tgt_lang: str, seed: int) -> None:
    """Any segmentation under any bead structure exports valid, lossless files."""
    from align.segment import segment

    src = Document(text=src_text, lang=src_lang, path="src.txt")
    tgt = Document(text=tgt_text, lang=tgt_lang, path="tgt.txt")
    ss, ts = segment(src), segment(tgt)
    pair = pair_from(src, tgt, random_alignment(len(ss), len(ts), random.Random(seed)), ss, ts)
    assert_outputs_valid(pair, ("tmx", "csv", "jsonl", "align"))


def target_pipeline(src_text: str, tgt_text: str, src_lang: str, tgt_lang: str, audit: bool) -> None:
    """The whole pipeline (fake encoder): a result with valid outputs, or AlignError."""
    from align.model import AlignError
    from align.pipeline import RunOptions, align_documents

    src = Document(text=src_text, lang=src_lang, path="src.txt")
    tgt = Document(text=tgt_text, lang=tgt_lang, path="tgt.txt")
    try:
        pair = align_documents(src, tgt, "fuzz", _encoder(), RunOptions(audit=audit))
    except AlignError as exc:
        assert "no sentences found" in str(exc), str(exc)
        assert not src_text.strip() or not tgt_text.strip()
        return
    assert src_text.strip() and tgt_text.strip()
    skipped = any(w.startswith("audit skipped") for w in pair.src.warnings)
    assert skipped == (audit and src_lang != "zh")
    assert_outputs_valid(pair)


def target_decode(data: bytes) -> None:
    """Any bytes: decoded text, or AlignError, never another exception."""
    from align.model import AlignError
    from align.read import decode

    try:
        text, used = decode(data, name="fuzz.txt")
    except AlignError as exc:
        assert str(exc).startswith("fuzz.txt: ") and "\n" not in str(exc)
        return
    assert isinstance(text, str) and used


@functools.lru_cache(maxsize=1)
def _encoder() -> HashEncoder:
    return HashEncoder()


@dataclass
class FuzzReport:
    tried: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in self.tried.items())
        return f"{sum(self.tried.values())} inputs in {self.seconds:.1f} s ({counts}); {len(self.failures)} failure(s)"


def fuzz(budget: float, targets: Sequence[str] = ("segment", "exports", "pipeline", "decode"), seed: int = 0,
         batch: int = 25, stop_on_failure: bool = True, max_pieces: int = 40, min_pieces: int = 0) -> FuzzReport:
    """Run each target in rounds of ``batch`` Hypothesis examples until ``budget`` seconds are spent
    (at least one round, so every target runs).

    Hypothesis has no time budget of its own; rounds with fresh seeds give
    one, and every example actually run is counted. A failure is shrunk by
    Hypothesis and recorded (with its minimal input) in the report.
    """
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    report = FuzzReport(tried={t: 0 for t in targets})
    cfg = settings(max_examples=batch, deadline=None, database=None, derandomize=False, print_blob=True,
                   suppress_health_check=list(HealthCheck))
    langs = st.sampled_from(LANGS)

    def counted(name: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*args, **kwargs):
            report.tried[name] += 1
            fn(*args, **kwargs)
        return run

    texts = hostile_texts(max_pieces, min_pieces)
    strategies = {
        "segment": (target_segment, (texts, langs)),
        "exports": (target_exports, (texts, texts, langs, langs, st.integers(0, 2**32))),
        "pipeline": (target_pipeline, (texts, texts, st.sampled_from(("zh", "en", "de", "und")),
                                       st.sampled_from(("en", "zh", "fr")), st.booleans())),
        "decode": (target_decode, (st.one_of(st.binary(max_size=300), texts.map(_encode_somehow)),)),
    }

    def make_test(name: str, round_no: int) -> Callable[[], None]:
        fn, args = strategies[name]
        return cfg(hseed(seed * 1_000_003 + round_no)(given(*args)(counted(name, fn))))

    start = time.monotonic()
    round_no = 0
    while time.monotonic() - start < budget:
        for name in targets:
            test = make_test(name, round_no)
            try:
                test()
            except Exception as exc:  # a property failed: keep the shrunk example
                report.failures.append(f"{name}: {type(exc).__name__}: {exc}"[:2000])
                if stop_on_failure:
                    report.seconds = time.monotonic() - start
                    return report
            if round_no and time.monotonic() - start >= budget:
                break  # (the first round always runs every target once)
        round_no += 1
    report.seconds = time.monotonic() - start
    return report


def _encode_somehow(text: str) -> bytes:
    """Text as a file might hold it: some encoding, maybe a BOM, maybe cut short."""
    h = zlib.crc32(text.encode("utf-8", "surrogatepass"))
    codec = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "big5", "cp1252")[h % 8]
    data = text.encode(codec, "replace" if codec != "utf-8" else "surrogatepass")
    return data[: len(data) - (h >> 8) % 3] if h & 0x80 else data


# --------------------------------------------------------------------------
# subprocess driver


def main(argv: list[str]) -> None:
    """Run the CLI with HashEncoder; options before ``--`` add pauses:

    --pause-at align|write|rename  print PAUSED:<stage> on stderr, then wait:
                            align: before aligning; write: once two temp files
                            exist, before any rename; rename: after the first
                            rename into place (folder lock held)
    --resume-file PATH      end the pause when PATH exists (else after 30 s)
    --no-lock               write without the folder lock (to check that a
                            concurrency test can see interleaving at all)
    --announce-lock         print LOCKING on stderr before taking the folder lock
    """
    import contextlib
    import os

    import align.embed
    from align import aligner, fsio

    split = argv.index("--") if "--" in argv else len(argv)
    opts, args = argv[:split], argv[split + 1 :]

    def opt(name: str) -> str | None:
        return opts[opts.index(name) + 1] if name in opts else None

    pause_at, resume = opt("--pause-at"), opt("--resume-file")
    align.embed.get_encoder = lambda *a, **k: HashEncoder()
    if "--no-lock" in opts:
        fsio._locked = lambda folders, name: contextlib.nullcontext()
    if "--announce-lock" in opts:
        real_locked = fsio._locked

        def announced(folders, name):
            print("LOCKING", file=sys.stderr, flush=True)
            return real_locked(folders, name)

        fsio._locked = announced

    def pause(stage: str) -> None:
        print(f"PAUSED:{stage}", file=sys.stderr, flush=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (resume and os.path.exists(resume)):
            time.sleep(0.02)

    if pause_at == "align":
        real_align = aligner.align_evidence

        def align_evidence(*a, **k):
            pause("align")
            return real_align(*a, **k)

        aligner.align_evidence = align_evidence
    if pause_at == "write":
        real_write_temp = fsio._write_temp
        written = []

        def write_temp(path, data, tmp=None):
            tmp = real_write_temp(path, data, tmp)
            written.append(tmp)
            if len(written) == 2:
                pause("write")  # two temp files exist, nothing renamed yet
            return tmp

        fsio._write_temp = write_temp
    if pause_at == "rename":
        real_replace = os.replace
        renamed = []

        def replace(a, b):
            real_replace(a, b)
            renamed.append(b)
            if len(renamed) == 1:
                pause("rename")

        fsio.os = _OsWith(replace)

    from align.cli import cli

    cli.main(args=args, prog_name="align")


class _OsWith:
    """``os`` with ``replace`` swapped, for fsio only."""

    def __init__(self, replace) -> None:
        import os

        self._os = os
        self.replace = replace

    def __getattr__(self, name):
        return getattr(self._os, name)


if __name__ == "__main__":
    main(sys.argv[1:])
