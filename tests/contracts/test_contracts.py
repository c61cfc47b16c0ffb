"""Every contract case against the vendored descriptions (tests/contracts/cases.py), and each
known mismatch as a strict xfail of its own (tests/contracts/known.py).

A failure names the service, the field and the place in the description, one line each.
"""

from __future__ import annotations

import pytest

from tests.contracts.cases import CASES
from tests.contracts.known import KNOWN, Known, split
from tests.contracts.validate import expect_valid


@pytest.mark.parametrize("name", sorted(CASES))
async def test_matches_the_description(name: str) -> None:
    problems = await CASES[name]()
    unknown, _ = split(name, problems)
    expect_valid(unknown, name)


@pytest.mark.parametrize("entry", [
    pytest.param(k, id=f"{k.id}:{k.case}", marks=pytest.mark.xfail(
        strict=True, reason=f"KNOWN_MISMATCHES.md {k.id} ({k.whose}): {k.summary}"))
    for k in KNOWN])
async def test_known_mismatch_is_gone(entry: Known) -> None:
    """Fails while the mismatch is there (xfail); passes, and so fails the run as
    XPASS(strict), once it is fixed: then remove the entry and this mark."""
    problems = await CASES[entry.case]()
    still = [p for p in problems if entry.matches(p)]
    assert not still, "\n".join(str(p) for p in still)
