"""Command line: parses options and calls the public API, nothing more."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import threading
from pathlib import Path

import click

from .model import AlignError

FORMATS_HELP = "Comma-separated: tmx, csv, jsonl, align, audit, report."


class Terminated(KeyboardInterrupt):
    """SIGTERM/SIGHUP turned into an exception, so that cleanup code runs
    (temp files removed, earlier outputs untouched) as it does for Ctrl-C."""


def _raise_terminated(signum, frame):
    raise Terminated(signum)


@contextlib.contextmanager
def _terminate_gracefully():
    """SIGTERM/SIGHUP raise Terminated while a command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = [n for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    old = {n: signal.signal(getattr(signal, n), _raise_terminated) for n in names}
    try:
        yield
    finally:
        for n, handler in old.items():
            signal.signal(getattr(signal, n), handler)


def friendly_errors(func):
    """Bad input is a one-line message and exit status 1, never a traceback.

    A bug (any other exception) is one line too, exit status 70, unless
    ALIGN_DEBUG is set, which shows the traceback.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with _terminate_gracefully():
                return func(*args, **kwargs)
        except AlignError as exc:
            click.echo(f"align: error: {exc}", err=True)
            sys.exit(1)
        except Terminated as exc:
            signum = exc.args[0] if exc.args else 15
            click.echo(f"align: stopped by {signal.Signals(signum).name}; earlier outputs are untouched", err=True)
            sys.exit(128 + signum)
        except KeyboardInterrupt:
            click.echo("align: interrupted; earlier outputs are untouched", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # the reader went away (align segment FILE | head): not an error
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"align: error: {where}{exc.strerror or exc}", err=True)
            sys.exit(1)
        except MemoryError:
            click.echo("align: error: out of memory; try smaller files or --no-audit", err=True)
            sys.exit(1)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("ALIGN_DEBUG"):
                raise
            message = " ".join(str(exc).split())[:300]
            click.echo(f"align: internal error: {type(exc).__name__}: {message} "
                       "(a bug; set ALIGN_DEBUG=1 to see where, and please report it)", err=True)
            sys.exit(70)

    return wrapper


class StageProgress:
    """A click progress bar per stage, on stderr, hidden with --quiet."""

    def __init__(self, quiet: bool, prefix: str = "") -> None:
        self.quiet = quiet or not sys.stderr.isatty()
        self.prefix = prefix
        self.bar = None
        self.stage = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.done = 0
            self.bar = click.progressbar(length=total, label=f"{self.prefix}{stage:<10}", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def parse_formats(value: str) -> list[str]:
    return [f.strip() for f in value.split(",") if f.strip()]


def pair_options(func):
    """Options shared by every command that aligns document pairs."""
    for option in reversed([
        click.option("--model", default=None, help="sentence-transformers model name or path (default: embedded USE-multilingual)."),
        click.option("--formats", default="tmx,csv,jsonl,audit,report", show_default=True, help=FORMATS_HELP),
        click.option("--presplit", is_flag=True, help="Inputs have one sentence per line; do not resegment."),
        click.option("--src-lang", default=None, help="Language of the first file (auto-detected)."),
        click.option("--tgt-lang", default=None, help="Language of the second file (auto-detected)."),
        click.option("--encoding", default=None, help="Input encoding, e.g. gb18030; NAME:replace keeps going past bad bytes "
                     "(default: UTF-8/UTF-16 by BOM, else UTF-8, else GB18030 if it reads as Chinese)."),
        click.option("--no-audit", is_flag=True, help="Skip the translation audit."),
        click.option("--no-cache", is_flag=True, help="Do not read or write the embedding cache."),
    ]):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="align", message="align %(version)s")
def cli() -> None:
    """Align a Chinese text with its English translation, audit the translation,
    export TMX/CSV/JSONL and look clauses up in both languages."""


@cli.command()
@click.argument("src_file", required=False, type=click.Path(path_type=Path))
@click.argument("tgt_file", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True, help="Output folder.")
@click.option("--texts", "texts_dir", type=click.Path(path_type=Path), default=Path("texts"), show_default=True, help="Folder with zh/ and en/ used when no files are given.")
@pair_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or summary.")
@friendly_errors
def run(src_file, tgt_file, out_dir, texts_dir, model, formats, presplit, src_lang, tgt_lang, encoding, no_audit, no_cache, quiet):
    """Align a text with its translation (default: everything in texts/).

    SRC_FILE is the original (e.g. Chinese), TGT_FILE its translation. With no files, aligns every texts/zh/X.txt with texts/en/X.txt and writes
    outputs/X.tmx, X.csv, X.jsonl, X.audit.jsonl and X.report.html, plus the
    lookup index outputs/align.db over every X.jsonl there.
    """
    from .embed import get_encoder
    from .pipeline import RunOptions, align_files, discover_pairs

    fmt = parse_formats(formats)
    from .export import export_warnings, get_exporters

    get_exporters(fmt)  # fail on a bad format name before any work
    if (src_file is None) != (tgt_file is None):
        raise AlignError("give both files (source and translation) or none")
    if src_file is None:
        jobs = discover_pairs(texts_dir)
    else:
        jobs = [(src_file.stem, src_file, tgt_file)]
    options = RunOptions(src_lang=src_lang, tgt_lang=tgt_lang, encoding=encoding, presplit=presplit, audit=not no_audit and ("audit" in fmt or "report" in fmt))
    encoder = get_encoder(model, cache=not no_cache)
    for stem, src, tgt in jobs:
        progress = StageProgress(quiet, prefix=f"{stem}: " if len(jobs) > 1 else "")
        try:
            pair, written = align_files(src, tgt, out_dir, fmt, encoder, options, stem=stem, progress=progress)
        finally:
            progress.close()
        for w in pair.src.warnings + pair.tgt.warnings + tuple(export_warnings(pair, [f for f in fmt if f in ("tmx", "csv")])):
            click.echo(f"align: warning: {w}", err=True)
        if not quiet:
            click.echo(summary_line(pair, written))
            if pair.findings:
                from .audit import summarize

                click.echo(summarize(list(pair.findings)))
    if "jsonl" in fmt:
        from .pipeline import index_outputs

        stats = index_outputs(out_dir, encoder)
        if stats is not None and not quiet:
            click.echo(f"lookup index: {out_dir / 'align.db'} ({stats.total_beads} beads, {stats.vectors} vectors)")


def summary_line(pair, written) -> str:
    from collections import Counter

    kinds = Counter(b.kind for b in pair.alignment.beads)
    kinds_s = ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
    files = ", ".join(str(p) for p in written)
    return f"{pair.stem}: {len(pair.src_segments)} {pair.src.lang} / {len(pair.tgt_segments)} {pair.tgt.lang} segments -> {len(pair.alignment.beads)} beads ({kinds_s})\n  wrote {files}"


@cli.command("segment")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--lang", default=None, help="Language (auto-detected).")
@click.option("--encoding", default=None, help="Input encoding, e.g. gb18030 or utf-8:replace (auto-detected).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per segment.")
@friendly_errors
def segment_cmd(file, lang, encoding, as_json):
    """Print the segments of FILE with their offsets and structure."""
    from dataclasses import asdict

    from .read import read_document
    from .segment import segment

    doc = read_document(file, lang, encoding)
    for seg in segment(doc):
        if as_json:
            click.echo(json.dumps(asdict(seg), ensure_ascii=False))
        else:
            where = " ".join(x for x in (seg.section, seg.clause) if x)
            click.echo(f"{seg.index:4d} [{seg.start}:{seg.end}] p{seg.paragraph} {seg.kind}{' ' + where if where else ''}\t{seg.text}")


@cli.command("eval")
@click.argument("pred", type=click.Path(exists=True, path_type=Path))
@click.argument("gold", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@friendly_errors
def eval_cmd(pred, gold, as_json):
    """Strict precision/recall/F1 of PRED against GOLD (.align files or folders)."""
    from .evaluate import score_paths

    total, per = score_paths(pred, gold)
    if as_json:
        click.echo(json.dumps({"total": total.as_dict(), "files": {k: v.as_dict() for k, v in per.items()}}, indent=2))
        return
    d = total.as_dict()
    click.echo(f"{'type':<8}{'P':>8}{'R':>8}{'F1':>8}{'pred':>7}{'gold':>7}")
    click.echo(f"{'all':<8}{d['precision']:8.3f}{d['recall']:8.3f}{d['f1']:8.3f}{d['pred']:7d}{d['gold']:7d}")
    for k, v in d["by_type"].items():
        click.echo(f"{k:<8}{v['precision']:8.3f}{v['recall']:8.3f}{v['f1']:8.3f}{v['pred']:7d}{v['gold']:7d}")


@cli.command("audit")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True)
@click.option("--model", default=None, help="sentence-transformers model name or path.")
@click.option("--formats", default="audit,report", show_default=True, help=FORMATS_HELP)
@click.option("-q", "--quiet", is_flag=True)
@friendly_errors
def audit_cmd(files, out_dir, model, formats, quiet):
    """Audit a translation of ZH into EN: align, then report findings.

    Writes X.audit.jsonl and X.report.html and prints a summary."""
    from .embed import get_encoder
    from .pipeline import RunOptions, align_files

    if len(files) != 2:
        raise AlignError("give the source file and its translation")
    encoder = get_encoder(model)
    progress = StageProgress(quiet)
    try:
        pair, written = align_files(files[0], files[1], out_dir, parse_formats(formats), encoder, RunOptions(), progress=progress)
    finally:
        progress.close()
    from .audit import summarize

    click.echo(summarize(list(pair.findings)))
    if not quiet:
        click.echo("wrote " + ", ".join(map(str, written)))


@cli.command("index")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "db_path", type=click.Path(path_type=Path), default=Path("outputs/align.db"), show_default=True, help="Index file to create or update.")
@click.option("--model", default=None, help="Encoder for --semantic lookups (default: embedded USE-multilingual).")
@click.option("--no-vectors", is_flag=True, help="Skip sentence vectors: much faster, but no --semantic lookups.")
@click.option("--fresh", is_flag=True, help="Start a new index rather than adding to the existing one (drops its other documents).")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary.")
@friendly_errors
def index_cmd(files, db_path, model, no_vectors, fresh, quiet):
    """Index aligned beads (.jsonl) or translation memories (.tmx) for lookup.

    A document already in the index under the same name (file stem) is
    replaced; the others are kept."""
    from .lookup import build_index

    encoder = None
    if not no_vectors:
        from .embed import get_encoder

        encoder = get_encoder(model)
    show = not quiet and sys.stderr.isatty()

    def progress(stage: str, done: int, total: int | None) -> None:
        if show:
            click.echo(f"\rindexing: {done:,} beads", nl=False, err=True)

    stats = build_index(files, db_path, encoder=encoder, progress=progress, vectors=not no_vectors, fresh=fresh)
    if show:
        click.echo(err=True)
    if not quiet:
        kept = f"; kept {len(stats.kept)} other document(s)" if stats.kept else ""
        vecs = f"; {stats.vectors:,} sides embedded with {stats.encoder}" if stats.vectors else ""
        click.echo(f"{db_path}: {stats.beads:,} beads from {len(stats.documents)} document(s) in {stats.seconds:.1f} s{vecs}{kept}")


@cli.command("lookup")
@click.argument("query", required=False)
@click.option("--exact", "mode", flag_value="exact", help="Substring match, case-insensitive; spacing around Chinese characters is ignored.")
@click.option("--regex", "mode", flag_value="regex", help="Python regular expression, case-insensitive.")
@click.option("--semantic", "mode", flag_value="semantic", help="Match by meaning across languages (sentence embeddings).")
@click.option("--word", "mode", flag_value="word", default=True, hidden=True)
@click.option("-C", "--context", type=click.IntRange(min=0), default=0, show_default=True, help="Neighbouring beads to show before and after each hit.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of hits, for scripts.")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many hits.")
@click.option("--clause", default=None, help="Enumerated item: 16, (16), 十六 or （十六）.")
@click.option("--section", default=None, help="Section heading in either language; case-insensitive, part of it is enough.")
@click.option("--document", default=None, help="Only this document (its file stem).")
@click.option("--lang", "side", default=None, help="Only match the side in this language (e.g. --semantic --lang zh).")
@click.option("--index", "index_path", type=click.Path(path_type=Path), default=Path("outputs/align.db"), show_default=True, help="Index built by `align run` or `align index`.")
@click.option("--model", default=None, help="Encoder for --semantic (default: the one the index was built with).")
@click.option("--color/--no-color", default=None, help="Highlight matches (default: when printing to a terminal).")
@friendly_errors
def lookup_cmd(query, mode, context, as_json, limit, clause, section, document, side, index_path, model, color):
    """Look QUERY up in both languages, or list a clause with --clause/--section.

    Words match whole words in English and any run of characters in Chinese;
    a Chinese query searches the Chinese side, an English one the English side.
    """
    from .lookup import format_hits, hits_to_json, search

    encoder = None
    if mode == "semantic" and model:
        from .embed import get_encoder

        encoder = get_encoder(model)
    hits = search(index_path, query, mode=mode, context=context, limit=limit, clause=clause, section=section,
                  encoder=encoder, side=side, document=document)
    if as_json:
        click.echo(hits_to_json(hits))
    else:
        click.echo(format_hits(hits, color=sys.stdout.isatty() if color is None else color))


@cli.command("batch")
@click.argument("source", type=click.Path(exists=True, path_type=Path), metavar="MANIFEST_OR_ZH_DIR")
@click.argument("en_dir", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True, help="Output folder.")
@click.option("-j", "--jobs", "n_jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per core).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True, help="Local processes or a Dask cluster.")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786 (default: a local Dask cluster).")
@click.option("--force", is_flag=True, help="Re-align pairs whose outputs are up to date.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table (errors are still printed).")
@pair_options
@friendly_errors
def batch_cmd(source, en_dir, out_dir, n_jobs, engine, scheduler, formats, model, presplit, src_lang, tgt_lang, encoding,
              no_audit, no_cache, force, quiet):
    """Align many pairs: a CSV/TSV manifest (zh path, en path[, output stem],
    paths relative to the manifest), or ZH_DIR and EN_DIR paired by file name.

    Pairs whose outputs are up to date are skipped; a failed pair does not stop
    the others, and the exit status is 1 if any pair failed.
    """
    from .batch import jobs_from_folders, read_manifest, run_batch
    from .pipeline import RunOptions

    if source.is_dir():
        if en_dir is None:
            raise AlignError(f"{source} is a folder: give the folder of translations too (ZH_DIR EN_DIR)")
        jobs = jobs_from_folders(source, en_dir)
    else:
        if en_dir is not None:
            raise AlignError(f"{source} is a manifest file: give no second argument")
        jobs = read_manifest(source)
    fmt = parse_formats(formats)
    options = RunOptions(src_lang=src_lang, tgt_lang=tgt_lang, encoding=encoding, presplit=presplit,
                         audit=not no_audit and ("audit" in fmt or "report" in fmt))
    show_bar = not quiet and sys.stderr.isatty()
    bar = click.progressbar(length=len(jobs), label="align batch", file=sys.stderr,
                            item_show_func=lambda r: r and f"{r.stem}: {r.status}") if show_bar else None

    def progress(res, done, total):
        if bar is not None:
            bar.update(1, res)
        if res.status == "failed" and (bar is None or quiet):
            click.echo(f"align: error: {res.stem}: {res.error}", err=True)

    if bar is not None:
        bar.__enter__()
    try:
        results = run_batch(jobs, out_dir, fmt, options, n_jobs=n_jobs, engine=engine, scheduler=scheduler,
                            progress=progress, model=model, cache=not no_cache, force=force)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for r in results:
        for w in r.warnings:
            click.echo(f"align: warning: {r.stem}: {w}", err=True)
    if not quiet:
        click.echo(batch_table(results))
    if any(r.status == "failed" for r in results):
        sys.exit(1)


def batch_table(results) -> str:
    from collections import Counter

    width = max([4] + [len(r.stem) for r in results])
    lines = [f"{'pair':<{width}}  {'status':<7} {'seconds':>8} {'beads':>6} {'findings':>8}  error"]
    for r in results:
        lines.append(f"{r.stem:<{width}}  {r.status:<7} {r.seconds:8.1f} {r.beads:6d} {r.findings:8d}  {r.error or ''}".rstrip())
    counts = Counter(r.status for r in results)
    lines.append(", ".join(f"{counts[s]} {s}" for s in ("done", "skipped", "failed")) + f"; {sum(r.seconds for r in results):.1f} s of work")
    return "\n".join(lines)


if __name__ == "__main__":
    cli()
