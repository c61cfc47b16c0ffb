"""The approval rule: which replies need a second person before they go out (issue 17).

A brand says `approval: required` or `none`; when required, optionally only on some networks
and only for mentions at or above a priority. Platform-neutral and without SQL, so that cards,
commands and the brands file share it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain import PRIORITY_ORDER

if TYPE_CHECKING:
    from bot.models import Brand


class Approval(StrEnum):
    NONE = "none"
    REQUIRED = "required"


class DraftState(StrEnum):
    SUGGESTED = "suggested"  # an AI endpoint's proposal that no person has taken up yet
    AWAITING = "awaiting"  # waits for a second person's approval
    APPROVED = "approved"  # became a reply (recorded, then sent)
    REJECTED = "rejected"  # a second person said no, with a reason
    DROPPED = "dropped"  # replaced by a newer suggestion or a person's own reply


OPEN_DRAFT_STATES = (DraftState.SUGGESTED.value, DraftState.AWAITING.value)


def approval_needed(brand: Brand, *, network: str, priority: str) -> bool:
    """Whether a reply to a mention of `brand` on `network` with `priority` needs approval."""
    if brand.approval != Approval.REQUIRED.value:
        return False
    networks = [n for n in brand.approval_networks.split(",") if n]
    if networks and network not in networks:
        return False
    minimum = brand.approval_min_priority
    return not minimum or PRIORITY_ORDER.get(priority, 1) >= PRIORITY_ORDER.get(minimum, 0)


def describe_approval(brand: Brand) -> str:
    """The rule in words, for `brand list` and `brand approval`."""
    return describe_rule(brand.approval, brand.approval_networks, brand.approval_min_priority)


def describe_rule(approval: str, networks: str, min_priority: str) -> str:
    if approval != Approval.REQUIRED.value:
        return "no approval"
    parts = ["approval required"]
    if networks:
        parts.append("on " + ", ".join(networks.split(",")))
    if min_priority:
        parts.append(f"for {min_priority} priority and up")
    return " ".join(parts)
