"""Crash-safe file writing.

Outputs are replaced, never truncated in place: a reader (or a re-run after a
crash or a full disk) sees either the old complete file or the new complete
file, never a half-written one.

A set of files written together (the TMX, CSV, JSONL... of one pair) is
written under an exclusive lock on its folder, so two runs writing the same
output folder at once cannot interleave their files: the folder ends up with
one run's complete set. Signals are held back while the files are renamed
into place, so Ctrl-C or SIGTERM cannot stop a set half-way either; and temp
files a killed process (SIGKILL, power loss) left behind are removed by the
next write to that folder.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import signal
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from align.model import AlignError

LOCK_NAME = ".align.lock"
LOCK_TIMEOUT = 120.0  # seconds; writes are short, so a longer wait means a hung writer

# .NAME.PID.TOKEN.tmp (new content) and .NAME.PID.TOKEN.bak (old content kept
# for a rollback): see _temp_name.
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{12}\.(?:tmp|bak)$")
_DEFERRED_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _temp_name(path: Path, kind: str = "tmp") -> Path:
    # pid + random token: unique across concurrent processes and threads;
    # O_EXCL below turns the (astronomically unlikely) clash into an error
    # instead of two writers sharing a file. Leading dot keeps it out of globs.
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.{kind}")


def _write_temp(path: Path, data: bytes, tmp: Path | None = None) -> Path:
    """Write ``data`` durably to a fresh temp file (``tmp``) next to ``path``."""
    tmp = tmp or _temp_name(path)
    # 0o666 lets the umask decide the mode, as for a plain open(); an
    # existing target keeps its own mode (someone may have made it private).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); not possible everywhere."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _user_error(path: Path, exc: OSError) -> AlignError:
    reason = exc.strerror or str(exc)
    return AlignError(f"{path}: cannot write: {reason}")


@contextmanager
def folder_lock(directory: Path, name: str = LOCK_NAME, timeout: float = LOCK_TIMEOUT) -> Iterator[bool]:
    """Hold an exclusive lock on ``directory`` (yields whether one was taken).

    The lock file exists only while it is held, so output folders stay clean.
    Deleting a lock file is safe only because a holder checks, once locked,
    that the name still points at the file it locked, and starts over if a
    previous holder removed it meanwhile. Where locking is impossible (no
    fcntl, a read-only or missing folder, a file system without locks) the
    write goes ahead unlocked: its own errors are the ones worth reporting.
    """
    path = Path(directory) / name
    fd = _acquire(path, time.monotonic() + timeout, timeout)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            with suppress(OSError):
                os.unlink(path)
            os.close(fd)


def _acquire(path: Path, deadline: float, timeout: float) -> int | None:
    """An fd holding an exclusive flock on ``path``, or None if locking is impossible."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            return None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise AlignError(
                            f"{path.parent}: another process has been writing here for over {timeout:.0f} s "
                            f"(lock file {path.name}); try again later"
                        ) from None
                    time.sleep(0.02)
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        except OSError:  # ENOLCK, EOPNOTSUPP...: this file system cannot lock
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if same:
            return fd
        os.close(fd)  # a previous holder removed the file we locked: start over


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold back SIGINT/SIGTERM/SIGHUP for a few system calls that must not be cut."""
    if not hasattr(signal, "pthread_sigmask") or not _DEFERRED_SIGNALS:
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temps(directory: Path, names: set[str] | None = None) -> list[Path]:
    """Delete temp files left by processes that no longer run; return them.

    Only files named like ours, for the given target ``names`` (all if None),
    whose writer process is gone. Call it with the folder lock held, so no
    live writer can be between creating and renaming a temp file.
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m or (names is not None and m["name"] not in names) or _pid_alive(int(m["pid"])):
            continue
        with suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically.

    On any failure the previous file is left untouched and no temp file
    remains. OS errors (permissions, full disk, missing folder) become
    ``AlignError``; anything else propagates unchanged.
    """
    write_all_atomic({Path(path): data})


def write_all_atomic(files: dict[Path, bytes], lock_name: str = LOCK_NAME) -> None:
    """Write several files so that a failure leaves none of them changed.

    Every file is first written and fsynced to a temp file; only when all of
    them exist are they renamed into place, with signals deferred. If a
    rename still fails, the files already replaced are put back from hard
    links to their old content (where the file system has hard links).
    ``lock_name`` names the folder lock; writers of unrelated files in one
    folder may use different names (e.g. one per output stem).
    """
    paths = {Path(p): data for p, data in files.items()}
    folders = sorted({p.parent for p in paths})
    with _locked(folders, lock_name):
        for folder in folders:
            remove_stale_temps(folder, {p.name for p in paths if p.parent == folder})
        _write_locked(paths)
    for directory in folders:
        _fsync_dir(directory)


@contextmanager
def _locked(folders: list[Path], lock_name: str) -> Iterator[None]:
    if not folders:
        yield
        return
    with folder_lock(folders[0], lock_name), _locked(folders[1:], lock_name):
        yield


def _write_locked(files: dict[Path, bytes]) -> None:
    staged: list[tuple[Path, Path]] = []
    backups: dict[Path, Path] = {}
    replaced: list[Path] = []
    current = Path()
    try:
        for path, data in files.items():
            current = path
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
            # registered before it exists, so that a signal at any point
            # still finds it in the cleanup below
            tmp = _temp_name(current)
            staged.append((tmp, current))
            _write_temp(current, data, tmp)
        with signals_deferred():
            for tmp, current in staged:
                backup = _temp_name(current, "bak")
                try:
                    os.link(current, backup)
                    backups[current] = backup
                except OSError:
                    pass  # no old file, or no hard links here: nothing to roll back to
            try:
                for tmp, current in staged:
                    os.replace(tmp, current)
                    replaced.append(current)
            except BaseException:
                _roll_back(replaced, backups)
                raise
    except OSError as exc:
        raise _user_error(current, exc) from exc
    finally:
        for tmp, _ in staged:
            with suppress(OSError):
                os.unlink(tmp)
        for backup in backups.values():
            with suppress(OSError):
                os.unlink(backup)


def _roll_back(replaced: list[Path], backups: dict[Path, Path]) -> None:
    """Undo the renames done so far: old content back, new files removed."""
    for path in replaced:
        with suppress(OSError):
            if path in backups:
                os.replace(backups.pop(path), path)
            else:
                os.unlink(path)
