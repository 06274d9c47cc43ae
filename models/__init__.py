"""Tortoise ORM models, one module per aggregate. Listed here for Tortoise's app registry."""

from models.comment import Comment
from models.event import Event
from models.idempotency import IdempotencyRecord
from models.invitation import Invitation, InvitationState
from models.issue import Issue, IssueLabel, IssuePriority, IssueState
from models.label import Label
from models.project import Project
from models.token import PersonalAccessToken, RefreshToken
from models.user import User
from models.webhook import DeliveryState, Webhook, WebhookDelivery
from models.workspace import Membership, Role, Workspace

__all__ = [
    "Comment",
    "DeliveryState",
    "Event",
    "IdempotencyRecord",
    "Invitation",
    "InvitationState",
    "Issue",
    "IssueLabel",
    "IssuePriority",
    "IssueState",
    "Label",
    "Membership",
    "PersonalAccessToken",
    "Project",
    "RefreshToken",
    "Role",
    "User",
    "Webhook",
    "WebhookDelivery",
    "Workspace",
]
