"""Data access behind keyword-only, intention-revealing methods: `Store`, one object whose methods
live in one module per aggregate (brands, mentions, outbox, workflow, feedback, replies, templates,
cursors, seen events, credentials, followers) over a shared base (bot/store/base.py).

The refusals and the two constants live in light modules (bot.errors, bot.domain) that need no
SQLAlchemy, and stay importable from here; the clock is bot.clock's `utcnow`.
"""

from bot.domain import OPEN_STATUSES, PRIORITY_ORDER
from bot.errors import Conflict, NotFound
from bot.store.base import handle_key
from bot.store.brands import BRANDS_REVISION, is_noise, route_accepts
from bot.store.store import Store
from bot.store.views import ClaimedDelivery, MentionView, NewMention

__all__ = [
    "BRANDS_REVISION",
    "OPEN_STATUSES",
    "PRIORITY_ORDER",
    "ClaimedDelivery",
    "Conflict",
    "MentionView",
    "NewMention",
    "NotFound",
    "Store",
    "handle_key",
    "is_noise",
    "route_accepts",
]
