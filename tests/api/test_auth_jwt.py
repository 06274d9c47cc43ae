"""The JWT fence with key files: RS256 round trip and algorithm confusion in both directions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from jose import jwt as jose_jwt

from gateway.core.errors import Unauthenticated
from gateway.core.settings import Settings
from gateway.security.jwt import JwtCodec
from gateway.services import principals
from tests.auth_helpers import make_user


def _pem_pair(directory: Path, name: str) -> tuple[Path, Path, bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path, public_path = directory / f"{name}.pem", directory / f"{name}.pub.pem"
    private_path.write_bytes(private)
    public_path.write_bytes(public)
    return private_path, public_path, private, public


@pytest.fixture
def rsa_settings(settings: Settings, tmp_path: Path) -> Settings:
    private_path, public_path, _, _ = _pem_pair(tmp_path, "signing")
    return settings.model_copy(
        update={
            "jwt_algorithm": "RS256",
            "jwt_private_key_file": private_path,
            "jwt_public_key_file": public_path,
        }
    )


def test_rs256_round_trip(rsa_settings: Settings) -> None:
    codec = JwtCodec(rsa_settings)
    token, claims = codec.issue(42)
    assert jose_jwt.get_unverified_header(token)["alg"] == "RS256"
    decoded = codec.decode(token)
    assert decoded == claims
    assert decoded.user_id == 42


async def test_rs256_token_authenticates_a_user(app: FastAPI, rsa_settings: Settings) -> None:
    ada = await make_user("ada")
    codec = JwtCodec(rsa_settings)
    token, _ = codec.issue(ada.id)
    principal = await principals.authenticate(token, codec)
    assert principal.user_id == ada.id
    assert principal.username == "ada"


def test_rs256_refuses_another_key_pair(rsa_settings: Settings, tmp_path: Path) -> None:
    other_private, other_public, _, _ = _pem_pair(tmp_path, "other")
    forger = JwtCodec(
        rsa_settings.model_copy(
            update={"jwt_private_key_file": other_private, "jwt_public_key_file": other_public}
        )
    )
    token, _ = forger.issue(42)
    with pytest.raises(Unauthenticated):
        JwtCodec(rsa_settings).decode(token)


def test_hs256_refuses_a_token_whose_header_says_rs256(
    settings: Settings, rsa_settings: Settings
) -> None:
    rs_token, _ = JwtCodec(rsa_settings).issue(42)
    with pytest.raises(Unauthenticated, match="algorithm"):
        JwtCodec(settings).decode(rs_token)


def test_rs256_refuses_hs256_signed_with_the_public_key(
    rsa_settings: Settings,
) -> None:
    """The classic confusion attack: HMAC keyed with the (public) verification key."""
    assert rsa_settings.jwt_public_key_file is not None
    public_pem = rsa_settings.jwt_public_key_file.read_text()
    codec = JwtCodec(rsa_settings)
    genuine, _ = codec.issue(42)
    claims = jose_jwt.get_unverified_claims(genuine)

    # python-jose itself refuses PEM HMAC keys, so sign the confused token by hand.
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        + "."
        + b64(json.dumps(claims).encode())
    )
    signature = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(signature)}"
    with pytest.raises(Unauthenticated, match="algorithm"):
        codec.decode(forged)


def test_the_largest_user_id_is_a_subject(settings: Settings) -> None:
    codec = JwtCodec(settings)
    token, _ = codec.issue(2**63 - 1)
    assert codec.decode(token).user_id == 2**63 - 1
