"""The store's refusals, in a module of their own: commands and adapters catch them without
importing the store (and with it SQLAlchemy). `bot.store` re-exports both."""

from __future__ import annotations


class NotFound(LookupError):
    """The named row does not exist."""


class Conflict(ValueError):
    """The change is not allowed in the row's current state."""
