"""The command line under bad input and faults: exit codes, one-line errors,
no traceback, earlier outputs never damaged.

In-process tests use click's CliRunner with ``HashEncoder`` in place of USE;
signal and concurrency tests run the real CLI in a subprocess (through
tests/reliability_support.py, which can pause it at a given stage), and a few
run ``align run`` itself with the real encoder and a per-session cache.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import align.embed
from align import fsio
from align.cli import cli

from reliability_support import DTD_PATH, HOSTILE, REPO, HashEncoder, assert_valid_tmx

SUPPORT = Path(__file__).resolve().parent / "reliability_support.py"
ALIGN = Path(sys.executable).with_name("align")
OUTPUT_SUFFIXES = (".tmx", ".csv", ".jsonl", ".audit.jsonl", ".report.html")


@pytest.fixture()
def fake_encoder(monkeypatch):
    monkeypatch.setattr(align.embed, "get_encoder", lambda *a, **k: HashEncoder())


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def previous_outputs(folder: Path, stem: str) -> dict[Path, bytes]:
    """Outputs of an earlier run that a failed run must leave alone."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {folder / f"{stem}{s}": f"earlier {s} of {stem}\n".encode() for s in OUTPUT_SUFFIXES}
    for p, data in files.items():
        p.write_bytes(data)
    return files


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def assert_one_line_error(stderr: str, pattern: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("align: error: ") and re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in stderr


# ------------------------------------------------------------------ bad input, in process

H = HOSTILE
BAD_RUNS = [
    # (source, translation, extra options, error pattern naming the file and problem)
    ("zh.txt", "empty.txt", [], r"empty\.txt: is empty"),
    ("whitespace-only.txt", "en.txt", [], r"whitespace-only\.txt: contains only whitespace"),
    ("zh.txt", "statement.docx", [], r"statement\.docx: this is a Word \.docx document"),
    ("statement.pdf", "en.txt", [], r"statement\.pdf: this is a PDF file"),
    ("zh.txt", "missing.txt", [], r"missing\.txt: no such file"),
    ("zh.txt", ".", [], r"hostile: is a directory"),
    ("en.txt", "zh.txt", [], r"seem swapped"),
    ("big5.zh.txt", "en.txt", [], r"big5\.zh\.txt: .*--encoding big5"),
    ("utf8-truncated.zh.txt", "en.txt", [], r"truncated"),
    ("zh.txt", "en.txt", ["--encoding", "no-such-codec"], r"zh\.txt: unknown encoding 'no-such-codec'"),
    ("zh.txt", "en.txt", ["--formats", "tmx,docx"], r"unknown export format 'docx'"),
    ("zh.txt", None, [], r"give both files"),
]


@pytest.mark.parametrize("src, tgt, extra, pattern", BAD_RUNS)
def test_bad_input_is_one_line_exit_1_and_outputs_untouched(fake_encoder, tmp_path, src, tgt, extra, pattern):
    out = tmp_path / "outputs"
    before = previous_outputs(out, Path(src).stem)
    args = ["run", H / src] + ([H / tgt] if tgt else []) + ["-o", out, "-q", *extra]
    result = invoke(*args)
    assert result.exit_code == 1, result.output
    assert_one_line_error(result.stderr, pattern)
    assert snapshot(out) == {p.name: d for p, d in before.items()}


GOOD_RUNS = [
    # (source, translation, extra options, warnings expected on stderr)
    ("utf16be-bom.zh.txt", "utf16le-nobom.en.txt", [], []),
    ("gb18030.zh.txt", "cr.en.txt", [], []),
    ("zh.txt", "control-chars.en.txt", [], [r"5 control character", r"TMX: bead \d+: removed .*U\+0000"]),
    ("zh.txt", "zh.txt", [], [r"have the same text"]),
    ("en.txt", "word-export.en.txt", [], [r"both texts look like en", r"audit skipped"]),
    ("big5.zh.txt", "en.txt", ["--encoding", "big5"], [r"partly translated"]),
    ("mixed-utf8-gbk.zh.txt", "en.txt", ["--encoding", "utf-8:replace"], [r"undecodable byte\(s\) shown as U\+FFFD"]),
    ("en.txt", "zh.txt", ["--src-lang", "en", "--tgt-lang", "zh", "--no-audit"], []),
]


@pytest.mark.parametrize("src, tgt, extra, warnings", GOOD_RUNS)
def test_messy_input_runs_with_warnings(fake_encoder, tmp_path, src, tgt, extra, warnings):
    out = tmp_path / "outputs"
    result = invoke("run", H / src, H / tgt, "-o", out, *extra)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert all(line.startswith("align: warning: ") for line in lines), result.stderr
    for pattern in warnings:
        assert any(re.search(pattern, line) for line in lines), (pattern, result.stderr)
    if not warnings:
        assert lines == []
    stem = Path(src).stem
    assert f"{stem}: " in result.stdout and "wrote" in result.stdout
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("align.db")) == sorted(f"{stem}{s}" for s in OUTPUT_SUFFIXES)
    assert_valid_tmx((out / f"{stem}.tmx").read_bytes())


