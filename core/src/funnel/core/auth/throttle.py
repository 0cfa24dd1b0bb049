"""Login throttling: per account and per client IP, with a lockout window.

Where the counters live, and why: **in process memory**. A login attempt must not cost a write to
PostgreSQL (that would make a password-spraying attack a write-amplification attack on the system
of record), and the schema has no attempts table. The trade-off, stated plainly: with N API
replicas behind a load balancer an attacker gets up to N times the allowance per window, and a
restart forgets the counters. With the limits below (5 failures per account per 15 minutes, 30
attempts per IP per 5 minutes) and argon2 costing ~50 ms per guess, N replicas still allow only
5·N guesses per account per quarter hour. When that is not enough, the same interface can be put
over a shared store (a table or Redis) without touching the callers.

A lock is a failure count reaching the limit inside the window; it lifts when the oldest failure
leaves the window, and ``Retry-After`` says when. A successful login clears the account's
failures (not the IP's: one valid account must not launder a spraying IP).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import time
from collections.abc import Callable

from funnel.core.errors import RateLimited


@dataclasses.dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    account_failures: int = 5
    account_window_s: float = 15 * 60
    ip_attempts: int = 30
    ip_window_s: float = 5 * 60
    #: Bounds memory under an attack from many addresses: the oldest keys are forgotten first.
    max_keys: int = 100_000


class LoginThrottle:
    def __init__(
        self,
        policy: ThrottlePolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or ThrottlePolicy()
        self._clock = clock
        self._account: collections.OrderedDict[str, collections.deque[float]] = (
            collections.OrderedDict()
        )
        self._ip: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()

    def check(self, account: str, ip: str | None) -> None:
        """Raise :class:`RateLimited` when this account is locked or this IP is over its rate.
        Counts the attempt against the IP (every attempt, successful or not)."""
        now = self._clock()
        account_wait = self._wait(
            self._account, account.lower(), now, self.policy.account_failures,
            self.policy.account_window_s,
        )  # fmt: skip
        ip_wait = 0.0
        if ip:
            ip_wait = self._wait(
                self._ip, ip, now, self.policy.ip_attempts, self.policy.ip_window_s
            )
        wait = max(account_wait, ip_wait)
        if wait > 0:
            raise RateLimited(
                "too many login attempts; try again later", retry_after_s=math.ceil(wait)
            )
        if ip:
            self._record(self._ip, ip, now)

    def failure(self, account: str) -> None:
        self._record(self._account, account.lower(), self._clock())

    def success(self, account: str) -> None:
        self._account.pop(account.lower(), None)

    def _wait(
        self,
        store: collections.OrderedDict[str, collections.deque[float]],
        key: str,
        now: float,
        limit: int,
        window: float,
    ) -> float:
        events = store.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - window:
            events.popleft()
        if len(events) < limit:
            return 0.0
        # Locked until enough of the oldest events have left the window.
        return events[len(events) - limit] + window - now

    def _record(
        self, store: collections.OrderedDict[str, collections.deque[float]], key: str, now: float
    ) -> None:
        events = store.get(key)
        if events is None:
            events = store[key] = collections.deque()
        else:
            store.move_to_end(key)
        events.append(now)
        # Never more than the largest limit is needed to decide.
        while len(events) > max(self.policy.account_failures, self.policy.ip_attempts):
            events.popleft()
        while len(store) > self.policy.max_keys:
            store.popitem(last=False)
