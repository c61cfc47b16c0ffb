"""The wall clock in UTC: one tiny module, so that light modules need not import the store."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, aware, in UTC: every time Echtzeit stores or compares."""
    return datetime.now(UTC)
