"""Crash-safe file writing.

Outputs are replaced, never truncated in place: a reader (or a re-run after a
crash or a full disk) sees either the old complete file or the new complete
file, never a half-written one.
"""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import suppress
from pathlib import Path

from align.model import AlignError


def _temp_name(path: Path) -> Path:
    # pid + random token: unique across concurrent processes and threads;
    # O_EXCL below turns the (astronomically unlikely) clash into an error
    # instead of two writers sharing a file. Leading dot keeps it out of globs.
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")


def _write_temp(path: Path, data: bytes) -> Path:
    """Write ``data`` durably to a fresh temp file next to ``path``."""
    tmp = _temp_name(path)
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


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically.

    On any failure the previous file is left untouched and no temp file
    remains. OS errors (permissions, full disk, missing folder) become
    ``AlignError``; anything else propagates unchanged.
    """
    write_all_atomic({Path(path): data})


def write_all_atomic(files: dict[Path, bytes]) -> None:
    """Write several files so that a failure leaves none of them changed.

    Every file is first written and fsynced to a temp file; only when all of
    them exist are they renamed into place. The renames themselves cannot be
    made atomic as a group, but they are the step least likely to fail.
    """
    staged: list[tuple[Path, Path]] = []
    current = Path()
    try:
        for path, data in files.items():
            current = Path(path)
            staged.append((_write_temp(current, data), current))
        while staged:
            tmp, current = staged[0]
            os.replace(tmp, current)
            staged.pop(0)
    except OSError as exc:
        raise _user_error(current, exc) from exc
    finally:
        for tmp, _ in staged:
            with suppress(OSError):
                os.unlink(tmp)
    for directory in {Path(p).parent for p in files}:
        _fsync_dir(directory)
