"""Write reports from a background thread, so that no request waits for the
database.

A request puts its reports on a bounded queue and answers 204 at once; when
the queue is full it waits at most ``put_timeout`` seconds in all, then drops
what does not fit (counted as ``dropped:queue-full``). One thread per process
takes up to ``batch_size`` reports at a time and writes them in one
transaction (:meth:`ReportStore.write`). A report that was queued is counted
exactly once: its batch is stored, or, when the database keeps failing, it
is counted as ``dropped:database`` (with the first failure logged once per
outage). A batch whose commit failed half-way (``CommitUncertain``) is not
written again, so nothing is counted twice; it is counted as
``dropped:uncertain``.

The thread starts with the first report, stops after a few idle seconds,
starts again in a forked child, and :meth:`Writer.flush` (also called at
interpreter exit) waits until everything queued is written.
"""

from __future__ import annotations

import atexit
import collections.abc as cabc
import logging
import os
import queue
import threading
import time
import weakref

from .collect import Report
from .limits import Counters
from .store import CommitUncertain
from .store import ReportStore

__all__ = ["Writer"]

_IDLE_POLL = 0.2
_IDLE_EXIT = 5.0
_RETRY_DELAYS = (0.1, 0.4, 1.0)
_writers: weakref.WeakSet[Writer] = weakref.WeakSet()


class Writer:
    """The background writer of one app's store.

    :param store: where to write.
    :param counters: where drops are counted (and whose pending counts are
        written with each batch).
    :param queue_size: the most reports waiting to be written.
    :param put_timeout: the most a request waits, in seconds, when the
        queue is full.
    :param batch_size: the most reports written in one transaction.
    :param logger: where the first failure of an outage is logged.
    :param retry_delays: the pauses, in seconds, between the attempts to
        write one batch before it is dropped.
    """

    def __init__(
        self,
        store: ReportStore,
        counters: Counters,
        *,
        queue_size: int = 10_000,
        put_timeout: float = 0.05,
        batch_size: int = 500,
        logger: logging.Logger | None = None,
        retry_delays: cabc.Sequence[float] = _RETRY_DELAYS,
    ) -> None:
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be positive")
        self.store = store
        self.counters = counters
        self.queue_size = queue_size
        self.put_timeout = put_timeout
        self.batch_size = batch_size
        self.logger = logger or logging.getLogger("flask_header_policy.reports")
        self.retry_delays = tuple(retry_delays)
        self._reset()
        _writers.add(self)

    def _reset(self) -> None:
        self._queue: queue.Queue[Report] = queue.Queue(maxsize=self.queue_size)
        self._lock = threading.Lock()
        self._done = threading.Condition(threading.Lock())
        self._unfinished = 0
        self._thread: threading.Thread | None = None
        self._failing = False
        self._counters_due = 0.0

    # The request side.

    def submit(self, batch: cabc.Iterable[Report]) -> int:
        """Queue reports; never waits more than ``put_timeout`` in all.

        :return: how many were queued; the others are counted as
            ``dropped:queue-full``.
        """
        deadline = time.monotonic() + self.put_timeout
        queued = dropped = 0
        for report in batch:
            with self._done:
                self._unfinished += 1
            try:
                self._queue.put(report, timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                self._finished(1)
                dropped += 1
                continue
            queued += 1
            if queued == 1:
                self._ensure_thread()
        self.counters.add("dropped:queue-full", dropped)
        return queued

    def __len__(self) -> int:
        """How many reports wait to be written."""
        return self._queue.qsize()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="header-policy-reports", daemon=True
                )
                self._thread.start()

    def _finished(self, count: int) -> None:
        with self._done:
            self._unfinished -= count
            self._done.notify_all()

    # The writer thread.

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            try:
                first = self._queue.get(timeout=_IDLE_POLL)
            except queue.Empty:
                # Counters pending without reports; while the database is
                # down, not more than once per idle exit period.
                if time.monotonic() >= self._counters_due:
                    if not self._write([]):
                        self._counters_due = time.monotonic() + _IDLE_EXIT
                with self._lock:
                    if self._queue.empty() and (
                        time.monotonic() - idle_since > _IDLE_EXIT
                    ):
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            finally:
                self._finished(len(batch))
            idle_since = time.monotonic()

    def _write(self, batch: list[Report]) -> bool:
        counts = self.counters.take_pending()
        if not batch and not counts:
            return True
        error: Exception | None = None
        for delay in (0.0, *self.retry_delays):
            if delay:
                time.sleep(delay)
            try:
                self.store.write(batch, counts)
            except CommitUncertain as uncertain:
                self.counters.add("dropped:uncertain", len(batch))
                self._failed(uncertain)
                return False
            except Exception as failure:  # any driver error: retry, then drop
                error = failure
                continue
            if self._failing:
                self._failing = False
                self.logger.warning("Header policy reports: the database is back")
            return True
        self.counters.give_back(counts)
        self.counters.add("dropped:database", len(batch))
        assert error is not None
        self._failed(error)
        return False

    def _failed(self, error: Exception) -> None:
        if self._failing:
            return
        self._failing = True
        self.logger.error(
            "Header policy reports: cannot write to %s (logged once until it"
            " works again; reports are counted as dropped): %s",
            self.store.url.render_as_string(hide_password=True),
            str(error).splitlines()[0][:300] if str(error) else type(error).__name__,
        )

    # Waiting.

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued report is written or dropped, and write
        the pending counters.

        :return: ``False`` when ``timeout`` seconds were not enough or the
            counters could not be written.
        """
        deadline = time.monotonic() + timeout
        with self._done:
            while self._unfinished > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._done.wait(remaining)
        return self._write([])


def _reset_all_after_fork() -> None:
    # A forked child has none of its parent's threads, and a queue or lock
    # the parent held at fork time would never be released: start afresh.
    # What the parent had queued, the parent writes.
    for writer in list(_writers):
        writer._reset()


@atexit.register
def _flush_all() -> None:
    for writer in list(_writers):
        writer.flush(timeout=5.0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_all_after_fork)
