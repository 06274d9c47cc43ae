"""`Idempotency-Key` on REST POSTs: a retry with the same key and body replays the first answer.

A pure ASGI middleware, so it sees the raw body (for the fingerprint) and the whole answer (to
store it) without touching any route. The state lives in the database
(`gateway.repositories.idempotency`), so a replay works after a restart and across processes.
See history/adr/0010-idempotency-keys.md for the choices.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import DBConnectionError

from gateway.core.errors import (
    Conflict,
    DomainError,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from gateway.core.settings import IPNetwork
from gateway.http.deps import resolve_principal
from gateway.http.forwarded import client_address
from gateway.http.problems import problem
from gateway.repositories import idempotency as records
from models import IdempotencyRecord

logger = logging.getLogger("gateway.http.middleware.idempotency")

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
API_PREFIX: Final = "/api/v1/"
MAX_KEY_LENGTH: Final = 255
# How long a reservation blocks the key while its request runs; a process that dies mid-request
# leaves a row that stops answering 409 once this has passed.
LEASE: Final = timedelta(seconds=60)
# Expired rows are purged by the first keyed request after this many seconds (per process).
PURGE_INTERVAL_SECONDS: Final = 300.0
# The headers that belong to the answer itself; X-Request-ID, RateLimit-* and the like describe
# the request that carries them and are produced afresh for a replay.
STORED_HEADERS: Final = frozenset(
    {
        b"content-type",
        b"location",
        b"etag",
        b"link",
        b"cache-control",
        b"content-language",
        b"www-authenticate",
    }
)


def valid_key(key: str) -> bool:
    """1 to 255 printable ASCII characters (space included)."""
    return 1 <= len(key) <= MAX_KEY_LENGTH and all(" " <= c <= "~" for c in key)


def scope_digest(principal: str, method: str, path: str) -> str:
    """What a key is scoped to, hashed: `principal` is `user:<id>` or `addr:<client address>`."""
    return hashlib.sha256(f"{principal}\n{method}\n{path}".encode()).hexdigest()


def fingerprint(query_string: bytes, body: bytes) -> str:
    """SHA-256 of the request's query string and body."""
    h = hashlib.sha256()
    h.update(len(query_string).to_bytes(8, "big"))
    h.update(query_string)
    h.update(body)
    return h.hexdigest()


def _storable(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    """Deterministic answers are kept; 5xx and 429 are not (a retry may well succeed), nor an
    answer marked `no-store` (a token response: credentials never sit in this table)."""
    if status >= 500 or status == 429:
        return False
    return not any(
        name.lower() == b"cache-control" and b"no-store" in value.lower() for name, value in headers
    )


class IdempotencyMiddleware:
    """Replays the stored answer of a keyed `POST /api/v1/...` instead of running it again."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        ttl_seconds: int,
        trusted_proxies: Sequence[IPNetwork] = (),
    ) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)
        self.ttl = timedelta(seconds=ttl_seconds)
        self._next_purge = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not str(scope["path"]).startswith(API_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(b"idempotency-key")
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not valid_key(key):
            error = ValidationFailed.on(HEADER, "must be 1 to 255 printable ASCII characters")
            await _answer_error(error, scope, receive, send)
            return
        body, disconnected = await _read_body(receive)
        if disconnected:
            return
        claim: int | IdempotencyRecord | DomainError | None
        try:
            principal = await self._principal(scope)
            claim = None if principal is None else await self._claim(scope, key, principal, body)
        except (DBConnectionError, ConnectionError) as exc:
            logger.warning("database unreachable while checking an %s: %s", HEADER, exc)
            claim = ServiceUnavailable(
                "The database is unreachable; retry shortly", headers={"Retry-After": "5"}
            )
        if claim is None:
            # A bad credential: the route answers 401 itself; nothing is reserved for it.
            await self.app(scope, _replaying(body, receive), send)
        elif isinstance(claim, DomainError):
            await _answer_error(claim, scope, receive, send)
        elif isinstance(claim, IdempotencyRecord):
            await _replay(claim.status or 0, claim.headers, claim.body, send)
        else:
            await self._run_and_store(scope, receive, send, claim, body)

    async def _principal(self, scope: Scope) -> str | None:
        # Keyed on the user, not on the credential: an access token lives 15 minutes, and a
        # retry after a refresh must still find the first answer.
        try:
            principal = await resolve_principal(scope)
        except Unauthenticated:
            return None
        if principal is None:
            return f"addr:{client_address(scope, self.trusted_proxies)}"
        return f"user:{principal.user_id}"

    async def _claim(
        self, scope: Scope, key: str, principal: str, body: bytes
    ) -> int | IdempotencyRecord | DomainError:
        """The id of our new reservation, the stored answer to replay, or the error to send."""
        now = datetime.now(UTC)
        await self._purge(now)
        where = scope_digest(principal, "POST", str(scope["path"]))
        wanted = fingerprint(scope.get("query_string", b""), body)
        for _ in range(2):
            reserved = await records.reserve(
                scope=where, key=key, fingerprint=wanted, lease_until=now + LEASE
            )
            if reserved is not None:
                return int(reserved.id)
            existing = await records.find(where, key)
            if existing is None:
                continue
            if existing.expires_at <= now:
                await records.discard_if_expired(existing.id, now)
                continue
            if existing.fingerprint != wanted:
                return ValidationFailed.on(HEADER, "was already used with a different request")
            if existing.status is None:
                return _in_flight()
            return existing
        return _in_flight()

    async def _run_and_store(
        self, scope: Scope, receive: Receive, send: Send, record_id: int, body: bytes
    ) -> None:
        status = 0
        kept: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        settled = False

        async def recording_send(message: Message) -> None:
            nonlocal status, settled
            if message["type"] == "http.response.start":
                status = int(message["status"])
                kept[:] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    # Stored before the last byte leaves, so a client that has the answer
                    # and retries always gets the replay, never a 409.
                    await self._settle(record_id, status, kept, b"".join(chunks))
                    settled = True
            await send(message)

        try:
            await self.app(scope, _replaying(body, receive), recording_send)
        finally:
            if not settled:
                await _quietly_release(record_id)

    async def _settle(
        self, record_id: int, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        if not _storable(status, headers):
            await _quietly_release(record_id)
            return
        stored = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in headers
            if name.lower() in STORED_HEADERS
        ]
        try:
            await records.complete(
                record_id,
                status=status,
                headers=stored,
                body=body,
                expires_at=datetime.now(UTC) + self.ttl,
            )
        except Exception:  # the answer still goes out; the reservation lapses with its lease
            logger.exception("could not store the answer for an Idempotency-Key")

    async def _purge(self, now: datetime) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
        purged = await records.purge_expired(now)
        if purged:
            logger.info("purged %d expired idempotency keys", purged)


def _in_flight() -> Conflict:
    return Conflict(f"A request with this {HEADER} is still in progress; retry shortly")


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and whether the client went away while sending it."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", True
        parts.append(bytes(message.get("body", b"")))
        if not message.get("more_body", False):
            return b"".join(parts), False


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over the body already read, then defers to the server's."""
    delivered = False

    async def replay_receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive


async def _replay(status: int, headers: list[list[str]], body: bytes, send: Send) -> None:
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    raw.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": bytes(body), "more_body": False})


async def _answer_error(error: DomainError, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(error.code, error.detail, errors=error.errors, headers=error.headers)
    await response(scope, receive, send)


async def _quietly_release(record_id: int) -> None:
    try:
        await records.release(record_id)
    except Exception:  # the database is down: the reservation lapses with its lease
        logger.exception("could not release an Idempotency-Key reservation")
