"""Issue 7: hostile and messy input, no data loss, valid outputs every time.

Most tests run the real pipeline with ``HashEncoder`` (tests/reliability_support.py),
a deterministic bigram-hashing encoder, so that hundreds of hostile inputs go
through segmentation, alignment, audit and every exporter in seconds. Outputs
are checked by parsing the bytes written (DTD validation, csv module, JSONL
spans), not by trusting the objects that produced them.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from align import aligner, fsio
from align.embed.cache import CachedEncoder, _key
from align.model import AlignError, Bead, Document, Segment
from align.pipeline import RunOptions, align_documents, align_files, check_coverage, coverage_problem
from align.read import decode, read_document
from align.segment import segment

from reliability_support import (
    DTD_PATH,
    HOSTILE,
    LANGS,
    HashEncoder,
    assert_no_loss,
    assert_outputs_valid,
    fuzz,
    hostile_texts,
    pair_from,
    target_decode,
    target_exports,
    target_pipeline,
    target_segment,
)

FORMATS = ["tmx", "csv", "jsonl", "align", "audit", "report"]


def _load_make():
    spec = importlib.util.spec_from_file_location("hostile_make", HOSTILE / "make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _load_make()
ZH, EN = MAKE.ZH, MAKE.EN


@pytest.fixture(scope="module")
def encoder() -> HashEncoder:
    return HashEncoder()


def run_pair(src: Document, tgt: Document, encoder, audit: bool = True):
    return align_documents(src, tgt, "hostile", encoder, RunOptions(audit=audit))


# ------------------------------------------------------------------ the hostile folder


def test_hostile_files_are_what_make_py_writes():
    done = subprocess.run([sys.executable, str(HOSTILE / "make.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# file -> (encoding used, decoded text) for files that must be read unasked
DECODED = {
    "utf8-bom.zh.txt": ("utf-8-sig", ZH),
    "utf16le-bom.en.txt": ("utf-16", EN),
    "utf16be-bom.zh.txt": ("utf-16", ZH),
    "utf16le-nobom.en.txt": ("utf-16-le", EN),
    "gb18030.zh.txt": ("gb18030", ZH),
    "crlf.en.txt": ("utf-8", EN.replace("\n", "\r\n")),
    "cr.en.txt": ("utf-8", EN.replace("\n", "\r")),
    "word-export.en.txt": ("utf-8", MAKE.word_export(EN)),
    "fullwidth.zh.txt": ("utf-8", MAKE.fullwidth(ZH)),
    "zero-width.zh.txt": ("utf-8", MAKE.zero_width(ZH)),
    "ideographic-space.zh.txt": ("utf-8", MAKE.ideographic(ZH)),
    "tabs-formfeed.en.txt": ("utf-8", MAKE.tabs_formfeed(EN)),
    "control-chars.en.txt": ("utf-8", MAKE.control_chars(EN)),
    "one-line.en.txt": ("utf-8", " ".join(EN.split())),
    "page.en.html": ("utf-8", MAKE.html(EN)),
}


@pytest.mark.parametrize("name", sorted(DECODED))
def test_hostile_file_is_decoded_exactly(name):
    doc = read_document(HOSTILE / name)
    encoding, text = DECODED[name]
    assert (doc.encoding, doc.text) == (encoding, text)
    assert doc.lang == ("zh" if ".zh." in name else "en")


# file -> the one-line error it must give (a regex); the file name always comes first
REFUSED = {
    "empty.txt": r"is empty \(no text to align\)",
    "bom-only.txt": r"is empty",
    "whitespace-only.txt": r"contains only whitespace",
    "statement.docx": r"this is a Word \.docx document, not a plain-text file; save it as UTF-8 text first",
    "statement.pdf": r"this is a PDF file",
    "statement.doc": r"old Microsoft Office file",
    "statement.rtf": r"an RTF file",
    "binary-nul.dat": r"looks like a binary file",
    "big5.zh.txt": r"only \d+% of its Chinese characters are common ones \(GB2312\); it may be Big5 .*--encoding big5",
    "cp1252.en.txt": r"not valid UTF-8 \(byte \d+, line 1\), nor GB18030; it may be Windows-1252 .*--encoding cp1252",
    "utf8-truncated.zh.txt": r"ends in the middle of a character .*truncated",
    "mixed-utf8-gbk.zh.txt": r"not valid UTF-8 \(byte \d+, line 5\)",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_file_is_refused_in_one_line(name):
    with pytest.raises(AlignError) as info:
        read_document(HOSTILE / name)
    message = str(info.value)
    assert message.startswith(f"{HOSTILE / name}: ") and "\n" not in message
    assert re.search(REFUSED[name], message), message


@pytest.mark.parametrize("name, encoding", [("big5.zh.txt", "big5"), ("cp1252.en.txt", "cp1252"),
                                            ("gb18030.zh.txt", "gbk"), ("utf8-bom.zh.txt", "utf-8")])
def test_named_encoding_reads_what_detection_refuses(name, encoding):
    doc = read_document(HOSTILE / name, encoding=encoding)
    assert "\ufffd" not in doc.text and not doc.text.startswith("\ufeff")
    if name == "big5.zh.txt":
        assert doc.text == MAKE.ZH_HANT and doc.lang == "zh"
    if name == "cp1252.en.txt":
        assert "\u201cthe two parties\u201d" in doc.text


def test_replace_handler_keeps_going_and_counts():
    doc = read_document(HOSTILE / "mixed-utf8-gbk.zh.txt", encoding="utf-8:replace")
    bad = doc.text.count("\ufffd")
    assert bad > 0 and any(f"{bad} undecodable" in w and "line 5" in w for w in doc.warnings)
    paras = doc.text.split("\n\n")
    assert paras[:2] == ZH.split("\n\n")[:2] and paras[3:] == ZH.split("\n\n")[3:]  # only the GBK paragraph lost
    with pytest.raises(AlignError, match="unknown error handler 'ignore'"):
        read_document(HOSTILE / "zh.txt", encoding="utf-8:ignore")
    with pytest.raises(AlignError, match="unknown encoding 'klingon'"):
        read_document(HOSTILE / "zh.txt", encoding="klingon")


def test_gb18030_confidence_rule_on_real_text():
    """Chinese in GB18030 is accepted; the same bytes of other encodings are not."""
    real = (Path(MAKE.REPO) / "texts" / "zh" / "joint-statement.txt").read_text(encoding="utf-8")
    text, used = decode(real.encode("gb18030"))
    assert (text, used) == (real, "gb18030")
    hant = MAKE.ZH_HANT * 20
    with pytest.raises(AlignError, match="GB2312"):
        decode(hant.encode("big5"))
    # UTF-8 with a single stray byte is refused (not decoded as GB18030 mojibake)
    with pytest.raises(AlignError, match=r"not valid UTF-8 \(byte 300"):
        decode(real.encode("utf-8")[:300] + b"\xff" + real.encode("utf-8")[300:])


def test_hostile_files_as_read_carry_warnings():
    assert any("5 control character(s), first at line 5" in w for w in read_document(HOSTILE / "control-chars.en.txt").warnings)
    assert any("looks like XML/HTML" in w for w in read_document(HOSTILE / "page.en.html").warnings)
    assert read_document(HOSTILE / "word-export.en.txt").warnings == ()  # VT/FF/NBSP are just whitespace


def test_missing_directory_and_device_inputs(tmp_path):
    for path, message in ((tmp_path / "nope.txt", "no such file"), (tmp_path, "is a directory"),
                          (Path("/dev/null"), "not a regular file")):
        with pytest.raises(AlignError, match=message):
            read_document(path)


# ------------------------------------------------------------------ hostile files end to end


OK_PAIRS = [
    ("utf8-bom.zh.txt", "utf16le-bom.en.txt"),
    ("utf16be-bom.zh.txt", "utf16le-nobom.en.txt"),
    ("gb18030.zh.txt", "crlf.en.txt"),
    ("fullwidth.zh.txt", "cr.en.txt"),
    ("zero-width.zh.txt", "word-export.en.txt"),
    ("ideographic-space.zh.txt", "tabs-formfeed.en.txt"),
    ("zh.txt", "control-chars.en.txt"),
    ("zh.txt", "one-line.en.txt"),
    ("zh.txt", "page.en.html"),
]


@pytest.mark.parametrize("src, tgt", OK_PAIRS)
def test_hostile_pair_aligns_with_valid_lossless_outputs(src, tgt, encoder, tmp_path):
    pair, written = align_files(HOSTILE / src, HOSTILE / tgt, tmp_path, FORMATS, encoder)
    assert [p.name for p in written] == [f"{Path(src).stem}{s}" for s in
                                         (".tmx", ".csv", ".jsonl", ".align", ".audit.jsonl", ".report.html")]
    assert pair.src.lang == "zh" and pair.tgt.lang == "en"
    out = assert_outputs_valid(pair, FORMATS)
    assert all(p.read_bytes() == out[p.name[len(pair.stem):]] for p in written)  # the files are what was checked
    assert all(n.name.startswith(pair.stem) for n in tmp_path.iterdir())  # no temp or lock file left


def test_line_ends_do_not_change_segments(encoder):
    texts = {name: [s.text for s in segment(read_document(HOSTILE / name))] for name in
             ("en.txt", "crlf.en.txt", "cr.en.txt", "utf16le-bom.en.txt")}
    assert texts["crlf.en.txt"] == texts["en.txt"] == texts["cr.en.txt"] == texts["utf16le-bom.en.txt"]


def test_fullwidth_clause_number_and_zero_width_line_kept(encoder):
    segs = segment(read_document(HOSTILE / "fullwidth.zh.txt"))
    assert any(s.clause == "（１６）" and s.number == 16 for s in segs)
    assert any("２０１９" in s.text for s in segs)
    zw = read_document(HOSTILE / "zero-width.zh.txt")
    pair = run_pair(zw, read_document(HOSTILE / "en.txt"), encoder, audit=False)
    lone = [s for s in pair.src_segments if s.text == "\u200b"]
    assert len(lone) == 1  # invisible, but not whitespace: it must be in a bead too
    assert_no_loss(pair)


def test_word_line_break_becomes_space_in_tmx(encoder):
    from align.export import export_warnings, render_outputs
    from reliability_support import tmx_dtd  # noqa: F401  (validated in assert_outputs_valid)

    pair = run_pair(read_document(HOSTILE / "zh.txt"), read_document(HOSTILE / "word-export.en.txt"), encoder, audit=False)
    tmx = render_outputs(pair, ["tmx"])[".tmx"].decode("utf-8")
    assert "Russian Federation, De A." in tmx and "\x0b" not in tmx
    assert any("U+000B" in w for w in export_warnings(pair, ["tmx"]))


def test_identical_and_same_language_pairs_warn(encoder):
    zh = read_document(HOSTILE / "zh.txt")
    pair = run_pair(zh, zh, encoder)
    assert any("have the same text" in w for w in pair.src.warnings)
    assert all(b.kind == "1-1" for b in pair.alignment.beads)  # a text against itself aligns 1-1
    en = read_document(HOSTILE / "en.txt")
    pair = run_pair(en, read_document(HOSTILE / "word-export.en.txt"), encoder)
    assert any("both texts look like en" in w for w in pair.src.warnings)
    assert any(w.startswith("audit skipped") for w in pair.src.warnings) and pair.findings == ()
    assert_outputs_valid(pair, FORMATS)


def test_swapped_and_one_sided_inputs_are_refused(encoder, tmp_path):
    with pytest.raises(AlignError, match="seem swapped"):
        align_files(HOSTILE / "en.txt", HOSTILE / "zh.txt", tmp_path, FORMATS, encoder)
    for empty in ("empty.txt", "whitespace-only.txt"):
        with pytest.raises(AlignError, match=f"{empty}: "):
            align_files(HOSTILE / "zh.txt", HOSTILE / empty, tmp_path, FORMATS, encoder)
    assert list(tmp_path.iterdir()) == []
    # in memory, a side with no text at all is named
    with pytest.raises(AlignError, match="tgt.txt: no sentences found"):
        run_pair(Document(ZH, "zh", "src.txt"), Document(" \n\u3000", "en", "tgt.txt"), encoder)


def test_much_longer_side_warns(encoder):
    long_zh = Document((ZH + "\n\n") * 8, "zh", "long.txt")
    pair = run_pair(long_zh, Document(EN.split("\n\n")[0], "en", "short.txt"), encoder, audit=False)
    assert any("long.txt has" in w and "partly translated" in w for w in pair.src.warnings)
    assert_no_loss(pair)


def test_two_megabyte_single_line(tmp_path):
    """A book with no line breaks: read, segmented and checked in well under a second each."""
    line = " ".join(MAKE.paragraphs("en", 200).split())
    big = (line + " ") * (2_000_000 // len(line) + 1)
    path = tmp_path / "book.txt"
    path.write_text(big, encoding="utf-8")
    assert path.stat().st_size > 2_000_000 and "\n" not in big
    start = time.perf_counter()
    doc = read_document(path)
    segs = segment(doc)
    assert coverage_problem(doc.text, segs) is None
    assert time.perf_counter() - start < 10
    assert len(segs) > 5000 and max(len(s.text) for s in segs) < 2000
    # no punctuation at all: cut at spaces into bounded pieces, still exact
    blob = Document("word " * 400_000, "en")
    segs = segment(blob)
    assert len(segs) > 1000 and max(len(s.text) for s in segs) <= 1500
    assert coverage_problem(blob.text, segs) is None


# ------------------------------------------------------------------ the no-loss invariant


def _tiny_pair():
    src = Document("第一句。第二句。\n\n第三句。", "zh", "s.txt")
    tgt = Document("One. Two.\n\nThree.", "en", "t.txt")
    ss, ts = segment(src), segment(tgt)
    assert len(ss) == len(ts) == 3
    return pair_from(src, tgt, [((0,), (0,)), ((1,), (1,)), ((2,), (2,))], ss, ts)


def test_check_coverage_accepts_good_and_catches_every_kind_of_loss():
    pair = _tiny_pair()
    check_coverage(pair)
    ss = list(pair.src_segments)

    def with_beads(beads):
        return replace(pair, alignment=replace(pair.alignment, beads=tuple(Bead(s, t, 0.5) for s, t in beads)))

    def with_src(segs):
        return replace(pair, src_segments=tuple(segs))

    broken = {
        "bead drops a sentence": with_beads([((0,), (0,)), ((2,), (1, 2))]),
        "bead repeats a sentence": with_beads([((0, 1), (0,)), ((1, 2), (1, 2))]),
        "beads out of order": with_beads([((1,), (0,)), ((0,), (1,)), ((2,), (2,))]),
        "segment lost from the list": with_src([ss[0], replace(ss[2], index=1)]),
        "segment shorter than its text": with_src([ss[0], replace(ss[1], end=ss[1].end - 1, text=ss[1].text[:-1]), ss[2]]),
        "segment text altered": with_src([ss[0], replace(ss[1], text="第二局。"), ss[2]]),
        "segments overlap": with_src([replace(ss[0], end=ss[1].start + 1, text=pair.src.text[ss[0].start:ss[1].start + 1]),
                                      ss[1], ss[2]]),
        "segment past the end": with_src([ss[0], ss[1], replace(ss[2], end=len(pair.src.text) + 3)]),
    }
    for what, bad in broken.items():
        with pytest.raises(AlignError, match="internal error: .*nothing written"):
            check_coverage(bad)
    # whitespace-only gaps are fine: the same text with different spacing
    assert coverage_problem(" \t\u3000第一句。\x0b\x0c\u2028第二句。", [
        Segment(0, 3, 7, "第一句。", 0), Segment(1, 10, 14, "第二句。", 0)]) is None
    assert "character 3" in coverage_problem(" \t\u3000\u200b第一句。", [Segment(0, 4, 8, "第一句。", 0)])


def test_broken_aligner_writes_nothing(monkeypatch, tmp_path, encoder):
    """The invariant runs on every pipeline run, before anything is written."""
    (tmp_path / "zh.tmx").write_bytes(b"previous run")
    real = aligner.align_evidence

    def lossy(*args, **kwargs):
        result = real(*args, **kwargs)
        return replace(result, beads=result.beads[:-1])

    monkeypatch.setattr(aligner, "align_evidence", lossy)
    with pytest.raises(AlignError, match="not covered exactly once.*nothing written"):
        align_files(HOSTILE / "zh.txt", HOSTILE / "en.txt", tmp_path, FORMATS, encoder)
    assert [p.name for p in tmp_path.iterdir()] == ["zh.tmx"] and (tmp_path / "zh.tmx").read_bytes() == b"previous run"


def hypo(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))


@hypo(150)
@given(hostile_texts(), st.sampled_from(LANGS))
def test_property_segmenters_tile_any_text(text, lang):
    target_segment(text, lang)


@pytest.mark.skipif(not DTD_PATH.exists(), reason=f"TMX DTD not found at {DTD_PATH} (shared data absent)")
@hypo(60)
@given(hostile_texts(), hostile_texts(), st.sampled_from(LANGS), st.sampled_from(LANGS), st.integers(0, 2**32))
def test_property_any_bead_structure_exports_valid_lossless_files(src, tgt, src_lang, tgt_lang, seed):
    target_exports(src, tgt, src_lang, tgt_lang, seed)


@hypo(40)
@given(hostile_texts(), hostile_texts(), st.sampled_from(("zh", "en", "und")), st.sampled_from(("en", "zh")), st.booleans())
def test_property_pipeline_never_loses_text(src, tgt, src_lang, tgt_lang, audit):
    target_pipeline(src, tgt, src_lang, tgt_lang, audit)


@hypo(200)
@given(st.binary(max_size=400))
def test_property_decode_gives_text_or_one_line_error(data):
    target_decode(data)


def test_surrogateescape_input_through_every_format(encoder):
    """Bytes decoded with surrogateescape (lone surrogates in the text) are kept
    where the format can (JSONL), replaced and reported where it cannot."""
    from align.export import export_warnings

    raw = ZH.encode("utf-8")
    raw = raw[:30] + b"\xff\xfe" + raw[30:]
    text, used = decode(raw, "utf-8:surrogateescape")
    assert used == "utf-8:surrogateescape" and "\udcff\udcfe" in text
    pair = run_pair(Document(text, "zh", "s.txt"), read_document(HOSTILE / "en.txt"), encoder)
    out = assert_outputs_valid(pair, FORMATS)
    assert "\\udcff\\udcfe" in out[".jsonl"].decode("utf-8")
    warnings = export_warnings(pair, ["tmx", "csv"])
    assert any("TMX" in w and "U+DCFF" in w for w in warnings) and any("CSV" in w and "U+DCFF" in w for w in warnings)


def test_bounded_fuzz_run():
    """All four fuzz targets for a few seconds (bench/fuzz.py runs them for longer)."""
    report = fuzz(budget=4.0, batch=15, seed=int(time.time()))
    assert report.failures == [], report.failures
    assert all(n >= 10 for n in report.tried.values()), report.line()


# ------------------------------------------------------------------ faults: disk, cache, concurrency


def test_disk_full_leaves_previous_outputs(monkeypatch, tmp_path, encoder):
    align_files(HOSTILE / "zh.txt", HOSTILE / "en.txt", tmp_path, FORMATS, encoder)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_fdopen = os.fdopen
    calls = {"n": 0}

    class FullDisk:
        """A file that accepts the first few writes, then the disk is full."""

        def __init__(self, f):
            self.f = f

        def write(self, data):
            calls["n"] += 1
            if calls["n"] >= 3:
                self.f.write(data[: len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(fsio.os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k)))
    with pytest.raises(AlignError, match=r"cannot write: No space left on device"):
        align_files(HOSTILE / "utf8-bom.zh.txt", HOSTILE / "crlf.en.txt", tmp_path, FORMATS, encoder, stem="zh")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_rename_failure_midway_rolls_back(monkeypatch, tmp_path):
    files = {tmp_path / f"x{s}": f"old {s}".encode() for s in (".tmx", ".csv", ".jsonl")}
    for p, data in files.items():
        p.write_bytes(data)
    real_replace = os.replace
    seen = []

    def flaky(a, b):
        seen.append(b)
        if len(seen) == 3:
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(a, b)

    monkeypatch.setattr(fsio.os, "replace", flaky)
    with pytest.raises(AlignError, match="x.jsonl: cannot write: Input/output error"):
        fsio.write_all_atomic({p: b"new" for p in files})
    monkeypatch.setattr(fsio.os, "replace", real_replace)
    assert {p: p.read_bytes() for p in files} == files  # the two renamed files were put back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.jsonl", "x.tmx"]


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [tmp_path / f".x.tmx.{dead.pid}.{'a' * 12}.tmp", tmp_path / f".x.csv.{dead.pid}.{'b' * 12}.bak"]
    alive = tmp_path / f".x.tmx.{os.getppid()}.{'c' * 12}.tmp"
    other = tmp_path / f".y.tmx.{dead.pid}.{'d' * 12}.tmp"
    for p in stale + [alive, other]:
        p.write_bytes(b"partial")
    fsio.write_all_atomic({tmp_path / "x.tmx": b"new", tmp_path / "x.csv": b"new"})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name, "x.csv", "x.tmx"])


def test_folder_lock_is_exclusive_and_leaves_no_file(tmp_path):
    order = []
    with fsio.folder_lock(tmp_path) as locked:
        assert locked and (tmp_path / fsio.LOCK_NAME).exists()

        def other():
            with fsio.folder_lock(tmp_path):
                order.append("other")

        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.3)
        order.append("first")
    t.join(5)
    assert order == ["first", "other"] and list(tmp_path.iterdir()) == []
    with pytest.raises(AlignError, match="another process has been writing here"):
        with fsio.folder_lock(tmp_path):
            with fsio.folder_lock(tmp_path, timeout=0.2):
                pass


def _writer(args):
    folder, worker, rounds = args
    for i in range(rounds):
        tag = f"{worker}:{i}".encode()
        fsio.write_all_atomic({Path(folder) / f"doc{s}": tag * 3000 for s in (".tmx", ".csv", ".jsonl")})


def test_concurrent_writers_never_mix_file_sets(tmp_path):
    """Readers holding the lock always see the three files of one write."""
    from concurrent.futures import ProcessPoolExecutor

    mixed = []
    with ProcessPoolExecutor(2) as pool:
        futures = [pool.submit(_writer, (str(tmp_path), w, 25)) for w in range(2)]
        while not all(f.done() for f in futures):
            with fsio.folder_lock(tmp_path):
                contents = {p.read_bytes()[:8] for p in tmp_path.glob("doc.*")}
            if len(contents) > 1:
                mixed.append(contents)
        for f in futures:
            f.result()
    assert mixed == []
    assert len({p.read_bytes() for p in tmp_path.glob("doc.*")}) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.csv", "doc.jsonl", "doc.tmx"]


# ------------------------------------------------------------------ embedding cache


CORRUPTIONS = {
    "flipped byte": lambda db, k, row: db.execute("UPDATE vec SET data = ? WHERE key = ?", (_flip(row[0]), k)),
    "truncated blob": lambda db, k, row: db.execute("UPDATE vec SET data = ?, crc = ? WHERE key = ?",
                                                    (row[0][:40], zlib.crc32(row[0][:40]), k)),
    "null checksum": lambda db, k, row: db.execute("UPDATE vec SET crc = NULL WHERE key = ?", (k,)),
    "text instead of blob": lambda db, k, row: db.execute("UPDATE vec SET data = 'oops', crc = 0 WHERE key = ?", (k,)),
    "null dim": lambda db, k, row: db.execute("UPDATE vec SET dim = NULL WHERE key = ?", (k,)),
    "wrong dim, valid crc": lambda db, k, row: db.execute("UPDATE vec SET dim = 10, data = ?, crc = ? WHERE key = ?",
                                                          (row[0][:40], zlib.crc32(row[0][:40]), k)),
    "NaN vector, valid crc": lambda db, k, row: db.execute(
        "UPDATE vec SET data = ?, crc = ? WHERE key = ?",
        (np.full(96, np.nan, np.float32).tobytes(), zlib.crc32(np.full(96, np.nan, np.float32).tobytes()), k)),
}


def _flip(data: bytes) -> bytes:
    b = bytearray(data)
    b[17] ^= 0x40
    return bytes(b)


@pytest.mark.parametrize("how", sorted(CORRUPTIONS))
def test_corrupted_cache_entry_is_detected_and_recomputed(tmp_path, how):
    texts = ["中俄关系进入新时代。", "Sino-Russian relations have entered a new era.", "第三句。"]
    expected = HashEncoder().encode(texts)
    CachedEncoder(HashEncoder(), tmp_path).encode(texts)
    db = sqlite3.connect(tmp_path / "embeddings.sqlite")
    key = _key(HashEncoder.name, texts[1])
    row = db.execute("SELECT data FROM vec WHERE key = ?", (key,)).fetchone()
    with db:
        CORRUPTIONS[how](db, key, row)
    db.close()
    enc = CachedEncoder(HashEncoder(), tmp_path)
    assert np.array_equal(enc.encode(texts), expected)
    assert (enc.repaired, enc.inner.calls) == (1, 1)  # only the damaged entry was recomputed
    again = CachedEncoder(HashEncoder(), tmp_path)
    assert np.array_equal(again.encode(texts), expected) and again.inner.calls == 0  # and stored back


def test_cache_file_that_is_not_a_database_is_set_aside(tmp_path):
    texts = ["一。", "two."]
    (tmp_path / "embeddings.sqlite").write_bytes(b"this is not SQLite" * 300)
    enc = CachedEncoder(HashEncoder(), tmp_path)
    assert np.array_equal(enc.encode(texts), HashEncoder().encode(texts))
    assert any(p.name.startswith("embeddings.sqlite.corrupt-") for p in tmp_path.iterdir())
    again = CachedEncoder(HashEncoder(), tmp_path)
    again.encode(texts)
    assert again.inner.calls == 0  # a fresh cache took its place
