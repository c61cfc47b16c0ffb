"""Errors of the application layer that more than one of its modules raises."""

from __future__ import annotations


class SetupError(ValueError):
    """A brands file that cannot be applied. `str(e)` is one line that names the file, the
    entry (counted from 1) and the problem, e.g. `brands file acme.yaml, line 4: brands[1]
    (Acme Rockets): query: OR needs something after it at column 6`."""
