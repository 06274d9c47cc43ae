"""The account aggregate."""

from tortoise import fields

from models.base import TimestampedModel


class User(TimestampedModel):
    """A person (or bot) who signs in. `email_key` holds the lower-cased email so that the
    database itself enforces case-insensitive uniqueness on every backend."""

    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254, unique=True)
    username = fields.CharField(max_length=39, unique=True)
    display_name = fields.CharField(max_length=100, default="")
    password_hash = fields.CharField(max_length=255)
    is_active = fields.BooleanField(default=True)
    is_site_admin = fields.BooleanField(default=False)
    version = fields.IntField(default=1)

    class Meta:
        table = "users"
