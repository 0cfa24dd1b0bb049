"""Token bucket, pair-rate pacing and backoff, on a hand-driven clock: no test sleeps."""

from __future__ import annotations

import asyncio
import random

import pytest

from funnel.core.whatsapp.ratelimit import (
    ChannelLimiter,
    ManualClock,
    PairRatePacer,
    TokenBucket,
    pair_rate_backoff,
)


def test_bucket_allows_a_burst_then_the_sustained_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=80, clock=clock)
    assert all(bucket.reserve() == 0 for _ in range(80))
    wait = bucket.reserve()
    assert wait == pytest.approx(1 / 80)
    clock.advance(wait)
    assert bucket.reserve() == 0
    assert bucket.reserve() > 0


def test_bucket_refills_but_never_beyond_its_burst() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=10, burst=5, clock=clock)
    for _ in range(5):
        assert bucket.reserve() == 0
    clock.advance(3600)
    assert bucket.available() == pytest.approx(5)


def test_a_refused_reservation_takes_nothing() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=1, burst=1, clock=clock)
    assert bucket.reserve() == 0
    for _ in range(10):
        assert bucket.reserve() == pytest.approx(1.0)
    clock.advance(1.0)
    assert bucket.reserve() == 0


async def test_acquire_sustains_the_configured_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=20, burst=1, clock=clock)
    start = clock.now()
    for _ in range(101):
        await bucket.acquire()
    # 1 from the initial burst, then 100 at 20/s.
    assert clock.now() - start == pytest.approx(5.0)


async def test_concurrent_acquirers_share_the_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=10, burst=10, clock=clock)
    start = clock.now()
    await asyncio.gather(*(bucket.acquire() for _ in range(30)))
    assert clock.now() - start == pytest.approx(2.0, abs=0.11)
    assert bucket.available() < 1


def test_pause_after_130429_blocks_then_resumes() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=80, clock=clock)
    bucket.pause(1.0)
    assert bucket.available() == 0
    assert bucket.reserve() >= 1.0
    clock.advance(1.0)
    # Nothing accumulated during the pause: the number restarts from an empty bucket.
    assert bucket.reserve() == pytest.approx(1 / 80)
    clock.advance(1 / 80)
    assert bucket.reserve() == 0


def test_set_rate_changes_the_tier() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=80, clock=clock)
    bucket.set_rate(1000)
    assert bucket.burst == 1000
    clock.advance(1.0)
    assert bucket.available() == pytest.approx(1000)


def test_invalid_configuration_is_refused() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0, clock=clock)
    with pytest.raises(ValueError, match="cannot take"):
        TokenBucket(rate=1, burst=1, clock=clock).reserve(2)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_channel_limiter_keeps_one_bucket_per_number() -> None:
    clock = ManualClock()
    limiter = ChannelLimiter(default_rate=2, clock=clock)
    a = limiter.bucket("111")
    assert limiter.bucket("111") is a
    assert a.reserve() == 0
    assert a.reserve() == 0
    assert a.reserve() > 0
    # Another number has its own budget.
    assert limiter.bucket("222").reserve() == 0
    # A coexistence number gets its own tier.
    assert limiter.bucket("333", rate=20).rate == 20
    assert limiter.bucket("333", rate=40).rate == 40


def test_pair_rate_allows_a_burst_then_cools_down_until_repaid() -> None:
    clock = ManualClock()
    pacer = PairRatePacer(interval_s=6, burst=3, clock=clock)
    assert [pacer.reserve("pn", "u1") for _ in range(3)] == [0, 0, 0]
    wait = pacer.reserve("pn", "u1")
    assert wait == pytest.approx(18.0)
    clock.advance(6)
    # Still cooling: a burst is repaid in full before the next message.
    assert pacer.reserve("pn", "u1") == pytest.approx(12.0)
    clock.advance(12)
    assert [pacer.reserve("pn", "u1") for _ in range(3)] == [0, 0, 0]


def test_pair_rate_without_cooldown_trickles_one_every_interval() -> None:
    clock = ManualClock()
    pacer = PairRatePacer(interval_s=6, burst=2, cooldown=False, clock=clock)
    assert pacer.reserve("pn", "u1") == 0
    assert pacer.reserve("pn", "u1") == 0
    assert pacer.reserve("pn", "u1") == pytest.approx(6.0)
    clock.advance(6)
    assert pacer.reserve("pn", "u1") == 0


def test_pair_rate_is_per_recipient_and_per_number() -> None:
    clock = ManualClock()
    pacer = PairRatePacer(interval_s=6, burst=1, clock=clock)
    assert pacer.reserve("pn", "u1") == 0
    assert pacer.reserve("pn", "u1") > 0
    assert pacer.reserve("pn", "u2") == 0
    assert pacer.reserve("other", "u1") == 0


def test_sustained_pair_rate_is_one_per_interval() -> None:
    clock = ManualClock()
    pacer = PairRatePacer(interval_s=6, burst=1, clock=clock)
    for _ in range(10):
        assert pacer.reserve("pn", "u1") == 0
        clock.advance(6)


async def test_pair_rate_acquire_waits_on_the_clock() -> None:
    clock = ManualClock()
    pacer = PairRatePacer(interval_s=6, burst=2, clock=clock)
    start = clock.now()
    for _ in range(4):
        await pacer.acquire("pn", "u1")
    assert clock.now() - start == pytest.approx(12.0)
    assert clock.slept == [pytest.approx(12.0)]


def test_penalty_after_131056_holds_only_that_recipient() -> None:
    clock = ManualClock()
    pacer = PairRatePacer(clock=clock)
    pacer.penalise("pn", "u1", 16)
    assert pacer.reserve("pn", "u1") == pytest.approx(16)
    assert pacer.reserve("pn", "u2") == 0
    clock.advance(16)
    assert pacer.reserve("pn", "u1") == 0


def test_pair_rate_state_is_bounded() -> None:
    clock = ManualClock()
    pacer = PairRatePacer(max_recipients=100, clock=clock)
    for i in range(1000):
        pacer.reserve("pn", f"u{i}")
    assert len(pacer) == 100


def test_pair_rate_backoff_is_4_to_the_n_from_6_seconds() -> None:
    assert [pair_rate_backoff(n, jitter=0) for n in range(6)] == [6, 6, 16, 64, 256, 600]
    jittered = pair_rate_backoff(2, jitter=0.25, rng=random.Random(1))
    assert 16 <= jittered <= 20


class TickingClock(ManualClock):
    """Moves a microsecond on every reading, like a real monotonic clock under load."""

    def now(self) -> float:
        self.advance(1e-6)
        return super().now()


def test_first_message_to_a_new_recipient_is_allowed_on_a_moving_clock() -> None:
    pacer = PairRatePacer(interval_s=3600, burst=1, clock=TickingClock())
    assert pacer.reserve("pn", "u1") == 0
    assert pacer.reserve("pn", "u1") > 0
