"""The reply modal: the post, a template picker and a text field held to the network's character
limit; and what a submitted modal holds. Untrusted text is handled as render.py describes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.cards import Card
from bot.untrusted import clean, truncate
from integrations.chat.common import cut16, sound, u16len
from integrations.chat.slack.render import (
    BLOCK_ID,
    DRAFT_TEXT_ACTION,
    EDIT_VIEW,
    INPUT_MAX,
    LABEL_TEXT,
    MODAL_BLOCKS,
    MODAL_BUTTON,
    MODAL_TITLE,
    OPTION_TEXT,
    OPTION_VALUE,
    PREPARE_VIEW,
    REJECT_VIEW,
    REPLY_TEXT_ACTION,
    REPLY_VIEW,
    SECTION_TEXT,
    SELECT_OPTIONS,
    TEMPLATE_ACTION,
    Block,
    context_block,
    fit,
    plain,
    text_section,
)


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Where a reply modal came from, kept in the view's private_metadata."""

    mention_id: int
    channel: str | None = None
    message_ts: str | None = None

    def dump(self) -> str:
        data = {"m": self.mention_id, "c": self.channel, "t": self.message_ts}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str) -> ReplyTarget:
        data = json.loads(raw)
        return cls(mention_id=int(data["m"]), channel=data.get("c"), message_ts=data.get("t"))


def reply_modal(
    card: Card,
    *,
    target: ReplyTarget,
    templates: Sequence[tuple[str, str]] = (),
    limit: int | None = None,
    initial_text: str = "",
    selected_template: str | None = None,
) -> dict[str, Any]:
    """The reply modal: the post, a template picker and a text field held to the network's
    character limit (and to Slack's 3,000 for an input)."""
    mid = card.mention_id
    max_length = min(limit or INPUT_MAX, INPUT_MAX)
    excerpt, _ = fit(card.text or "(no text)", SECTION_TEXT)
    blocks: list[Block] = [
        context_block([f"@{card.author_handle} on {card.network} · {card.brand}"], "post-author"),
        text_section(excerpt, "post-text"),
    ]
    # A template whose name does not fit an option's value could not be found again: left out.
    options = [
        {"text": plain(f":{name} {truncate(clean(text).replace(chr(10), ' '), 60)}",
                       OPTION_TEXT),
         "value": name}
        for name, text in templates if name and name == sound(name)
        and u16len(name) <= OPTION_VALUE
    ][:SELECT_OPTIONS]
    if options:
        select: dict[str, Any] = {"type": "static_select", "action_id": TEMPLATE_ACTION,
                                  "placeholder": plain("Pick a template", 150),
                                  "options": options}
        chosen = [o for o in options if o["value"] == selected_template]
        if chosen:
            select["initial_option"] = chosen[0]
        blocks.append({"type": "input", "block_id": "template", "optional": True,
                       "dispatch_action": True, "label": plain("Template", LABEL_TEXT),
                       "element": select})
    hint = (f"{card.network} allows {limit:,} characters" if limit else
            f"Sent to {card.network} as a reply to this post")
    if limit and limit > INPUT_MAX:
        hint += f"; Slack takes {INPUT_MAX:,} here (use /echtzeit reply for more)"
    text_input: dict[str, Any] = {"type": "plain_text_input", "action_id": REPLY_TEXT_ACTION,
                                  "multiline": True, "max_length": max_length}
    if initial_text:
        text_input["initial_value"] = cut16(initial_text, max_length)
    # A new block_id per chosen template makes Slack show the new initial value instead of
    # keeping what was typed before.
    text_block = cut16(f"reply-{selected_template or ''}", BLOCK_ID)
    blocks.append({"type": "input", "block_id": text_block, "label": plain("Your reply", 2000),
                   "hint": plain(hint, 2000), "element": text_input})
    return {
        "type": "modal",
        "callback_id": REPLY_VIEW,
        "private_metadata": target.dump(),
        "title": plain(f"Reply to #{mid}", MODAL_TITLE),
        "submit": plain("Send reply", MODAL_BUTTON),
        "close": plain("Cancel", MODAL_BUTTON),
        "blocks": blocks[:MODAL_BLOCKS],
    }


def reply_form(view: dict[str, Any]) -> tuple[str | None, str, str | None]:
    """(template name, typed text, block id of the text input) from a submitted reply modal."""
    values: dict[str, dict[str, Any]] = view.get("state", {}).get("values", {})
    template = None
    text = ""
    text_block = None
    for block_id, actions in values.items():
        for action_id, state in actions.items():
            if action_id == TEMPLATE_ACTION:
                option = state.get("selected_option") or {}
                template = option.get("value")
            elif action_id == REPLY_TEXT_ACTION:
                text = state.get("value") or ""
                text_block = block_id
    return template, text, text_block


