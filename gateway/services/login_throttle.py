"""Throttling of password checks: sign-in, and the current password before a sensitive change.

Three counters, none of which lets a stranger lock a user out:

- per (account, client address): the first `free_failures` failures cost nothing; from then on
  each attempt passes a gate that closes for a doubling delay (1 s, 2 s, 4 s, … up to
  `max_delay`), and meanwhile is answered 429 with `Retry-After`;
- per account, over every address: past `account_lock_after` failures in the window the account
  is locked, but only for addresses that have failed on it. One that has not (the owner's, say)
  still signs in with the right password; a wrong one puts it under the lock too;
- per client address, over every account: past `address_block_after` failures in the window
  the address is refused (credential stuffing).

Every attempt is counted before its password is checked, so parallel attempts cannot slip past a
limit; a refused or successful attempt takes its counts back, and a success clears its pair.
Accounts are keyed by user id when they exist and by the hashed name otherwise, so an unknown
name is throttled exactly like a real one: the answers tell nothing about who exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.counters import Throttle
from gateway.core.errors import RateLimited

TOO_MANY = "Too many failed sign-in attempts; retry later"
# Where the current password is confirmed inside a session: no address of its own.
IN_SESSION = "session"


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """Limits of failed password checks; windows are fixed, from a key's first attempt."""

    window_seconds: int = 15 * 60  # of the account and address counters
    pair_window_seconds: int = 60 * 60  # of one account's failures from one address
    free_failures: int = 5  # per pair, before the gate
    first_delay: int = 1  # seconds the gate closes after the last free failure, then doubling
    max_delay: int = 15 * 60
    account_lock_after: int = 10
    address_block_after: int = 50

    def delay(self, failures: int) -> int:
        """Seconds the gate stays closed after a pair's `failures`-th failure (past the free
        ones)."""
        doublings = min(max(0, failures - self.free_failures), 32)
        return min(self.first_delay << doublings, self.max_delay)


POLICY = LoginPolicy()


@dataclass(frozen=True, slots=True)
class Attempt:
    """The counters one admitted attempt was charged to."""

    throttle: Throttle
    pair: str
    gate: str
    account: str
    address: str | None

    async def succeeded(self) -> None:
        """A success is not a failure: take its counts back and forget the pair's failures."""
        await self.throttle.reset(self.pair)
        await self.throttle.reset(self.gate)
        await self._take_back_shared()

    async def refuse(self, retry_after: int) -> RateLimited:
        """Take back the counts of an attempt that is refused before its password is checked."""
        await self.throttle.refund(self.pair)
        await self._take_back_shared()
        return RateLimited(TOO_MANY, retry_after=retry_after)

    async def _take_back_shared(self) -> None:
        await self.throttle.refund(self.account)
        if self.address is not None:
            await self.throttle.refund(self.address)


async def admit(
    throttle: Throttle, account: str, address: str | None, policy: LoginPolicy
) -> Attempt:
    """Count an attempt on `account` from `address` (None: inside a session, no per-address
    counter), or raise `RateLimited` when a limit refuses it."""
    where = address if address is not None else IN_SESSION
    attempt = Attempt(
        throttle,
        pair=f"login:pair:{account}:{where}",
        gate=f"login:gate:{account}:{where}",
        account=f"login:account:{account}",
        address=None if address is None else f"login:addr:{address}",
    )
    # This pair's failures before this attempt (attempts still in flight included).
    failures = (await throttle.hit(attempt.pair, policy.pair_window_seconds)).count - 1
    retry_after = 0
    on_account = await throttle.hit(attempt.account, policy.window_seconds)
    if failures and on_account.count - 1 >= policy.account_lock_after:
        retry_after = on_account.retry_after
    if attempt.address is not None:
        on_address = await throttle.hit(attempt.address, policy.window_seconds)
        if on_address.count - 1 >= policy.address_block_after:
            retry_after = max(retry_after, on_address.retry_after)
    if not retry_after and failures + 1 >= policy.free_failures:
        # Should this attempt fail too, the next one from this pair waits for the gate.
        gate = await throttle.take(attempt.gate, 1, 1, policy.delay(failures + 1))
        if not gate.admitted:
            retry_after = gate.retry_after
    if retry_after:
        raise await attempt.refuse(retry_after)
    return attempt
