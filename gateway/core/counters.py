"""Fixed-window counters: the building block of every limit (failed sign-ins, and the general
request rate limit of `gateway.http.middleware.rate_limit`).

A `Throttle` counts hits per key inside a window that starts at the key's first hit and ends
`window_seconds` later. Two implementations: `MemoryThrottle` (one process; the default) and
`RedisThrottle` (shared by every process, used when `GATEWAY_REDIS_URL` is set). Callers decide
what a count means; this module only counts, atomically: `hit` counts one, `take` spends several
points at once, and only if they still fit under a limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.core.errors import ServiceUnavailable
from gateway.core.settings import Settings


@dataclass(frozen=True, slots=True)
class Window:
    """The state of one key after a hit: hits so far in the window, and whole seconds until the
    window closes (at least 1, so it can go straight into `Retry-After`)."""

    count: int
    retry_after: int


@dataclass(frozen=True, slots=True)
class Charge:
    """The outcome of `take`: whether the points were spent, the points spent in the window so
    far (this charge included when admitted), and whole seconds until the window closes."""

    admitted: bool
    count: int
    retry_after: int


class Throttle(Protocol):
    """Atomic per-key hit counters with a fixed window."""

    async def hit(self, key: str, window_seconds: int) -> Window:
        """Count one hit on `key`; the window starts with the key's first hit."""
        ...

    async def take(self, key: str, cost: int, limit: int, window_seconds: int) -> Charge:
        """Spend `cost` points on `key` if the window's total stays within `limit`; otherwise
        spend nothing (a refused request does not dig the hole deeper)."""
        ...

    async def refund(self, key: str) -> None:
        """Take back one hit (say, an attempt that turned out to succeed)."""
        ...

    async def reset(self, key: str) -> None:
        """Forget `key` altogether."""
        ...

    async def aclose(self) -> None:
        """Release connections; called once when the app shuts down."""
        ...


def _seconds(remaining: float) -> int:
    # Rounded to the millisecond first: `(now + 60) - now` may come out as 60.000000000001,
    # which must read as 60, not 61.
    return max(1, math.ceil(round(remaining, 3)))


class MemoryThrottle:
    """Counters in this process's memory. Each method runs without awaiting, so on one event
    loop it is atomic. With several workers each keeps its own counts: use Redis there."""

    # Expired keys are swept once the table grows past this (then past twice its live size).
    SWEEP_AT = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._slots: dict[str, tuple[int, float]] = {}  # key → (count, closes_at)
        self._sweep_at = self.SWEEP_AT

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        slot = self._slots.get(key)
        if slot is None or slot[1] <= now:
            return None
        return slot

    async def hit(self, key: str, window_seconds: int) -> Window:
        now = self._clock()
        if len(self._slots) >= self._sweep_at:
            self._sweep(now)
        count, closes_at = self._live(key, now) or (0, now + window_seconds)
        self._slots[key] = (count + 1, closes_at)
        return Window(count + 1, _seconds(closes_at - now))

    async def take(self, key: str, cost: int, limit: int, window_seconds: int) -> Charge:
        now = self._clock()
        if len(self._slots) >= self._sweep_at:
            self._sweep(now)
        count, closes_at = self._live(key, now) or (0, now + window_seconds)
        if count + cost > limit:
            return Charge(False, count, _seconds(closes_at - now))
        self._slots[key] = (count + cost, closes_at)
        return Charge(True, count + cost, _seconds(closes_at - now))

    async def refund(self, key: str) -> None:
        slot = self._live(key, self._clock())
        if slot is not None and slot[0] > 0:
            self._slots[key] = (slot[0] - 1, slot[1])

    async def reset(self, key: str) -> None:
        self._slots.pop(key, None)

    async def aclose(self) -> None:
        self._slots.clear()

    def _sweep(self, now: float) -> None:
        self._slots = {k: v for k, v in self._slots.items() if v[1] > now}
        self._sweep_at = max(self.SWEEP_AT, 2 * len(self._slots))


# INCR and the expiry in one script, so no key is ever left without one (a crash between two
# separate commands would make it count forever). PTTL < 0 also repairs such a key.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
# Read, compare and INCRBY in one script, so two processes can never both spend the last points.
# A key without an expiry (PTTL -1) is repaired; a missing one (-2) reports a whole window.
_TAKE = """
local cost = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count + cost > limit then
  if ttl < 0 then ttl = window end
  return {0, count, ttl}
end
count = redis.call('INCRBY', KEYS[1], cost)
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
return {1, count, ttl}
"""
# DECR on a missing key would create it at -1 with no expiry; only touch a live positive count.
_REFUND = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisThrottle:
    """Counters in Redis, shared by every worker and host. Redis being unreachable is
    SERVICE_UNAVAILABLE: a security limit fails closed rather than silently switching off."""

    def __init__(self, client: Redis, namespace: str = "switchyard:throttle:") -> None:
        self._client = client
        self._namespace = namespace
        self._hit = client.register_script(_HIT)
        self._refund = client.register_script(_REFUND)
        self._take = client.register_script(_TAKE)

    @classmethod
    def from_url(cls, url: str, namespace: str = "switchyard:throttle:") -> RedisThrottle:
        return cls(Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), namespace)

    async def hit(self, key: str, window_seconds: int) -> Window:
        try:
            count, ttl_ms = await self._hit(
                keys=[self._namespace + key], args=[window_seconds * 1000]
            )
        except RedisError as exc:
            raise _unavailable() from exc
        return Window(int(count), _seconds(int(ttl_ms) / 1000))

    async def take(self, key: str, cost: int, limit: int, window_seconds: int) -> Charge:
        try:
            admitted, count, ttl_ms = await self._take(
                keys=[self._namespace + key], args=[cost, limit, window_seconds * 1000]
            )
        except RedisError as exc:
            raise _unavailable() from exc
        return Charge(bool(admitted), int(count), _seconds(int(ttl_ms) / 1000))

    async def refund(self, key: str) -> None:
        try:
            await self._refund(keys=[self._namespace + key])
        except RedisError as exc:
            raise _unavailable() from exc

    async def reset(self, key: str) -> None:
        try:
            await self._client.delete(self._namespace + key)
        except RedisError as exc:
            raise _unavailable() from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("The rate limiter is unreachable", headers={"Retry-After": "5"})


def build_throttle(settings: Settings) -> Throttle:
    """Redis when `redis_url` is set, else this process's memory."""
    if settings.redis_url:
        return RedisThrottle.from_url(settings.redis_url)
    return MemoryThrottle()
