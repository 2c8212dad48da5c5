"""Batch mode: many document pairs, up-to-date checks, local or Dask workers.

A batch is a list of ``Job``s (from a manifest file or two folders). Pairs
whose outputs are up to date are skipped in the calling process; the rest run
through the same per-pair function, either in a local process pool or on a
Dask distributed cluster. Each worker builds its encoder once and reuses it
for every pair it gets, because loading the model costs more than aligning a
short document. A pair that fails becomes a ``JobResult`` with an error line;
it never stops the other pairs.

Up to date means: every requested output exists and is at least as new as
both inputs, and the stamp written next to the outputs
(``<out>/.align-stamps/<stem>.json``) records the same settings (tool
version, model, formats, options) and the same input contents (SHA-256).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

from .model import AlignError
from .pipeline import RunOptions

STAMP_DIR = ".align-stamps"
WORKER_WAIT = 60  # seconds to wait for a Dask cluster's first worker
MMAP_THRESHOLD = 32 * 1024 * 1024  # for Dask workers, see _dask_client

# Header cells we recognise, so a header row is optional but never read as a pair.
_HEADER_WORDS = {
    "zh", "en", "src", "tgt", "source", "target", "translation", "chinese", "english",
    "stem", "out", "output", "outputstem", "name", "zhpath", "enpath", "srcpath", "tgtpath",
    "sourcepath", "targetpath", "zhfile", "enfile", "srcfile", "tgtfile",
}


@dataclass(frozen=True)
class Job:
    """One document pair: ``src`` (e.g. the Chinese text), ``tgt`` (its translation)."""

    stem: str
    src: Path
    tgt: Path


@dataclass(frozen=True)
class JobResult:
    """What happened to one pair.

    ``status`` is done, skipped (outputs up to date; beads and findings come
    from the stamp) or failed (``error`` says why, in one line).
    """

    stem: str
    status: str
    seconds: float = 0.0
    beads: int = 0
    findings: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()


BatchProgress = Callable[[JobResult, int, int], None]


# --------------------------------------------------------------------------- jobs


def _check_stem(stem: str, where: str) -> str:
    stem = stem.strip()
    if not stem or stem in (".", "..") or any(c in stem for c in "/\\\0"):
        raise AlignError(f"{where}: output stem {stem!r} is not a plain file name")
    return stem


def _is_header(cells: list[str]) -> bool:
    words = ["".join(ch for ch in c.lower() if ch.isalnum()) for c in cells if c.strip()]
    return bool(words) and all(w in _HEADER_WORDS for w in words)


def read_manifest(path: str | Path) -> list[Job]:
    """Jobs from a CSV or TSV of ``src path, tgt path[, output stem]``.

    Relative paths are taken from the manifest's folder, so a manifest can sit
    next to its texts and be run from anywhere. Blank lines and lines starting
    with ``#`` are ignored; a header row is recognised by its words. A missing
    input file is not an error here: it fails its own pair at run time, so
    one typo does not block the rest of the batch.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AlignError(f"{path}: cannot read manifest ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AlignError(f"{path}: manifest is not UTF-8 (byte {exc.start})") from None
    content = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if path.suffix.lower() == ".tsv" or (content and "\t" in content[0]):
        delimiter = "\t"
    else:
        delimiter = ","
    base = path.resolve().parent
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    first = True
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1  # the line a record begins on, for messages
    try:
        for row in reader:
            no, start = start, reader.line_num + 1
            if reader.line_num != no or any("\n" in c or "\r" in c for c in row):
                raise AlignError(f"{path}:{no}: a quote is not closed, or a field spans lines")
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if first and _is_header(cells):
                first = False
                continue
            first = False
            where = f"{path}:{no}"
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) not in (2, 3):
                raise AlignError(f"{where}: expected 2 or 3 columns (source, translation[, output stem]), found {len(cells)}")
            if not cells[0] or not cells[1]:
                raise AlignError(f"{where}: empty file path")
            src, tgt = (base / Path(c).expanduser() for c in cells[:2])
            stem = _check_stem(cells[2] if len(cells) == 3 and cells[2] else Path(cells[0]).stem, where)
            if stem in seen:
                raise AlignError(f"{where}: output stem {stem!r} is already used on line {seen[stem]}")
            seen[stem] = no
            jobs.append(Job(stem, src, tgt))
    except csv.Error as exc:
        raise AlignError(f"{path}:{start}: a quote is not closed, or a stray quote ({exc})") from None
    if not jobs:
        raise AlignError(f"{path}: the manifest lists no document pairs")
    return jobs