def test_segment_command_on_hostile_files():
    result = invoke("segment", H / "utf16be-bom.zh.txt")
    assert result.exit_code == 0 and "[0:" in result.stdout and "俄罗斯" in result.stdout
    result = invoke("segment", H / "gb18030.zh.txt", "--json")
    assert result.exit_code == 0 and '"text": "中华人民共和国' in result.stdout
    result = invoke("segment", H / "statement.docx")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, r"statement\.docx: this is a Word")


def test_disk_full_through_the_cli(fake_encoder, tmp_path, monkeypatch):
    out = tmp_path / "outputs"
    assert invoke("run", H / "zh.txt", H / "en.txt", "-o", out, "-q").exit_code == 0
    before = snapshot(out)

    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsio.os, "fsync", lambda fd: full(fd, b""))
    result = invoke("run", H / "zh.txt", H / "crlf.en.txt", "-o", out, "-q")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, r"outputs/zh\.\S+: cannot write: No space left on device")
    assert snapshot(out) == before


def test_unwritable_output_folder(fake_encoder, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    result = invoke("run", H / "zh.txt", H / "en.txt", "-o", blocker, "-q")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, r"not-a-folder: cannot create output folder")


def test_a_bug_is_one_line_with_exit_70_unless_debugging(fake_encoder, tmp_path, monkeypatch):
    import align.pipeline

    def broken(*args, **kwargs):
        raise ValueError("something\nunexpected")

    monkeypatch.setattr(align.pipeline, "align_documents", broken)
    result = invoke("run", H / "zh.txt", H / "en.txt", "-o", tmp_path, "-q")
    assert result.exit_code == 70
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("align: internal error: ValueError: something unexpected")
    monkeypatch.setenv("ALIGN_DEBUG", "1")
    result = invoke("run", H / "zh.txt", H / "en.txt", "-o", tmp_path, "-q")
    assert isinstance(result.exception, ValueError)


def test_usage_errors_stay_click_errors():
    result = invoke("run", "--formats")
    assert result.exit_code == 2 and "requires an argument" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------------ subprocesses: pipes, signals, concurrency


# Most driver runs label their inputs en -> fr: the writing is the same,
# and the subprocess starts in about a second instead of loading jieba.
QUICK = ["--src-lang", "en", "--tgt-lang", "fr", "--no-audit"]


