"""The one exception the query package raises for a bad query."""

from __future__ import annotations


class QueryError(ValueError):
    """A query that cannot be used, with the 1-based column of the problem.

    `str(e)` is the one line shown to the person who wrote the query. `key` is set by
    `Matcher.build` to the brand id whose query was rejected (None from `parse`).
    """

    def __init__(self, column: int, message: str, key: int | None = None) -> None:
        self.column = column
        self.message = message
        self.key = key
        super().__init__(f"query error at column {column}: {message}")

    def __reduce__(self) -> tuple[type[QueryError], tuple[int, str, int | None]]:
        # ValueError pickles only its args; keep the structured fields intact.
        return (QueryError, (self.column, self.message, self.key))
