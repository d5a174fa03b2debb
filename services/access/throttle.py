"""Rate limit and lockout for `POST /v1/token`, where each attempt costs an scrypt.

Per source address, at most `per_minute` attempts in any minute. After `failures`
failed attempts within `lockout_seconds`, for one client id or from one source, that
client id or source is refused until the oldest of those failures is `lockout_seconds`
old. Refusals answer 429 with Retry-After and cost no scrypt. The counts live in the
process: with several replicas each counts its own share (the limits multiply).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

PRUNE_ABOVE = 10_000  # remembered keys before stale ones are dropped


class TokenThrottle:
    def __init__(
        self,
        per_minute: int,
        failures: int,
        lockout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.failures = failures
        self.lockout_seconds = lockout_seconds
        self.clock = clock
        self._attempts: dict[str, deque[float]] = {}
        self._failed: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, source: str, client_id: str | None) -> int | None:
        """None when this attempt may go on (and it is counted); else the seconds to wait."""
        now = self.clock()
        with self._lock:
            waits = [self._locked(f"source:{source}", now)]
            if client_id:
                waits.append(self._locked(f"client:{client_id}", now))
            attempts = self._recent(self._attempts, f"source:{source}", now, 60.0)
            if len(attempts) >= self.per_minute:
                waits.append(attempts[0] + 60.0 - now)
            wait = max(waits)
            if wait > 0:
                return max(1, math.ceil(wait))
            attempts.append(now)
            return None

    def failed(self, source: str, client_id: str | None) -> None:
        now = self.clock()
        with self._lock:
            keys = [f"source:{source}"] + ([f"client:{client_id}"] if client_id else [])
            for key in keys:
                self._recent(self._failed, key, now, self.lockout_seconds).append(now)

    def succeeded(self, client_id: str) -> None:
        with self._lock:
            self._failed.pop(f"client:{client_id}", None)

    def _locked(self, key: str, now: float) -> float:
        failed = self._recent(self._failed, key, now, self.lockout_seconds)
        if len(failed) < self.failures:
            return 0.0
        return failed[-self.failures] + self.lockout_seconds - now

    def _recent(
        self, table: dict[str, deque[float]], key: str, now: float, window: float
    ) -> deque[float]:
        if len(table) > PRUNE_ABOVE:
            for stale in [k for k, q in table.items() if not q or q[-1] <= now - window]:
                del table[stale]
        found = table.setdefault(key, deque())
        while found and found[0] <= now - window:
            found.popleft()
        return found
