"""Process configuration, read from `GATEWAY_*` environment variables (and `.env`)."""

from __future__ import annotations

import importlib.util
import ipaddress
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Final, Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET = "switchyard-development-secret-change-me-please"
MIN_SECRET_LENGTH = 32
# A production HS256 secret must also look random: "x" * 32 is long enough but guessable.
MIN_SECRET_DISTINCT_BYTES = 16
# Argon2id cost: RFC 9106's low-memory profile (argon2-cffi's default). Tests may go lower to
# run fast; production refuses anything below it.
PASSWORD_HASH_TIME_COST = 3
PASSWORD_HASH_MEMORY_KIB = 65_536

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# What tracing (gateway.observability.tracing) needs: the `otel` extra.
OTEL_PACKAGES: Final = (
    "opentelemetry.sdk",
    "opentelemetry.instrumentation.asgi",
    "opentelemetry.instrumentation.asyncpg",
    "opentelemetry.instrumentation.httpx",
)


def otel_installed() -> bool:
    """Whether the `otel` extra is installed (found, not imported: importing it is slow)."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in OTEL_PACKAGES)
    except ModuleNotFoundError:
        return False


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class LogFormat(StrEnum):
    json = "json"
    text = "text"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """Every knob of the gateway; the README has a table of them."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    environment: Environment = Environment.development
    database_url: str = "sqlite://./var/switchyard.sqlite3"
    # Scale-out (gateway.core.replicas, ADR 0020): a PostgreSQL streaming replica that answers
    # reads; writes, and a principal's reads for `read_your_writes_seconds` after its own write,
    # go to the primary (`database_url`).
    database_replica_url: str | None = None
    read_your_writes_seconds: float = Field(default=5.0, ge=0, le=3600)
    redis_url: str | None = None

    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    jwt_secret: SecretStr = SecretStr(DEFAULT_SECRET)
    jwt_private_key_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = "switchyard"
    jwt_audience: str = "switchyard-api"
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    password_hash_time_cost: int = Field(default=PASSWORD_HASH_TIME_COST, ge=1)
    password_hash_memory_kib: int = Field(default=PASSWORD_HASH_MEMORY_KIB, ge=32)  # 8 a lane

    # Peers whose `X-Forwarded-For` is believed (gateway.http.forwarded): IPs or CIDRs, comma
    # separated. Empty (the default) means the TCP peer is the client, whatever it claims.
    trusted_proxies: Annotated[tuple[IPNetwork, ...], NoDecode] = ()

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    signup_enabled: bool = True
    graphiql_enabled: bool | None = None
    introspection_enabled: bool | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    assets_dir: Path | None = None

    # Rate limit (gateway.http.middleware.rate_limit, ADR 0011): points per principal per 60 s
    # fixed window, shared by REST (1 point a request) and GraphQL (1 + node cost //
    # node_cost_per_point).
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = Field(default=1000, ge=1)
    rate_limit_anonymous_per_minute: int = Field(default=100, ge=1)
    rate_limit_node_cost_per_point: int = Field(default=100, ge=1)

    # GraphQL query limits (schema.http.limits, ADR 0009), checked before execution: nesting depth
    # (introspection fields not counted), aliases, tokens (comments included), and node cost
    # (the sum over connection fields of first/last times the page sizes of the enclosing ones).
    graphql_max_depth: int = Field(default=12, ge=1, le=100)
    graphql_max_aliases: int = Field(default=30, ge=0)
    graphql_max_tokens: int = Field(default=2000, ge=100)
    graphql_max_nodes: int = Field(default=50_000, ge=1)

    # Compiled reads (gateway.reads, ADR 0015): a GraphQL query the read model can express is
    # answered with one SQL statement per root field, the JSON built by the database. Off:
    # every GraphQL read goes through the resolvers and DataLoaders (the fallback, which tests
    # compare with). REST reads are always compiled: each route is a fixed plan.
    compiled_reads: bool = True

    # Idempotency-Key on REST POSTs (gateway.http.middleware.idempotency, ADR 0010): how long a
    # stored answer is replayed for a retry with the same key and body.
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)

    # Subscriptions (gateway.realtime, ADR 0016): events a subscriber may fall behind by before
    # its stream ends with "resume with `after`"; idle graphql-transport-ws pings; how often an
    # idle stream checks that its caller may still read it; the Redis channel (with
    # GATEWAY_REDIS_URL) shared by every process of one deployment.
    subscription_queue_size: int = Field(default=256, ge=1, le=100_000)
    subscription_keepalive_seconds: float = Field(default=15.0, gt=0)
    subscription_recheck_seconds: float = Field(default=30.0, gt=0)
    redis_events_channel: str = Field(default="switchyard:events", min_length=1)
    # Webhooks (gateway.webhooks, ADR 0017). The signing secrets are stored encrypted with
    # `webhook_secret_key` (a Fernet key: `Fernet.generate_key()`); unset, a key is derived from
    # the JWT secret, which production accepts only when that secret is not the default.
    webhook_secret_key: SecretStr | None = None
    # Targets on private, loopback, link-local, multicast or reserved addresses are refused
    # unless this is on (self-hosted intranets, tests).
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # The delivery worker (one per process): on by default, except under `environment=test`,
    # where tests run workers of their own.
    webhook_worker_enabled: bool | None = None
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_concurrency: int = Field(default=8, ge=1, le=100)

    # Operations (gateway.observability, ADR 0019). Logs: `json` (one object a line) or `text`;
    # unset, json in production and text elsewhere. Metrics at `GET /metrics`: on by default
    # except in production; with `metrics_token` set the endpoint wants `Authorization: Bearer
    # <token>`, which production demands unless the metrics have a listener of their own
    # (`metrics_port`, on `metrics_host`, loopback by default). Tracing needs the `otel` extra
    # and `GATEWAY_TRACING_ENABLED`; the exporter is configured by the standard `OTEL_*`.
    log_format: LogFormat | None = None
    log_level: str = "INFO"
    access_log: bool = True
    metrics_enabled: bool | None = None
    metrics_token: SecretStr | None = None
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    tracing_enabled: bool = False

    @field_validator("log_format", mode="before")
    @classmethod
    def _check_log_format(cls, value: object) -> object:
        if value is None or isinstance(value, LogFormat):
            return value
        text = str(value).strip().lower()
        if text not in LogFormat.__members__:
            raise ValueError(f"GATEWAY_LOG_FORMAT must be json or text, not {value!r}")
        return text

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, value: object) -> object:
        text = str(value).strip().upper()
        if text not in LOG_LEVELS:
            raise ValueError(f"GATEWAY_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        return text

    @model_validator(mode="after")
    def _refuse_open_metrics(self) -> Settings:
        if (
            self.is_production
            and self.metrics
            and self.metrics_token is None
            and self.metrics_port is None
        ):
            raise ValueError(
                "GATEWAY_METRICS_ENABLED in production needs GATEWAY_METRICS_TOKEN (scrapers send"
                " it as a bearer token) or GATEWAY_METRICS_PORT (a listener of their own)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_tracing_without_otel(self) -> Settings:
        if self.tracing_enabled and not otel_installed():
            raise ValueError(
                "GATEWAY_TRACING_ENABLED needs the otel extra: pip install 'switchyard[otel]'"
            )
        return self

    # Graceful shutdown (gateway.http.lifecycle, ADR 0020): after SIGTERM readiness is 503 for
    # `shutdown_drain_seconds` before the socket closes; requests in flight then get up to
    # `shutdown_grace_seconds` to finish.
    shutdown_drain_seconds: float = Field(default=1.0, ge=0, le=300)
    shutdown_grace_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Compression (gateway.http.middleware.compression): JSON answers of at least this many bytes
    # are sent gzip- or br-encoded when the client accepts it; 0 turns it off.
    compression_min_bytes: int = Field(default=1024, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, data: object) -> object:
        if isinstance(data, dict):
            origins = data.get("cors_origins")
            if isinstance(origins, str):
                data["cors_origins"] = [o.strip() for o in origins.split(",") if o.strip()]
        return data

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_networks(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        try:
            return tuple(
                ipaddress.ip_network(item.strip() if isinstance(item, str) else item)
                for item in items
                if not isinstance(item, str) or item.strip()
            )
        except ValueError as exc:
            raise ValueError(f"GATEWAY_TRUSTED_PROXIES: {exc}") from exc

    @model_validator(mode="after")
    def _refuse_unsafe_keys(self) -> Settings:
        if self.jwt_algorithm != "HS256":
            if self.jwt_private_key_file is None or self.jwt_public_key_file is None:
                raise ValueError(
                    f"{self.jwt_algorithm} needs GATEWAY_JWT_PRIVATE_KEY_FILE and"
                    " GATEWAY_JWT_PUBLIC_KEY_FILE (PEM)"
                )
        elif self.is_production:
            secret = self.jwt_secret.get_secret_value()
            if secret == DEFAULT_SECRET:
                raise ValueError(
                    "GATEWAY_JWT_SECRET is the development default; production needs its own"
                    " secret of at least 32 random bytes"
                )
            if len(secret.encode()) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"GATEWAY_JWT_SECRET is {len(secret.encode())} bytes; production needs"
                    f" at least {MIN_SECRET_LENGTH}"
                )
            if len(set(secret.encode())) < MIN_SECRET_DISTINCT_BYTES:
                raise ValueError(
                    f"GATEWAY_JWT_SECRET has fewer than {MIN_SECRET_DISTINCT_BYTES} distinct"
                    " bytes; production needs a random one (say `openssl rand -base64 48`)"
                )
        return self

    @model_validator(mode="after")
    def _refuse_cheap_password_hashing(self) -> Settings:
        if self.is_production and (
            self.password_hash_time_cost < PASSWORD_HASH_TIME_COST
            or self.password_hash_memory_kib < PASSWORD_HASH_MEMORY_KIB
        ):
            raise ValueError(
                "GATEWAY_PASSWORD_HASH_TIME_COST / GATEWAY_PASSWORD_HASH_MEMORY_KIB are below"
                f" {PASSWORD_HASH_TIME_COST} / {PASSWORD_HASH_MEMORY_KIB}; production refuses"
                " cheaper password hashing"
            )
        return self

    @model_validator(mode="after")
    def _refuse_bad_webhook_key(self) -> Settings:
        key = self.webhook_secret_key
        if key is not None:
            try:
                Fernet(key.get_secret_value().encode())
            except ValueError:
                raise ValueError(
                    "GATEWAY_WEBHOOK_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded"
                    " bytes, as `Fernet.generate_key()` makes)"
                ) from None
        elif self.is_production and self.jwt_secret.get_secret_value() == DEFAULT_SECRET:
            raise ValueError(
                "GATEWAY_WEBHOOK_SECRET_KEY is unset and GATEWAY_JWT_SECRET is the development"
                " default; production needs one of them set to derive the webhook key from"
            )
        return self

    @model_validator(mode="after")
    def _refuse_bad_replica(self) -> Settings:
        url = self.database_replica_url
        if url is None or not url.strip():
            self.database_replica_url = None
            return self
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "asyncpg") or not parts.hostname:
            raise ValueError(
                "GATEWAY_DATABASE_REPLICA_URL must be a postgres://user@host:port/database URL"
            )
        if urlsplit(self.database_url).scheme not in ("postgres", "asyncpg"):
            raise ValueError(
                "GATEWAY_DATABASE_REPLICA_URL needs GATEWAY_DATABASE_URL on PostgreSQL too"
            )
        try:
            parts.port  # noqa: B018 (a port that is not a number raises here)
        except ValueError:
            raise ValueError("GATEWAY_DATABASE_REPLICA_URL has an invalid port") from None
        return self

    @property
    def webhook_worker(self) -> bool:
        """Whether this process runs a delivery worker: on unless turned off, or in tests."""
        if self.webhook_worker_enabled is None:
            return self.environment is not Environment.test
        return self.webhook_worker_enabled

    @property
    def logs_as(self) -> LogFormat:
        """The log format: as set, else json in production and text elsewhere."""
        if self.log_format is None:
            return LogFormat.json if self.is_production else LogFormat.text
        return self.log_format

    @property
    def metrics(self) -> bool:
        """Metrics default to on, except in production."""
        return not self.is_production if self.metrics_enabled is None else self.metrics_enabled

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def graphiql(self) -> bool:
        """GraphiQL defaults to on, except in production."""
        return not self.is_production if self.graphiql_enabled is None else self.graphiql_enabled

    @property
    def introspection(self) -> bool:
        """Introspection defaults to on, except in production."""
        if self.introspection_enabled is None:
            return not self.is_production
        return self.introspection_enabled


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