def draft_modal(card: Card, *, kind: str, target: ReplyTarget,
                limit: int | None = None) -> dict[str, Any]:
    """The form of a card's Edit… (the draft's text, to change) or Reject… (the reason its
    author is told) button."""
    mid = card.mention_id
    excerpt, _ = fit(card.draft_text or "(no draft)", SECTION_TEXT)
    blocks: list[Block] = [
        context_block([card.draft_line or f"Draft of the reply to #{mid}"], "draft-state"),
    ]
    text_input: dict[str, Any] = {"type": "plain_text_input", "action_id": DRAFT_TEXT_ACTION,
                                  "multiline": True}
    if kind == "edit":
        max_length = min(limit or INPUT_MAX, INPUT_MAX)
        text_input["max_length"] = max_length
        if card.draft_text:
            text_input["initial_value"] = cut16(card.draft_text, max_length)
        hint = (f"{card.network} allows {limit:,} characters" if limit else
                f"Sent to {card.network} once approved or sent")
        label, title, submit = "The reply", f"Edit reply #{mid}", "Save"
    else:
        blocks.append(text_section(excerpt, "draft-text"))
        text_input["max_length"] = 500
        hint = "Its author is told this reason."
        label, title, submit = "Why not?", f"Reject reply #{mid}", "Reject"
    blocks.append({"type": "input", "block_id": "draft", "label": plain(label, LABEL_TEXT),
                   "hint": plain(hint, 2000), "element": text_input})
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW if kind == "edit" else REJECT_VIEW,
        "private_metadata": target.dump(),
        "title": plain(title, MODAL_TITLE),
        "submit": plain(submit, MODAL_BUTTON),
        "close": plain("Cancel", MODAL_BUTTON),
        "blocks": blocks[:MODAL_BLOCKS],
    }


def draft_form(view: dict[str, Any]) -> str:
    """The text typed into a submitted draft form."""
    values: dict[str, dict[str, Any]] = view.get("state", {}).get("values", {})
    return str((values.get("draft", {}).get(DRAFT_TEXT_ACTION) or {}).get("value") or "")


PREPARE_FIELDS = ("event", "outcome", "network", "text")
NAME_MAX = 100  # an event's or outcome's name (commands/publishing.py)


def prepare_modal(networks: Sequence[str], *, channel: str | None) -> dict[str, Any]:
    """The form of `prepare`: event, outcome, one of the networks the brand can post on, and
    the text (its length is checked when it is submitted, as the network counts)."""
    def name_input(block: str, label: str, hint: str) -> Block:
        return {"type": "input", "block_id": block, "label": plain(label, LABEL_TEXT),
                "hint": plain(hint, 2000),
                "element": {"type": "plain_text_input", "action_id": block,
                            "max_length": NAME_MAX}}

    options = [{"text": plain(n, OPTION_TEXT), "value": n} for n in networks][:SELECT_OPTIONS]
    blocks: list[Block] = [
        name_input("event", "Event", "e.g. final, or Brand/final where brands share the channel"),
        name_input("outcome", "Outcome", "e.g. win, lose, holding"),
        {"type": "input", "block_id": "network", "label": plain("Network", LABEL_TEXT),
         "element": {"type": "static_select", "action_id": "network",
                     "placeholder": plain("The brand's account on", 150),
                     "options": options}},
        {"type": "input", "block_id": "text", "label": plain("The post", LABEL_TEXT),
         "hint": plain("Checked against the network's length rule now", 2000),
         "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                     "max_length": INPUT_MAX}},
    ]
    return {
        "type": "modal",
        "callback_id": PREPARE_VIEW,
        "private_metadata": json.dumps({"c": channel}, separators=(",", ":")),
        "title": plain("Prepare a post", MODAL_TITLE),
        "submit": plain("Prepare", MODAL_BUTTON),
        "close": plain("Cancel", MODAL_BUTTON),
        "blocks": blocks,
    }


def prepare_form(view: dict[str, Any]) -> dict[str, str]:
    """{field: value} of a submitted prepare modal (event, outcome, network, text)."""
    values: dict[str, dict[str, Any]] = view.get("state", {}).get("values", {})
    out = {}
    for block_id, actions in values.items():
        for action_id, state in actions.items():
            if block_id in PREPARE_FIELDS and action_id == block_id:
                option = state.get("selected_option")
                out[block_id] = (option or {}).get("value") if option is not None \
                    else (state.get("value") or "")
    return {k: v or "" for k, v in out.items()}
