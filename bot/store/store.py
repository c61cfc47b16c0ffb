"""`Store`: one object on one engine, composed of one mixin per aggregate.

The store is synchronous (SQLAlchemy Core and ORM sessions); async callers run it in a worker
thread where a call could block for long. Every state change of a mention writes its `Event` in the
same transaction, and marks the mention's relayed cards for an in-place update.
"""

from __future__ import annotations

from bot.store.boards import BoardStore
from bot.store.brands import BrandStore
from bot.store.catchups import CatchUpStore
from bot.store.credentials import CredentialStore
from bot.store.cursors import CursorStore
from bot.store.drafts import DraftStore
from bot.store.feedback import FeedbackStore
from bot.store.followers import FollowerStore
from bot.store.mentions import MentionStore
from bot.store.oncall import OnCallStore
from bot.store.outbox import OutboxStore
from bot.store.publishing import PublishingStore
from bot.store.replies import ReplyStore
from bot.store.seen import SeenEventStore
from bot.store.templates import TemplateStore
from bot.store.workflow import WorkflowStore


class Store(
    BrandStore,
    MentionStore,
    OutboxStore,
    WorkflowStore,
    DraftStore,
    ReplyStore,
    TemplateStore,
    CursorStore,
    SeenEventStore,
    CredentialStore,
    FollowerStore,
    CatchUpStore,
    BoardStore,
    PublishingStore,
    OnCallStore,
    FeedbackStore,
):
    """All reads and writes of Echtzeit's state."""
