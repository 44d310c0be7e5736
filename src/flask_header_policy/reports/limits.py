"""Bounds on what one client, and everyone together, can make the collector do.

- :class:`TokenBuckets`: a token bucket per client (``rate`` reports a second,
  up to ``burst`` at once) in a table of at most ``max_clients`` entries.
- :class:`FingerprintBudget`: at most ``limit`` fingerprints the process has
  not seen recently may be admitted per hour, so a flood of distinct reports
  cannot grow the database without bound.
- :class:`Counters`: what was dropped and why, in memory and pending for the
  database.

Every structure has a fixed maximum size; each is safe to share between
threads. Sans-IO: nothing here imports Flask.
"""

from __future__ import annotations

import collections
import threading
import time
import typing as t

__all__ = ["Counters", "FingerprintBudget", "TokenBuckets"]

Clock = t.Callable[[], float]


class TokenBuckets:
    """A token bucket per client, in a bounded least-recently-used table.

    A client that was evicted (the table is full of more recent clients)
    starts again with a full bucket: the bound on memory wins over the bound
    on a client that can spread over thousands of addresses.

    :param rate: tokens added per second.
    :param burst: the most tokens a bucket holds (and starts with).
    :param max_clients: the most buckets kept.
    :param clock: seconds, monotonic (tests pass their own).
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        max_clients: int = 10_000,
        clock: Clock = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1 or max_clients < 1:
            raise ValueError(
                "rate must be > 0, burst >= 1 and max_clients >= 1, got"
                f" {rate!r}, {burst!r}, {max_clients!r}"
            )
        self.rate = float(rate)
        self.burst = float(burst)
        self.max_clients = int(max_clients)
        self._clock = clock
        self._buckets: collections.OrderedDict[str, tuple[float, float]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: str, wanted: int = 1) -> int:
        """Take up to ``wanted`` tokens from ``client``'s bucket.

        :return: how many were granted, from 0 to ``wanted``.
        """
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            granted = min(wanted, int(tokens))
            self._buckets[client] = (tokens - granted, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return granted

    def retry_after(self) -> int:
        """Whole seconds until a drained bucket holds one token again."""
        return max(1, int(1 / self.rate + 0.999))


class FingerprintBudget:
    """Admit a bounded number of unfamiliar fingerprints per window.

    A fingerprint seen recently (among the last ``remember`` admitted) is
    always admitted: its row exists, only its count grows. Others use up the
    window's budget.

    :param limit: new fingerprints admitted per window.
    :param window: the window, in seconds.
    :param remember: how many recent fingerprints are remembered.
    """

    def __init__(
        self,
        limit: int = 1000,
        window: float = 3600.0,
        remember: int = 10_000,
        clock: Clock = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0 or remember < 1:
            raise ValueError("limit, window and remember must be positive")
        self.limit = int(limit)
        self.window = float(window)
        self.remember = int(remember)
        self._clock = clock
        self._known: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._started = clock()
        self._spent = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._known)

    def admit(self, fingerprint: str) -> bool:
        """Whether a report of ``fingerprint`` may be stored."""
        with self._lock:
            if fingerprint in self._known:
                self._known.move_to_end(fingerprint)
                return True
            now = self._clock()
            if now - self._started >= self.window:
                self._started, self._spent = now, 0
            if self._spent >= self.limit:
                return False
            self._spent += 1
            self._known[fingerprint] = None
            while len(self._known) > self.remember:
                self._known.popitem(last=False)
            return True


class Counters:
    """Named counts: the totals of this process, and what is pending for the
    database (taken by the writer, given back when a write fails)."""

    def __init__(self) -> None:
        self._totals: collections.Counter[str] = collections.Counter()
        self._pending: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def add(self, name: str, count: int = 1) -> None:
        if count <= 0:
            return
        with self._lock:
            self._totals[name] += count
            self._pending[name] += count

    def totals(self) -> dict[str, int]:
        """Every count of this process since it started."""
        with self._lock:
            return dict(self._totals)

    def take_pending(self) -> dict[str, int]:
        """The counts not yet written, now owned by the caller."""
        with self._lock:
            pending, self._pending = dict(self._pending), collections.Counter()
        return pending

    def give_back(self, pending: t.Mapping[str, int]) -> None:
        """Return counts a failed write could not store."""
        with self._lock:
            self._pending.update(pending)
