"""Remembered answers to POSTs sent with an `Idempotency-Key`, so a retry replays the first
answer instead of repeating the write (see history/adr/0010-idempotency-keys.md)."""

from typing import Any

from tortoise import fields
from tortoise.models import Model


class IdempotencyRecord(Model):
    """One key of one principal on one `POST` path.

    A row with `status` null is a reservation: the first request is still running (other
    requests with the key get 409 until it finishes or its short lease in `expires_at` runs
    out). Once the answer is known it is stored here and `expires_at` moves to the replay
    window's end. `scope` is a SHA-256 of principal, method and path, so no address or user
    name sits in this table in clear.
    """

    id = fields.BigIntField(primary_key=True)
    scope = fields.CharField(max_length=64)
    key = fields.CharField(max_length=255)
    fingerprint = fields.CharField(max_length=64)
    status = fields.IntField(null=True)
    headers: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    body = fields.BinaryField(default=b"")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "idempotency_keys"
        unique_together = (("scope", "key"),)