def jobs_from_folders(src_dir: str | Path, tgt_dir: str | Path) -> list[Job]:
    """Pair ``src_dir/X`` with ``tgt_dir/X`` by file name.

    A file without a namesake on the other side still becomes a job, which
    then fails with "no such file": a silently dropped document is worse
    than a reported one.
    """
    src_dir, tgt_dir = Path(src_dir).resolve(), Path(tgt_dir).resolve()
    for d in (src_dir, tgt_dir):
        if not d.is_dir():
            raise AlignError(f"{d}: not a folder")

    def names(d: Path) -> set[str]:
        return {p.name for p in d.iterdir() if p.is_file() and not p.name.startswith(".")}

    all_names = sorted(names(src_dir) | names(tgt_dir))
    if not all_names:
        raise AlignError(f"{src_dir} and {tgt_dir}: no files to align")
    jobs: list[Job] = []
    seen: dict[str, str] = {}
    for name in all_names:
        stem = Path(name).stem
        if stem in seen:
            raise AlignError(f"{src_dir}: {seen[stem]} and {name} would write the same outputs ({stem}.*)")
        seen[stem] = name
        jobs.append(Job(stem, src_dir / name, tgt_dir / name))
    return jobs


# ------------------------------------------------------------------- up to date


def settings_for(formats: Sequence[str], options: RunOptions, model_name: str) -> dict:
    """The settings a stamp records; any change means the outputs are stale."""
    from . import __version__
    from .export import get_exporters

    raw = {
        "version": __version__,
        "model": model_name,
        "formats": [e.name for e in get_exporters(list(formats))],
        "options": asdict(options),
        "weights": _weights_digest(),
    }
    # A JSON round trip makes tuples lists etc., so a fresh dict compares equal to a loaded one.
    return json.loads(json.dumps(raw, sort_keys=True, default=repr))


def _weights_digest() -> str | None:
    """Learned aligner weights ship as data: retraining them changes outputs without a version bump."""
    path = Path(__file__).with_name("weights.json")
    return _file_digest(path) if path.is_file() else None


