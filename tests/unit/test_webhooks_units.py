"""The parts of webhook delivery that need no database: settings for the secret key, the
sealed secrets, the signature, the retry schedule and the SSRF guard's address rules."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from gateway.core.settings import Environment, Settings
from gateway.webhooks import secrets, targets
from gateway.webhooks.schedule import DEFAULT_SCHEDULE, RetrySchedule
from gateway.webhooks.signing import signature
from tests.environment import TEST_SECRET


def test_a_malformed_secret_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="GATEWAY_WEBHOOK_SECRET_KEY"):
        Settings(webhook_secret_key="not-a-fernet-key")


def test_production_will_not_derive_the_key_from_the_default_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="GATEWAY_WEBHOOK_SECRET_KEY"):
        Settings(
            environment=Environment.production,
            jwt_algorithm="RS256",
            jwt_private_key_file=Path("private.pem"),
            jwt_public_key_file=Path("public.pem"),
        )
    explicit = Settings(
        environment=Environment.production,
        jwt_algorithm="RS256",
        jwt_private_key_file=Path("private.pem"),
        jwt_public_key_file=Path("public.pem"),
        webhook_secret_key=Fernet.generate_key().decode(),
    )
    assert explicit.webhook_secret_key is not None


def test_secrets_are_sealed_and_only_the_same_key_opens_them() -> None:
    derived = Settings(jwt_secret=TEST_SECRET)
    secret = secrets.new_secret()
    assert secret.startswith(secrets.SECRET_PREFIX)
    assert len(secret) > 40
    sealed = secrets.seal(derived, secret)
    assert secret not in sealed
    assert secrets.unseal(derived, sealed) == secret
    assert secrets.unseal(Settings(jwt_secret=TEST_SECRET), sealed) == secret  # stable
    other = Settings(jwt_secret=TEST_SECRET, webhook_secret_key=Fernet.generate_key().decode())
    with pytest.raises(secrets.UnreadableSecret):
        secrets.unseal(other, sealed)


def test_the_signature_is_hmac_sha256_over_the_raw_body() -> None:
    body = b'{"type":"issue.created"}'
    expected = hmac.new(b"It's a Secret to Everybody", body, hashlib.sha256).hexdigest()
    assert signature("It's a Secret to Everybody", body) == f"sha256={expected}"


def test_the_schedule_backs_off_with_bounded_jitter() -> None:
    schedule = RetrySchedule()
    assert schedule.delay(1, 0.5) == timedelta(seconds=30)
    assert schedule.delay(2, 0.5) == timedelta(seconds=90)
    assert schedule.bounds(1) == (timedelta(seconds=24), timedelta(seconds=36))
    assert schedule.delay(7, 0.5) == timedelta(hours=6)  # capped
    assert schedule.delay(schedule.attempts, 0.5) is None
    low = sum(
        (schedule.delay(n, 0.0) or timedelta() for n in range(1, schedule.attempts)),
        timedelta(),
    )
    assert DEFAULT_SCHEDULE.attempts >= 6
    assert low >= timedelta(hours=1)


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("172.31.255.255", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("224.0.0.251", True),
        ("255.255.255.255", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("ff02::1", True),
        ("::", True),
        ("::ffff:10.0.0.1", True),
        ("::ffff:93.184.216.34", False),
    ],
)
def test_which_addresses_are_private(address: str, private: bool) -> None:
    assert targets.is_private(ipaddress.ip_address(address)) is private


@pytest.mark.parametrize(
    "url",
    ["ftp://x.example/", "//x.example/", "https://", "https://u:p@x.example/", "http://x y/"],
)
def test_malformed_targets_are_refused(url: str) -> None:
    with pytest.raises(targets.RefusedTarget):
        targets.parse(url)


def test_a_target_is_taken_apart() -> None:
    target = targets.parse("HTTPS://Example.COM:8443/hook?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "example.com", 8443)
    assert targets.parse("http://[::1]/").literal == ipaddress.ip_address("::1")
    assert targets.parse("http://example.com/").port == 80
