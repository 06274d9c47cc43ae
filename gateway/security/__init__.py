"""Credentials: password hashing, JWTs, opaque tokens and the request principal."""