def output_paths(stem: str, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    from .export import get_exporters

    return [Path(out_dir) / f"{stem}{e.suffix}" for e in get_exporters(list(formats))]


def stamp_path(stem: str, out_dir: Path) -> Path:
    return Path(out_dir) / STAMP_DIR / f"{stem}.json"


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _input_record(path: Path) -> dict:
    st = path.stat()
    return {"path": str(path), "sha256": _file_digest(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def up_to_date(job: Job, out_dir: Path, formats: Sequence[str], settings: dict) -> dict | None:
    """The pair's stamp if its outputs can be reused as they are, else None."""
    try:
        newest_input = max(job.src.stat().st_mtime_ns, job.tgt.stat().st_mtime_ns)
        for out in output_paths(job.stem, out_dir, formats):
            if out.stat().st_mtime_ns < newest_input:
                return None
        stamp = json.loads(stamp_path(job.stem, out_dir).read_text(encoding="utf-8"))
        if stamp.get("settings") != settings:
            return None
        for side, path in (("src", job.src), ("tgt", job.tgt)):
            rec = stamp.get("inputs", {}).get(side, {})
            if rec.get("path") != str(path) or rec.get("sha256") != _file_digest(path):
                return None
        return stamp
    except (OSError, ValueError, AttributeError):
        return None  # no outputs, no stamp, or an unreadable one: run the pair


def write_stamp(job: Job, out_dir: Path, settings: dict, inputs: dict, beads: int, findings: int) -> None:
    from .fsio import atomic_write

    path = stamp_path(job.stem, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"stem": job.stem, "settings": settings, "inputs": inputs, "beads": beads, "findings": findings}
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


# ----------------------------------------------------------------- per pair


@lru_cache(maxsize=None)
def _worker_encoder(model: str | None, cache: bool, threads: int | None, thread_id: int):
    """One encoder per worker process (and thread: SQLite connections are per thread)."""
    from .embed import get_encoder

    encoder = get_encoder(model, cache=cache)
    inner = getattr(encoder, "inner", encoder)
    # N workers on N cores: one BLAS thread each instead of N each. Dask's
    # nanny says how many through OMP_NUM_THREADS (1 by default); the encoder
    # would otherwise raise it again and the workers would fight for the cores.
    threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or None
    if threads and hasattr(inner, "threads"):
        inner.threads = threads
    return encoder


def _init_worker(model: str | None, cache: bool, threads: int | None) -> None:
    """Process-pool initializer: build the encoder before the first pair arrives."""
    if threads:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            # N workers each starting one BLAS thread per core would fight over the cores.
            threadpool_limits(threads)
    _worker_encoder(model, cache, threads, threading.get_ident())


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, AlignError):
        return first or "error"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or first}"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def run_job(job: Job, out_dir: str | Path, formats: Sequence[str], options: RunOptions, settings: dict,
            model: str | None = None, cache: bool = True, threads: int | None = None) -> JobResult:
    """Align one pair and write its outputs and stamp; never raises.

    This is the function both engines run in their workers.
    """
    from .pipeline import align_files

    start = time.perf_counter()
    out_dir = Path(out_dir)
    try:
        for p in (job.src, job.tgt):
            if not p.is_file():
                raise AlignError(f"{p}: no such file")
        inputs = {"src": _input_record(job.src), "tgt": _input_record(job.tgt)}
        encoder = _worker_encoder(model, cache, threads, threading.get_ident())
        pair, _ = align_files(job.src, job.tgt, out_dir, list(formats), encoder, options, stem=job.stem)
        beads, findings = len(pair.alignment.beads), len(pair.findings)
        write_stamp(job, out_dir, settings, inputs, beads, findings)
        warnings = tuple(pair.src.warnings) + tuple(pair.tgt.warnings)
        return JobResult(job.stem, "done", time.perf_counter() - start, beads, findings, warnings=warnings)
    except Exception as exc:  # one bad pair must not stop the batch
        return JobResult(job.stem, "failed", time.perf_counter() - start, error=_one_line(exc))


def _worker_version() -> str:
    from . import __version__

    return __version__


# ----------------------------------------------------------------- engines


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run_local(todo: list[Job], n: int, call: dict) -> Iterator[JobResult]:
    """Process pool; if a worker dies (e.g. out of memory), find the culprit and go on.

    A dead worker breaks every pending future of the pool. The unfinished
    pairs are rerun in a one-worker pool, where the first one to break the
    pool again is the one that kills a worker: it fails, the rest continue.
    """
    import multiprocessing

    # spawn, not fork: a forked copy of a process that has already started
    # BLAS or encoder threads can deadlock.
    ctx = multiprocessing.get_context("spawn")
    queue = list(todo)
    isolate = False
    while queue:
        workers = 1 if isolate else min(n, len(queue))
        broken: list[Job] = []
        init = (call["model"], call["cache"], call["threads"])
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=init) as pool:
            futures = {pool.submit(run_job, job, **call): job for job in queue}
            for fut in as_completed(futures):
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    broken.append(futures[fut])
        if not broken:
            return
        order = {job.stem: k for k, job in enumerate(queue)}
        broken.sort(key=lambda j: order[j.stem])
        if isolate:
            culprit, queue = broken[0], broken[1:]
            yield JobResult(culprit.stem, "failed", error="the worker process died (out of memory?)")
        # After a crash, run one at a time until the culprit is found, then in parallel again.
        isolate, queue = not isolate, (queue if isolate else broken)


def _dask_client(scheduler, n: int):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise AlignError('--engine dask needs dask.distributed: pip install "align[dask]"') from None
    if scheduler is not None and not isinstance(scheduler, str):
        return scheduler, None  # an existing Client, owned by the caller
    try:
        if scheduler is None:
            import dask

            # Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which pins glibc's mmap
            # threshold at 128 KiB: every temporary numpy array then becomes a
            # fresh mmap, and alignment ran ~40 % slower. A fixed 32 MiB mmap
            # threshold keeps Dask's trimming and restores the speed.
            env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
            env.setdefault("MALLOC_MMAP_THRESHOLD_", MMAP_THRESHOLD)
            with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0")
            return Client(cluster), cluster
        return Client(scheduler, timeout="15s"), None
    except (OSError, TimeoutError) as exc:
        raise AlignError(f"cannot connect to the Dask scheduler {scheduler}: {_one_line(exc)}") from None


