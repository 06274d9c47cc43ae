"""When a failed delivery is tried again: exponential backoff with jitter.

Attempt n (1-based) that fails waits `first * factor ** (n - 1)`, capped, times a random factor in
`1 ± jitter`, before attempt n+1; after `attempts` attempts the delivery is `failed`. The
defaults make 8 attempts over about 7 to 11 hours (30 s, 90 s, 4.5 min, 13.5 min, 40.5 min,
2 h, 6 h), past api.md's floor of 6 attempts over an hour even at the low end of the jitter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    attempts: int = 8
    first: timedelta = timedelta(seconds=30)
    factor: float = 3.0
    cap: timedelta = timedelta(hours=6)
    jitter: float = 0.2

    def delay(self, attempts_made: int, draw: float) -> timedelta | None:
        """The wait after the `attempts_made`-th failed attempt, `draw` uniform in [0, 1);
        None when no attempt is left."""
        if attempts_made >= self.attempts:
            return None
        base = min(self.first * self.factor ** (attempts_made - 1), self.cap)
        return base * (1 - self.jitter + 2 * self.jitter * draw)

    def bounds(self, attempts_made: int) -> tuple[timedelta, timedelta] | None:
        """The shortest and longest wait `delay` can give (for documentation and tests)."""
        low = self.delay(attempts_made, 0.0)
        high = self.delay(attempts_made, 1.0)
        return None if low is None or high is None else (low, high)


DEFAULT_SCHEDULE = RetrySchedule()