def run_driver(*args, pause: str | None = None, resume: Path | None = None, no_lock: bool = False,
               announce: bool = False):
    opts = (["--pause-at", pause] if pause else []) + (["--resume-file", str(resume)] if resume else [])
    opts += (["--no-lock"] if no_lock else []) + (["--announce-lock"] if announce else [])
    return subprocess.Popen([sys.executable, str(SUPPORT), *opts, "--", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(proc: subprocess.Popen, marker: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen += line
        if marker in line:
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"never saw {marker!r}; stderr: {seen}")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.slow
@pytest.mark.parametrize("stage, sig, code, message", [
    ("write", signal.SIGTERM, 143, "align: stopped by SIGTERM; earlier outputs are untouched"),
    ("align", signal.SIGINT, 130, "align: interrupted; earlier outputs are untouched"),
])
def test_signal_during_run_leaves_earlier_outputs_and_no_temp_files(tmp_path, stage, sig, code, message):
    out = tmp_path / "outputs"
    before = previous_outputs(out, "zh")
    proc = run_driver("run", H / "zh.txt", H / "en.txt", "-o", out, "-q", *(QUICK if stage == "write" else []), pause=stage)
    wait_for(proc, f"PAUSED:{stage}")
    if stage == "write":
        assert len(leftovers(out)) >= 2  # temp files exist at this point...
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert err.strip() == message
    assert {p.name: p.read_bytes() for p in before} == snapshot(out)
    assert leftovers(out) == []  # ...and are gone, as is the lock file


def concurrent_runs(tmp_path: Path, no_lock: bool = False) -> tuple[dict[str, bool], bool]:
    """Run A pauses after renaming its first file into place; run B (other
    text, same stem, same folder) starts then. Returns which files hold A's
    text, and whether B had to wait for A."""
    out, resume = tmp_path / "outputs", tmp_path / "resume"
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(H / "en.txt", a / "doc.txt")
    shutil.copy(H / "word-export.en.txt", b / "doc.txt")  # its outputs hold Word's curly quotes
    args = ["-o", out, "-q", "--formats", "tmx,csv,jsonl", *QUICK]
    run_a = run_driver("run", a / "doc.txt", H / "cr.en.txt", *args, pause="rename", resume=resume, no_lock=no_lock)
    wait_for(run_a, "PAUSED:rename")
    run_b = run_driver("run", b / "doc.txt", H / "cr.en.txt", *args, no_lock=no_lock, announce=True)
    wait_for(run_b, "LOCKING")
    try:
        run_b.wait(timeout=2)  # writing three small files takes milliseconds
        b_waited = False
    except subprocess.TimeoutExpired:
        b_waited = True
    resume.touch()
    for p in (run_a, run_b):
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert leftovers(out) == []
    return {f: "\u201c" not in (out / f"doc.{f}").read_text(encoding="utf-8-sig") for f in ("tmx", "csv", "jsonl")}, b_waited


@pytest.mark.slow
def test_concurrent_runs_to_one_folder_do_not_interleave(tmp_path):
    from_a, b_waited = concurrent_runs(tmp_path)
    assert b_waited  # the folder lock held B back while A was half-way through its renames...
    assert from_a == {"tmx": False, "csv": False, "jsonl": False}  # ...so B's complete set came last


def test_broken_pipe_is_quiet(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text((H / "en.txt").read_text(encoding="utf-8") * 200, encoding="utf-8")
    done = subprocess.run(f'"{ALIGN}" segment "{big}" | head -n 1', shell=True, capture_output=True, text=True, timeout=60)
    assert done.stdout.count("\n") == 1 and done.stderr == ""


# ------------------------------------------------------------------ the real encoder


@pytest.fixture(scope="module")
def real_env():
    """The user's environment (default embedding cache, so re-runs are warm)."""
    if not ALIGN.exists():
        pytest.skip(f"console script not installed at {ALIGN}")
    env = dict(os.environ)
    env.pop("ALIGN_DEBUG", None)
    return env


@pytest.mark.slow
def test_real_run_on_hostile_encodings(real_env, tmp_path):
    out = tmp_path / "outputs"
    done = subprocess.run([str(ALIGN), "run", H / "utf16be-bom.zh.txt", H / "crlf.en.txt", "-o", out,
                           "--formats", "tmx,csv,audit"], capture_output=True, text=True, env=real_env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "utf16be-bom.zh: " in done.stdout
    data = (out / "utf16be-bom.zh.tmx").read_bytes()
    if DTD_PATH.exists():
        assert_valid_tmx(data)
    assert "习近平" in data.decode("utf-8") and "Xi Jinping" in data.decode("utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_real_run_interrupted_while_embedding(real_env, tmp_path, sig, code):
    """`align run` on the Joint Statement, stopped once it has started embedding."""
    cache = tmp_path / "cache"  # fresh, so that its creation shows the run is embedding
    env = dict(real_env, ALIGN_CACHE_DIR=str(cache))
    out = tmp_path / "outputs"
    before = previous_outputs(out, "joint-statement")
    proc = subprocess.Popen([str(ALIGN), "run", "-o", str(out), "-q"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (cache / "embeddings.sqlite").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "earlier outputs are untouched" in err
    assert {p.name: p.read_bytes() for p in before} == snapshot(out) and leftovers(out) == []