def _check_workers(client) -> None:
    """Every worker must run the same align, or stamps and outputs would lie."""
    from . import __version__

    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)  # workers may still be starting
    except TimeoutError:
        raise AlignError(f"the Dask cluster has had no workers for {WORKER_WAIT} s; start some with `dask worker ADDRESS`") from None
    try:
        versions = client.run(_worker_version)
    except Exception as exc:  # noqa: BLE001 - whatever a worker raised, the message says it
        raise AlignError(f"a Dask worker cannot run align ({_one_line(exc)}); install the same package on every worker") from None
    if not versions:
        raise AlignError("the Dask cluster has no workers")
    wrong = {w: v for w, v in versions.items() if v != __version__}
    if wrong:
        w, v = next(iter(wrong.items()))
        raise AlignError(f"Dask worker {w} runs align {v}, this machine {__version__}; install the same version everywhere")


def _run_dask(todo: list[Job], n: int, scheduler, call: dict) -> Iterator[JobResult]:
    client, cluster = _dask_client(scheduler, n)
    owned = client is not scheduler
    try:
        _check_workers(client)
        from dask.distributed import as_completed as dask_completed

        futures = {}
        for job in todo:
            fut = client.submit(run_job, job, pure=False, key=f"align-{job.stem}-{os.getpid()}-{time.time_ns()}", **call)
            futures[fut] = job
        for fut in dask_completed(list(futures)):
            job = futures[fut]
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker, a cancelled task
                yield JobResult(job.stem, "failed", error=f"Dask: {_one_line(exc)}")
    finally:
        if owned:
            client.close()
        if cluster is not None:
            cluster.close()


def run_batch(jobs: Sequence[Job], out_dir: str | Path, formats: Sequence[str], options: RunOptions = RunOptions(),
              n_jobs: int | None = None, engine: str = "local", scheduler=None, progress: BatchProgress | None = None,
              model: str | None = None, cache: bool = True, force: bool = False) -> list[JobResult]:
    """Align every pair that is not up to date; results come back in job order.

    ``n_jobs`` is the number of local worker processes (default: the cores);
    with ``engine="dask"`` the pairs go to the cluster at ``scheduler`` (an
    address like ``tcp://host:8786`` or a ``dask.distributed.Client``), or to
    a local Dask cluster of ``n_jobs`` workers when no scheduler is given.
    """
    if engine not in ("local", "dask"):
        raise AlignError(f"unknown engine {engine!r}; use local or dask")
    from .embed import get_encoder
    from .export import get_exporters

    out_dir = Path(out_dir).resolve()
    formats = [e.name for e in get_exporters(list(formats))]  # a bad name fails before any work
    jobs = [replace(j, src=Path(j.src).resolve(), tgt=Path(j.tgt).resolve()) for j in jobs]
    stems = [j.stem for j in jobs]
    if len(set(stems)) != len(stems):
        dup = next(s for s in stems if stems.count(s) > 1)
        raise AlignError(f"two pairs would write the same outputs ({dup}.*); give them different stems")
    model_name = get_encoder(model, cache=False).name  # cheap: models load on first encode
    settings = settings_for(formats, options, model_name)
    n = max(1, n_jobs or default_jobs())

    results: dict[str, JobResult] = {}
    total = len(jobs)

    def record(res: JobResult) -> None:
        results[res.stem] = res
        if progress:
            progress(res, len(results), total)

    todo: list[Job] = []
    for job in jobs:
        stamp = None if force else up_to_date(job, out_dir, formats, settings)
        if stamp is None:
            todo.append(job)
        else:
            record(JobResult(job.stem, "skipped", 0.0, int(stamp.get("beads", 0)), int(stamp.get("findings", 0))))
    if todo:
        threads = max(1, default_jobs() // min(n, len(todo))) if engine == "local" else None
        call = {"out_dir": out_dir, "formats": formats, "options": options, "settings": settings,
                "model": model, "cache": cache, "threads": threads}
        stream = _run_local(todo, n, call) if engine == "local" else _run_dask(todo, n, scheduler, call)
        for res in stream:
            record(res)
    return [results[j.stem] for j in jobs]
