"""Columns every table shares."""

from tortoise import fields
from tortoise.models import Model


class TimestampedModel(Model):
    """An integer primary key and creation/update timestamps (UTC)."""

    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True
