"""The delivery worker: one per server process, sending what the outbox holds.

It claims due deliveries through the database (`gateway.repositories.deliveries.claim`: a
lease, taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL), so any number of processes share
the work without sending one delivery twice at once, and a process killed mid-send loses only
its lease: once it runs out, a worker (after a restart, or in another process) sends the
delivery again. Each attempt is recorded: a 2xx answer ends the delivery; anything else is
retried on the schedule of `gateway.webhooks.schedule`, then `failed`.

Time and chance are parameters (`clock`, `draw`) so tests follow the schedule without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import BaseORMException

from gateway.core.settings import Settings
from gateway.observability.metrics import WEBHOOK_DELIVERIES
from gateway.reads.reader import dialect_of, read_root
from gateway.reads.roots import Root
from gateway.repositories import deliveries as delivery_repo
from gateway.repositories import webhooks as webhook_repo
from gateway.repositories.deliveries import Claim
from gateway.rest.shapes import EVENT
from gateway.webhooks import secrets
from gateway.webhooks.schedule import DEFAULT_SCHEDULE, RetrySchedule
from gateway.webhooks.sender import Outcome, Sender
from gateway.webhooks.signing import delivery_headers
from models import DeliveryState

_EVENT = Root("event", "r0", obj=EVENT.read)
SYSTEM = 0  # no caller: the event was authorized when the webhook was registered

log = logging.getLogger("gateway.webhooks")

Clock = Callable[[], datetime]
Draw = Callable[[], float]
LEASE_MARGIN = timedelta(seconds=5)


def utc_now() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    """Sends due deliveries, up to `settings.webhook_concurrency` at once (one per webhook at
    a time: only a webhook's oldest pending delivery is ever due)."""

    def __init__(
        self,
        settings: Settings,
        *,
        sender: Sender | None = None,
        clock: Clock = utc_now,
        draw: Draw = random.random,
        schedule: RetrySchedule = DEFAULT_SCHEDULE,
    ) -> None:
        self.settings = settings
        self.sender = sender or Sender(
            timeout=settings.webhook_timeout_seconds,
            allow_private=settings.webhook_allow_private,
        )
        self.clock = clock
        self.draw = draw
        self.schedule = schedule
        # Longer than an attempt can take (the sender bounds it by the timeout, DNS included).
        self.lease = timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_MARGIN
        self._wake = asyncio.Event()
        self._in_flight: dict[asyncio.Task[None], Claim] = {}
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Claim what is due now and send it all; returns how many attempts were made."""
        claims = await delivery_repo.claim(
            self.clock(), self.lease, self.settings.webhook_concurrency
        )
        await asyncio.gather(*(self._deliver(claim) for claim in claims))
        return len(claims)

    def start(self) -> None:
        """Run in the background until `stop()`."""
        self._task = asyncio.create_task(self._run(), name="webhook-delivery-worker")

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming, let the attempts under way finish (bounded by the timeout, and by
        `grace` when shutting down), hand the unfinished ones back to the outbox, close."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._in_flight:
            timeout = self.settings.webhook_timeout_seconds
            _, late = await asyncio.wait(
                set(self._in_flight), timeout=timeout if grace is None else min(grace, timeout)
            )
            unfinished = [self._in_flight[task] for task in late if task in self._in_flight]
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            await self._hand_back(unfinished)
        await self.sender.aclose()

    async def _hand_back(self, claims: list[Claim]) -> None:
        # Unrecorded attempts: due again at once for any process (at least once), rather than
        # when their leases run out. If the database is away the leases still lapse.
        if not claims:
            return
        try:
            released = await delivery_repo.release(claims)
        except (BaseORMException, OSError) as exc:
            log.warning("webhook worker could not hand %d deliveries back: %s", len(claims), exc)
            return
        log.info("webhook worker handed %d unfinished deliveries back to the outbox", released)

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before claiming: an attempt ending meanwhile wakes the wait
            free = self.settings.webhook_concurrency - len(self._in_flight)
            claims: list[Claim] = []
            if free > 0:
                try:
                    claims = await delivery_repo.claim(self.clock(), self.lease, free)
                except (BaseORMException, OSError) as exc:  # the database is away: try later
                    log.warning("webhook worker could not claim deliveries: %s", exc)
                except Exception:  # never let one bad round end the worker for good
                    log.exception("webhook worker: claiming failed")
                for claim in claims:
                    task = asyncio.create_task(self._deliver(claim))
                    self._in_flight[task] = claim
                    task.add_done_callback(self._done)
            if free == 0 or len(claims) < free:  # else more may be due at once
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._wake.set()  # a slot is free, and that webhook's next delivery may be due

    async def _deliver(self, claim: Claim) -> None:
        try:
            outcome = await self._attempt(claim)
        except (BaseORMException, OSError) as exc:
            # Unrecorded, the lease runs out and the delivery is tried again: at least once.
            log.warning("webhook delivery %s not attempted: %s", claim.guid, exc)
            return
        except Exception:  # a bug here must cost an attempt, not retry the delivery forever
            log.exception("webhook delivery %s failed unexpectedly", claim.guid)
            outcome = Outcome(status=None, duration_ms=0, error="internal error; see the logs")
        try:
            await self._record(claim, outcome)
        except (BaseORMException, OSError) as exc:
            log.warning("webhook delivery %s not recorded: %s", claim.guid, exc)

    async def _attempt(self, claim: Claim) -> Outcome:
        # The same JSON as an item of `GET /workspaces/{slug}/events`: the same read.
        dialect = dialect_of(self.settings)
        body = await read_root(_EVENT, dialect, SYSTEM, {"pk": claim.event_id})
        hooks = await webhook_repo.secrets_of([claim.webhook_id])
        if body is None or claim.webhook_id not in hooks:
            return Outcome(status=None, duration_ms=0, error="the event or webhook is gone")
        url, token = hooks[claim.webhook_id]
        try:
            secret = secrets.unseal(self.settings, token)
        except secrets.UnreadableSecret as exc:
            return Outcome(status=None, duration_ms=0, error=f"not sent: {exc}")
        headers = delivery_headers(claim.event_type, claim.guid, secret, body)
        return await self.sender.post(url, headers, body)

    async def _record(self, claim: Claim, outcome: Outcome) -> None:
        now = self.clock()
        attempts = claim.attempts + 1
        delay = None if outcome.succeeded else self.schedule.delay(attempts, self.draw())
        if outcome.succeeded:
            state = DeliveryState.succeeded
        elif delay is None:
            state = DeliveryState.failed
        else:
            state = DeliveryState.pending
        await delivery_repo.finish(
            claim,
            now=now,
            state=state,
            next_attempt_at=None if delay is None else now + delay,
            status=outcome.status,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
        )
        outcome_label = "retrying" if state is DeliveryState.pending else state.value
        WEBHOOK_DELIVERIES.labels(outcome_label).inc()  # operations (ADR 0019)
