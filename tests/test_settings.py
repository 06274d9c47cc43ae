"""Settings refuse what production must not run with, and say why."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.settings import Environment, Settings


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="development default"):
        Settings(environment=Environment.production)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment=Environment.production, jwt_secret="short")


def test_production_accepts_a_long_secret() -> None:
    settings = Settings(environment=Environment.production, jwt_secret="s" * 40)
    assert not settings.graphiql
    assert not settings.introspection


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
