"""Rate limiting primitives for outbound WhatsApp sends.

WhatsApp enforces two independent limits (protocol doc §1.13):

* **Throughput per business number**: 80 messages/s by default (20 for coexistence numbers,
  1 000 after an upgrade), counted across all recipients. Exceeding it gives 130429.
  :class:`TokenBucket`, one per ``phone_number_id`` via :class:`ChannelLimiter`.
* **Pair rate per (business number, user)**: about one message every 6 s sustained, with short
  bursts that borrow from future quota and are repaid with a cooldown. Exceeding it gives 131056.
  :class:`PairRatePacer`.

Everything takes a :class:`Clock`, so tests drive time by hand and never sleep. The primitives
are per process: with several worker processes, give each its share of the channel's rate (the
bucket's ``rate`` is settable at any time).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from funnel.core.whatsapp.errors import backoff_delay

DEFAULT_MPS = 80.0
#: Meta's pair rate: one message per 6 s to the same user, sustained.
PAIR_INTERVAL_S = 6.0
#: Float slack. Without it, a refill that lands a hair short of one token asks for a wait so
#: small that adding it to the clock changes nothing, and ``acquire`` never finishes.
_EPSILON = 1e-9


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to. ``sleep`` advances it instantly.

    For tests and for simulations of the sender: the limiters behave exactly as in production,
    without real waiting.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(seconds, 0.0))
        # Still yield, so concurrent acquirers interleave as they would with a real clock.
        await asyncio.sleep(0)


class TokenBucket:
    """Classic token bucket: ``rate`` tokens per second, at most ``burst`` stored.

    :meth:`reserve` is the non-blocking core (it returns how long to wait and books nothing when
    the answer is not zero); :meth:`acquire` waits on the clock until a token is available.
    :meth:`pause` empties the bucket and blocks it for a while: that is how a 130429 from Meta
    slows every sender on the number, not only the one that got the error.
    """

    def __init__(
        self, rate: float = DEFAULT_MPS, burst: float | None = None, *, clock: Clock
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._clock = clock
        self._rate = rate
        self._burst = float(burst if burst is not None else max(1.0, rate))
        if self._burst < 1:
            raise ValueError("burst must allow at least one message")
        self._tokens = self._burst
        self._updated = clock.now()
        self._blocked_until = 0.0

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> float:
        return self._burst

    def set_rate(self, rate: float, burst: float | None = None) -> None:
        """Change the tier (a number upgraded to 1 000 mps) without losing the current state."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._refill()
        self._rate = rate
        self._burst = float(burst if burst is not None else max(1.0, rate))
        self._tokens = min(self._tokens, self._burst)

    def _refill(self) -> None:
        now = self._clock.now()
        start = max(self._updated, self._blocked_until)
        if now > start:
            self._tokens = min(self._burst, self._tokens + (now - start) * self._rate)
        self._updated = max(now, self._updated)

    def available(self) -> float:
        self._refill()
        return 0.0 if self._clock.now() < self._blocked_until else self._tokens

    def reserve(self, tokens: float = 1.0) -> float:
        """Take ``tokens`` and return 0, or take nothing and return the seconds to wait."""
        if tokens > self._burst:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of {self._burst}")
        self._refill()
        now = self._clock.now()
        if now < self._blocked_until - _EPSILON:
            return self._blocked_until - now + tokens / self._rate
        if self._tokens + _EPSILON >= tokens:
            self._tokens = max(0.0, self._tokens - tokens)
            return 0.0
        return (tokens - self._tokens) / self._rate

    async def acquire(self, tokens: float = 1.0) -> float:
        """Wait until ``tokens`` are available and take them. Returns the total time waited."""
        waited = 0.0
        while True:
            wait = self.reserve(tokens)
            if wait <= 0:
                return waited
            await self._clock.sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Empty the bucket and refuse everything for ``seconds`` (after a 130429)."""
        self._refill()
        self._tokens = 0.0
        self._blocked_until = max(self._blocked_until, self._clock.now() + seconds)


class ChannelLimiter:
    """One :class:`TokenBucket` per ``phone_number_id``, created on first use."""

    def __init__(self, *, default_rate: float = DEFAULT_MPS, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or MonotonicClock()
        self._default_rate = default_rate
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, phone_number_id: str, rate: float | None = None) -> TokenBucket:
        bucket = self._buckets.get(phone_number_id)
        if bucket is None:
            bucket = TokenBucket(rate or self._default_rate, clock=self._clock)
            self._buckets[phone_number_id] = bucket
        elif rate is not None and rate != bucket.rate:
            bucket.set_rate(rate)
        return bucket

    async def acquire(self, phone_number_id: str, rate: float | None = None) -> float:
        return await self.bucket(phone_number_id, rate).acquire()


@dataclass(slots=True)
class _PairState:
    #: Generic cell rate algorithm: the time at which this recipient's "debt" is fully repaid.
    tat: float
    #: Set when a burst exhausted the allowance: nothing more until the debt is repaid.
    cooling_until: float = 0.0


class PairRatePacer:
    """Per-recipient pacing for WhatsApp's pair rate limit.

    Sustained: one message per ``interval_s`` (6 s). Bursts: up to ``burst`` messages at once,
    each adding ``interval_s`` of debt. When a burst uses the whole allowance the recipient cools
    down until the debt is repaid (``burst * interval_s``: a 20-message burst, two minutes),
    which is what Meta is reported to do, rather than trickling one more message every 6 s.

    A Funnel bot answers one customer turn with one or two messages, so the default burst is
    small; campaign code can ask for a different pacer. State is bounded: at most
    ``max_recipients`` are remembered, least recently used first out (a forgotten recipient is
    one whose debt is long repaid, given the bound is large).
    """

    def __init__(
        self,
        *,
        interval_s: float = PAIR_INTERVAL_S,
        burst: int = 5,
        cooldown: bool = True,
        max_recipients: int = 100_000,
        clock: Clock | None = None,
    ) -> None:
        if interval_s <= 0 or burst < 1 or max_recipients < 1:
            raise ValueError("interval_s > 0, burst >= 1 and max_recipients >= 1 are required")
        self._clock: Clock = clock or MonotonicClock()
        self.interval_s = interval_s
        self.burst = burst
        self.cooldown = cooldown
        self._max = max_recipients
        self._state: OrderedDict[tuple[str, str], _PairState] = OrderedDict()

    def _get(self, key: tuple[str, str], now: float) -> _PairState:
        state = self._state.get(key)
        if state is None:
            # ``now`` is the caller's reading: a second clock read here would start the new
            # recipient a hair in debt, and a burst of one would then refuse its first message.
            state = _PairState(tat=now)
            self._state[key] = state
            while len(self._state) > self._max:
                self._state.popitem(last=False)
        else:
            self._state.move_to_end(key)
        return state

    def reserve(self, phone_number_id: str, recipient: str) -> float:
        """Book a send to ``recipient`` and return 0, or book nothing and return the wait."""
        now = self._clock.now()
        state = self._get((phone_number_id, recipient), now)
        if now < state.cooling_until - _EPSILON:
            return state.cooling_until - now
        tat = max(state.tat, now)
        # GCRA: allowed while the debt after this message stays within the burst allowance.
        allowance = self.burst * self.interval_s
        new_tat = tat + self.interval_s
        if new_tat - now <= allowance + _EPSILON:
            state.tat = new_tat
            return 0.0
        if self.cooldown:
            state.cooling_until = tat
            return tat - now
        return new_tat - now - allowance

    async def acquire(self, phone_number_id: str, recipient: str) -> float:
        waited = 0.0
        while True:
            wait = self.reserve(phone_number_id, recipient)
            if wait <= 0:
                return waited
            await self._clock.sleep(wait)
            waited += wait

    def penalise(self, phone_number_id: str, recipient: str, seconds: float) -> None:
        """Meta said 131056 for this recipient: nothing more to them for ``seconds``."""
        now = self._clock.now()
        state = self._get((phone_number_id, recipient), now)
        until = now + seconds
        state.cooling_until = max(state.cooling_until, until)
        state.tat = max(state.tat, until)

    def __len__(self) -> int:
        return len(self._state)


def pair_rate_backoff(
    attempt: int, *, jitter: float = 0.2, rng: random.Random | None = None
) -> float:
    """Delay before retry ``attempt`` (0-based) after a 131056: 4^n s, at least 6 s, capped.

    The same numbers as ``classify(131056).delay_s``; here for callers pacing a recipient.
    """
    return backoff_delay(
        attempt, base_s=1.0, factor=4.0, min_s=PAIR_INTERVAL_S, max_s=600.0, jitter=jitter, rng=rng
    )
