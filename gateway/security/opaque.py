"""Opaque secrets (refresh tokens, personal access tokens): generated here, stored as SHA-256.

A fast hash is right for these: they are 256-bit random strings, not guessable passwords.
"""

from __future__ import annotations

import hashlib
import secrets

PAT_PREFIX = "sy_pat_"
# Refresh tokens get a prefix too, so secret scanners (and people) can tell them apart.
REFRESH_PREFIX = "sy_rt_"
PAT_DISPLAY_LENGTH = len(PAT_PREFIX) + 5


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_personal_token(secret: str) -> bool:
    return secret.startswith(PAT_PREFIX)
