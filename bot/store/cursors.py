"""Source cursors: where each source resumes after a restart."""

from __future__ import annotations

from bot.models import SourceCursor
from bot.store.base import StoreBase


class CursorStore(StoreBase):
    """One cursor per source."""

    def cursor(self, *, source: str) -> str | None:
        with self.session() as s:
            row = s.get(SourceCursor, source)
            return row.cursor if row else None

    def save_cursor(self, *, source: str, cursor: str) -> None:
        with self.session() as s:
            row = s.get(SourceCursor, source)
            if row is None:
                s.add(SourceCursor(source=source, cursor=cursor, updated_at=self.now()))
            else:
                row.cursor = cursor
                row.updated_at = self.now()
