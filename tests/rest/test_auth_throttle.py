"""The fixed-window counters behind sign-in throttling: in memory and in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.core.counters import MemoryThrottle, RedisThrottle, build_throttle
from gateway.core.errors import ServiceUnavailable
from gateway.core.settings import Settings
from tests.auth_helpers import REDIS_URL, FakeClock, throttle_on_redis


async def test_memory_window_counts_then_resets() -> None:
    clock = FakeClock()
    throttle = MemoryThrottle(clock)
    assert (await throttle.hit("k", 60)).count == 1
    clock.advance(20.5)
    second = await throttle.hit("k", 60)
    assert second.count == 2
    assert second.retry_after == 40  # the window runs from the first hit, rounded up
    assert (await throttle.hit("other", 60)).count == 1
    clock.advance(40)
    fresh = await throttle.hit("k", 60)
    assert (fresh.count, fresh.retry_after) == (1, 60)


async def test_memory_refund_and_reset() -> None:
    clock = FakeClock()
    throttle = MemoryThrottle(clock)
    await throttle.refund("never-hit")  # no negative counts
    assert (await throttle.hit("never-hit", 60)).count == 1
    await throttle.hit("k", 60)
    await throttle.hit("k", 60)
    await throttle.refund("k")
    assert (await throttle.hit("k", 60)).count == 2
    await throttle.reset("k")
    assert (await throttle.hit("k", 60)).count == 1


async def test_memory_sweeps_expired_keys() -> None:
    clock = FakeClock()
    throttle = MemoryThrottle(clock)
    throttle._sweep_at = 10
    for i in range(10):
        await throttle.hit(f"old-{i}", 5)
    clock.advance(6)
    await throttle.hit("new", 5)
    assert list(throttle._slots) == ["new"]


async def test_memory_hits_are_atomic() -> None:
    throttle = MemoryThrottle()
    windows = await asyncio.gather(*(throttle.hit("k", 60) for _ in range(50)))
    assert sorted(w.count for w in windows) == list(range(1, 51))


@pytest.fixture
async def redis_throttle() -> AsyncIterator[RedisThrottle]:
    async with throttle_on_redis() as throttle:
        yield throttle


async def _elapse(throttle: RedisThrottle, key: str, seconds: float) -> None:
    """Let `seconds` pass for `key` as Redis sees it: its TTL shrinks, and at zero it is gone
    (which is all that time does to a key), so no test waits for real."""
    name = throttle._namespace + key
    left = int(await throttle._client.pttl(name)) - int(seconds * 1000)
    if left > 0:
        await throttle._client.pexpire(name, left)
    else:
        await throttle._client.delete(name)


async def test_redis_window_counts_then_resets(redis_throttle: RedisThrottle) -> None:
    first = await redis_throttle.hit("k", 60)
    assert (first.count, first.retry_after) == (1, 60)
    assert (await redis_throttle.hit("k", 60)).count == 2
    assert (await redis_throttle.hit("other", 60)).count == 1
    await _elapse(redis_throttle, "k", 60)
    fresh = await redis_throttle.hit("k", 60)
    assert (fresh.count, fresh.retry_after) == (1, 60)


async def test_redis_window_is_not_extended_by_hits(redis_throttle: RedisThrottle) -> None:
    await redis_throttle.hit("k", 100)
    await _elapse(redis_throttle, "k", 30.5)
    later = await redis_throttle.hit("k", 100)
    assert (later.count, later.retry_after) == (2, 70)


async def test_redis_refund_and_reset(redis_throttle: RedisThrottle) -> None:
    await redis_throttle.refund("never-hit")
    assert (await redis_throttle.hit("never-hit", 60)).count == 1
    await redis_throttle.hit("k", 60)
    await redis_throttle.hit("k", 60)
    await redis_throttle.refund("k")
    assert (await redis_throttle.hit("k", 60)).count == 2
    await redis_throttle.reset("k")
    assert (await redis_throttle.hit("k", 60)).count == 1


async def test_redis_hits_are_atomic(redis_throttle: RedisThrottle) -> None:
    windows = await asyncio.gather(*(redis_throttle.hit("k", 60) for _ in range(50)))
    assert sorted(w.count for w in windows) == list(range(1, 51))


async def test_redis_unreachable_is_service_unavailable() -> None:
    throttle = RedisThrottle.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            await throttle.hit("k", 60)
        assert caught.value.headers["Retry-After"] == "5"
    finally:
        await throttle.aclose()


async def test_settings_choose_the_implementation(settings: Settings) -> None:
    assert isinstance(build_throttle(settings), MemoryThrottle)
    shared = build_throttle(settings.model_copy(update={"redis_url": REDIS_URL}))
    assert isinstance(shared, RedisThrottle)
    await shared.aclose()


async def test_a_fresh_window_reports_its_full_length() -> None:
    # At this clock reading `(now + 60) - now` is 60.00000000000091 in floating point; the
    # window still has 60 seconds to go, not 61.
    now = 8174.326235239371
    assert (now + 60) - now > 60
    throttle = MemoryThrottle(lambda: now)
    assert (await throttle.take("k", 1, 10, 60)).retry_after == 60
    assert (await throttle.hit("h", 60)).retry_after == 60
