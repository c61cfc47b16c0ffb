"""Status boards: a channel's pinned queue status (table status_board, 0013_quiet)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.errors import NotFound
from bot.models import StatusBoard
from bot.store.base import StoreBase


class BoardStore(StoreBase):
    """Which channels keep a pinned queue status, and the message that shows it."""

    def want_board(self, *, platform: str, channel: str, actor: str) -> StatusBoard:
        """Ask for a pinned status in the channel (again: re-posted if its message is gone)."""
        with self.session() as s:
            board = s.get(StatusBoard, (platform, channel))
            if board is None:
                board = StatusBoard(platform=platform, channel=channel, requested_by=actor)
            if board.state == "removing":
                board.message_ref, board.pinned = None, False
            board.state, board.requested_by, board.updated_at = "wanted", actor, self.now()
            board.error = None
            board.marker = -1
            s.add(board)
            self._event(s, kind="board_wanted", actor=actor,
                        detail={"platform": platform, "channel": channel})
            return board

    def drop_board(self, *, platform: str, channel: str, actor: str) -> None:
        """Stop the channel's status: the adapter unpins it and forgets the row."""
        with self.session() as s:
            board = s.get(StatusBoard, (platform, channel))
            if board is None or board.state == "removing":
                raise NotFound(f"no pinned status in {platform}:{channel}")
            board.state, board.updated_at = "removing", self.now()
            self._event(s, kind="board_dropped", actor=actor,
                        detail={"platform": platform, "channel": channel})

    def boards(self, *, platform: str) -> list[StatusBoard]:
        with self.session() as s:
            rows = list(s.exec(select(StatusBoard).where(StatusBoard.platform == platform)
                               .order_by(col(StatusBoard.channel))))
            for r in rows:
                s.expunge(r)
            return rows

    def board_shown(self, *, platform: str, channel: str, message_ref: str, pinned: bool,
                    marker: int, error: str | None = None) -> None:
        """The adapter posted or edited the status message (showing the store at `marker`)."""
        with self.session() as s:
            board = s.get(StatusBoard, (platform, channel))
            if board is None or board.state == "removing":
                return  # dropped meanwhile: the next round unpins it
            board.state, board.message_ref, board.pinned = "posted", message_ref, pinned
            board.marker, board.error, board.updated_at = marker, error, self.now()

    def board_failed(self, *, platform: str, channel: str, error: str) -> None:
        with self.session() as s:
            board = s.get(StatusBoard, (platform, channel))
            if board is not None:
                board.error, board.updated_at = error[:2000], self.now()

    def board_gone(self, *, platform: str, channel: str) -> None:
        with self.session() as s:
            board = s.get(StatusBoard, (platform, channel))
            if board is not None and board.state == "removing":
                s.delete(board)
