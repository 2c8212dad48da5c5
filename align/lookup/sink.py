"""A worker thread fed through a bounded queue, for the parts of an index build
that run beside the builder (the vectors, the CJK postings, the FTS5 table)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any
from contextlib import suppress


class ThreadSink:
    """Batches go to ``_run`` (a subclass's) on a thread of its own; its error is
    raised in the builder's thread at the next ``put``, ``close`` or ``wait``.
    Subclasses set their own state, then call ``_start``."""

    def __init__(self, name: str, queue_size: int) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.cpu_thread = 0.0  # CPU seconds of the thread
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _start(self) -> None:
        self._thread.start()

    def _main(self) -> None:
        c0 = time.thread_time()
        try:
            self._run()
        except BaseException as exc:  # raised in the builder's thread by ``_check``
            self._error = exc
        self.cpu_thread = time.thread_time() - c0

    def _run(self) -> None:
        raise NotImplementedError

    def _items(self) -> Iterator[Any]:
        """The queued items, until ``close`` or ``abort``."""
        while True:
            item = self._queue.get()
            if item is None or self._stop.is_set():
                return
            yield item

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, rowids, texts) -> None:
        """Rows in ascending rowid order."""
        if len(rowids):
            self._put((rowids, texts))

    def close(self) -> None:
        """No more rows: the thread finishes its work."""
        self._put(None)

    def _put(self, item: object) -> None:
        """Queue an item, or raise the thread's error (a thread that stopped
        on one would leave a full queue waiting for ever)."""
        while True:
            self._check()
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                pass

    def wait(self) -> None:
        """Until the thread is done (raising its error, if any)."""
        self._thread.join()
        self._check()

    def abort(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            with suppress(queue.Full):
                self._queue.put_nowait(None)
            self._thread.join()
