"""Automatic persisted queries, in Apollo's protocol.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`. With the
query, the hash is checked and the pair remembered (once the query has parsed and validated);
without it, the query is looked up by its hash, and an unknown hash answers the error Apollo
clients look for (`PersistedQueryNotFound`, code `PERSISTED_QUERY_NOT_FOUND`), after which they
send the full query once. That lets an SPA send short GETs a CDN or browser can cache.

The store lives in Redis when `GATEWAY_REDIS_URL` is set (shared by every process, entries kept
7 days after their last use) and in a bounded in-process LRU otherwise. A store that fails only
costs a round trip: a lookup that errors is a miss, a save that errors is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Final, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.core.errors import ErrorCode
from gateway.core.settings import Settings

logger = logging.getLogger("gateway.graphql")

NOT_FOUND_MESSAGE: Final = "PersistedQueryNotFound"
NOT_FOUND_CODE: Final = "PERSISTED_QUERY_NOT_FOUND"
PROTOCOL_VERSION: Final = 1
DEFAULT_MAX_ENTRIES: Final = 10_000
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024
DEFAULT_TTL_SECONDS: Final = 7 * 24 * 3600
REDIS_PREFIX: Final = "switchyard:apq:"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class PersistedQueryStore(Protocol):
    """Where query texts are kept by their SHA-256 (lower-case hex)."""

    async def get(self, sha256_hash: str) -> str | None: ...

    async def put(self, sha256_hash: str, query: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryPersistedQueries:
    """One process's store: least recently used entries go first, bounded both in entries
    and in total query size (a body may be up to the request limit, so a count alone would
    let a client pin gigabytes)."""

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._queries: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._queries)

    async def get(self, sha256_hash: str) -> str | None:
        query = self._queries.get(sha256_hash)
        if query is not None:
            self._queries.move_to_end(sha256_hash)
        return query

    async def put(self, sha256_hash: str, query: str) -> None:
        size = len(query.encode())
        if size > self.max_bytes:
            return
        previous = self._queries.pop(sha256_hash, None)
        if previous is not None:
            self._bytes -= len(previous.encode())
        self._queries[sha256_hash] = query
        self._bytes += size
        while len(self._queries) > self.max_entries or self._bytes > self.max_bytes:
            _, evicted = self._queries.popitem(last=False)
            self._bytes -= len(evicted.encode())

    async def aclose(self) -> None:
        self._queries.clear()
        self._bytes = 0


class RedisPersistedQueries:
    """Shared by every process on one Redis; each read slides the entry's expiry."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = REDIS_PREFIX,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = REDIS_PREFIX, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> RedisPersistedQueries:
        client = Redis.from_url(url, decode_responses=True, socket_timeout=2)
        return cls(client, prefix=prefix, ttl_seconds=ttl_seconds)

    def key(self, sha256_hash: str) -> str:
        return self.prefix + sha256_hash

    async def get(self, sha256_hash: str) -> str | None:
        try:
            value = await self.client.getex(self.key(sha256_hash), ex=self.ttl_seconds)
        except RedisError as exc:
            logger.warning("persisted-query lookup failed, treated as a miss: %s", exc)
            return None
        return value if isinstance(value, str) else None

    async def put(self, sha256_hash: str, query: str) -> None:
        try:
            await self.client.set(self.key(sha256_hash), query, ex=self.ttl_seconds)
        except RedisError as exc:
            logger.warning("persisted query not saved: %s", exc)

    async def aclose(self) -> None:
        await self.client.aclose()


def build_store(settings: Settings) -> PersistedQueryStore:
    """Redis when the settings name one, else this process's memory."""
    if settings.redis_url:
        return RedisPersistedQueries.from_url(settings.redis_url)
    return MemoryPersistedQueries()


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueryError(Exception):
    """A persisted-query request that cannot run; `code` goes to `extensions.code`."""

    def __init__(self, message: str, code: str = ErrorCode.VALIDATION_FAILED.value) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def not_found(self) -> bool:
        return self.code == NOT_FOUND_CODE


def requested_hash(extensions: Mapping[str, object] | None) -> str | None:
    """The hash named by `extensions.persistedQuery`, or None when the request has none."""
    if not extensions or extensions.get("persistedQuery") is None:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, Mapping):
        raise PersistedQueryError("extensions.persistedQuery must be an object")
    if persisted.get("version") != PROTOCOL_VERSION:
        raise PersistedQueryError(
            f"Unsupported persisted query version; only version {PROTOCOL_VERSION} is supported"
        )
    sha256_hash = persisted.get("sha256Hash")
    if not isinstance(sha256_hash, str) or not _SHA256_HEX.fullmatch(sha256_hash.lower()):
        raise PersistedQueryError(
            "extensions.persistedQuery.sha256Hash must be a SHA-256 digest in hexadecimal"
        )
    return sha256_hash.lower()


async def resolve(
    store: PersistedQueryStore, query: str | None, extensions: Mapping[str, object] | None
) -> tuple[str | None, str | None]:
    """`(query to run, hash to remember once it validates)`: the query is the one sent (its
    hash checked) or the one stored; the hash is None when there is nothing to remember."""
    sha256_hash = requested_hash(extensions)
    if sha256_hash is None:
        return query, None
    if query is not None:
        if sha256_hex(query) != sha256_hash:
            raise PersistedQueryError(
                "PersistedQueryHashMismatch: extensions.persistedQuery.sha256Hash is not"
                " the SHA-256 of the query sent"
            )
        return query, sha256_hash
    stored = await store.get(sha256_hash)
    if stored is None:
        raise PersistedQueryError(NOT_FOUND_MESSAGE, NOT_FOUND_CODE)
    return stored, None
