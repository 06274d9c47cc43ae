"""JWT access tokens, and the only module that touches python-jose.

python-jose trusts a token's own `alg` unless told otherwise and lets DER-encoded keys past its
HMAC guard, so it is fenced in here: one algorithm, pinned by settings, checked against the
header before jose sees the token; PEM key files only for RS256/ES256; compact JWS only (never
JWE); `exp`, `iat`, `sub`, `jti`, `aud` and `iss` all required.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from jose import jws
from jose import jwt as jose_jwt
from jose.exceptions import JOSEError

from gateway.core.errors import Unauthenticated
from gateway.core.settings import Settings

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_REQUIRED = ("exp", "iat", "sub", "jti", "aud", "iss")
# A user id: ASCII digits without a leading zero (`str.isdigit` also takes full-width and
# superscript digits) and no larger than a BIGINT, so that no subject can reach the database
# as something it cannot hold.
_SUBJECT = re.compile(r"[1-9][0-9]{0,18}")
MAX_USER_ID = 2**63 - 1
VERIFIED_TOKENS = 4096  # tokens whose verification is remembered (`JwtCodec.decode`)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    jti: str
    expires_at: int


def _read_pem(path: Path, kind: str) -> str:
    text = path.read_text()
    if not text.lstrip().startswith("-----BEGIN"):
        raise ValueError(f"{path} is not a PEM {kind} key")
    return text


class JwtCodec:
    """Issues and checks access tokens with the algorithm and keys of one `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.algorithm = settings.jwt_algorithm
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.ttl = settings.access_token_ttl_seconds
        self._verified: dict[str, AccessClaims] = {}
        if self.algorithm == "HS256":
            secret = settings.jwt_secret.get_secret_value()
            if secret.lstrip().startswith("-----BEGIN") or secret.startswith("0\x82"):
                raise ValueError("GATEWAY_JWT_SECRET looks like a key; HS256 needs a secret")
            self._signing_key = self._verifying_key = secret
        else:
            private, public = settings.jwt_private_key_file, settings.jwt_public_key_file
            if private is None or public is None:  # Settings refuses this; keep mypy honest
                raise ValueError(f"{self.algorithm} needs PEM key files")
            self._signing_key = _read_pem(private, "private")
            self._verifying_key = _read_pem(public, "public")

    def issue(self, user_id: int, *, now: int | None = None) -> tuple[str, AccessClaims]:
        """A signed access token for `user_id`, and its claims."""
        issued = int(time.time()) if now is None else now
        claims = AccessClaims(user_id, secrets.token_urlsafe(16), issued + self.ttl)
        token = jose_jwt.encode(
            {
                "sub": str(user_id),
                "iat": issued,
                "exp": claims.expires_at,
                "jti": claims.jti,
                "iss": self.issuer,
                "aud": self.audience,
            },
            self._signing_key,
            algorithm=self.algorithm,
        )
        return token, claims

    def decode(self, token: str) -> AccessClaims:
        """The verified claims; any defect at all is `Unauthenticated`.

        A token verified once is remembered (the last `VERIFIED_TOKENS`): its signature and
        claims cannot change, and expiry is checked again on every use, as jose checks it
        (`exp` before now is expired). Only good tokens are kept; a bad one is checked anew.
        """
        claims = self._verified.get(token)
        if claims is not None and claims.expires_at >= time.time():
            return claims
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.pop(next(iter(self._verified)))  # the oldest
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> AccessClaims:
        if not _COMPACT_JWS.fullmatch(token):
            raise Unauthenticated("Malformed access token")
        try:
            header = jws.get_unverified_header(token)
        except JOSEError as exc:
            raise Unauthenticated("Malformed access token") from exc
        if header.get("alg") != self.algorithm:
            raise Unauthenticated("Token algorithm not accepted")
        try:
            payload = jose_jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={f"require_{claim}": True for claim in _REQUIRED},
            )
        except JOSEError as exc:
            raise Unauthenticated("Invalid or expired access token") from exc
        sub = payload.get("sub")
        if not isinstance(sub, str) or not _SUBJECT.fullmatch(sub) or int(sub) > MAX_USER_ID:
            raise Unauthenticated("Invalid access token subject")
        return AccessClaims(int(sub), str(payload["jti"]), int(payload["exp"]))
