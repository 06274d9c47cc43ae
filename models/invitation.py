"""The invitation aggregate: how a user comes to belong to a workspace they did not create."""

from enum import StrEnum

from tortoise import fields

from models.base import TimestampedModel
from models.user import User
from models.workspace import Role, Workspace


class InvitationState(StrEnum):
    """Where an invitation stands; only `pending` ones can be accepted, declined or revoked."""

    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    revoked = "revoked"
    expired = "expired"


class Invitation(TimestampedModel):
    """An offer of `role` in `workspace`, addressed to an account (`invitee`) or to an email
    address (`email_key`, lower-cased) that a later sign-up can claim. Nobody becomes a member
    without accepting; a pending invitation lapses at `expires_at`."""

    workspace: fields.ForeignKeyRelation[Workspace] = fields.ForeignKeyField(
        "models.Workspace", related_name="invitations", on_delete=fields.CASCADE
    )
    inviter: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitations_sent", null=True, on_delete=fields.SET_NULL
    )
    invitee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitations", null=True, on_delete=fields.CASCADE
    )
    email_key = fields.CharField(max_length=254, null=True)
    role = fields.CharEnumField(Role, max_length=16)
    state = fields.CharEnumField(InvitationState, max_length=16, default=InvitationState.pending)
    expires_at = fields.DatetimeField()
    responded_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)

    class Meta:
        table = "invitations"
        indexes = (("workspace", "state", "id"), ("invitee", "state"), ("email_key", "state"))
