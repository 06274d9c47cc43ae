"""The credential aggregate: personal access tokens and refresh tokens, both stored hashed."""

from tortoise import fields

from models.base import TimestampedModel
from models.user import User


class PersonalAccessToken(TimestampedModel):
    """A long-lived `sy_pat_…` token for scripts; only its SHA-256 is stored."""

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="personal_tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)
    scopes: fields.JSONField[list[str]] = fields.JSONField(default=list)
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "personal_access_tokens"
        indexes = (("user", "id"),)


class RefreshToken(TimestampedModel):
    """One link in a rotation chain (`family_id`); reuse of a spent link revokes the family."""

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    family_id = fields.UUIDField(db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_tokens"
