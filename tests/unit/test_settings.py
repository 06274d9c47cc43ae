"""Settings refuse what production must not run with, and say why."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

import argon2
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from gateway.core.settings import Environment, Settings
from gateway.security import passwords


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="development default"):
        Settings(environment=Environment.production)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment=Environment.production, jwt_secret="short")


@pytest.mark.parametrize("secret", ["x" * 32, "ab" * 40, "0123456789abcde" * 4])
def test_production_refuses_a_long_secret_of_few_distinct_bytes(secret: str) -> None:
    with pytest.raises(ValidationError, match="fewer than 16 distinct bytes"):
        Settings(environment=Environment.production, jwt_secret=secret)


def test_production_accepts_a_random_secret() -> None:
    settings = Settings(environment=Environment.production, jwt_secret=secrets.token_urlsafe(32))
    assert not settings.graphiql
    assert not settings.introspection


def test_production_refuses_cheap_password_hashing() -> None:
    secret = secrets.token_urlsafe(32)
    production = Settings(environment=Environment.production, jwt_secret=secret)
    for cheap in ({"password_hash_time_cost": 2}, {"password_hash_memory_kib": 32_768}):
        with pytest.raises(ValidationError, match="cheaper password hashing"):
            Settings.model_validate(production.model_dump() | cheap)
    # Costlier is fine; cheap is fine outside production.
    Settings(environment=Environment.production, jwt_secret=secret, password_hash_time_cost=4)
    Settings(environment=Environment.test, password_hash_time_cost=1, password_hash_memory_kib=64)


async def test_passwords_are_hashed_at_the_configured_cost(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    made = argon2.extract_parameters(await passwords.hash_password("pw"))
    assert (made.time_cost, made.memory_cost) == (
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
    )
    # Unknown users are checked against a dummy hash of the same cost: the same time.
    dummy = argon2.extract_parameters(passwords._dummy_hash(passwords.hasher()))
    assert dummy == made
    default = Settings()
    assert (default.password_hash_time_cost, default.password_hash_memory_kib) == (3, 65_536)


def test_trusted_proxies_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().trusted_proxies == ()
    monkeypatch.setenv("GATEWAY_TRUSTED_PROXIES", " 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,")
    assert Settings().trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.1/32"),
        ipaddress.ip_network("2001:db8::/32"),
    )


@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.internal", "10.0.0.0/33"])
def test_trusted_proxies_refuse_what_is_not_a_network(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError, match="GATEWAY_TRUSTED_PROXIES"):
        Settings()


def test_development_defaults_enable_graphiql() -> None:
    settings = Settings(environment=Environment.development)
    assert settings.graphiql
    assert settings.introspection


def test_asymmetric_algorithms_need_key_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="KEY_FILE"):
        Settings(jwt_algorithm="RS256")


def test_cors_origins_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "http://a.test, http://b.test")
    assert Settings().cors_origins == ["http://a.test", "http://b.test"]
