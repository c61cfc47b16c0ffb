"""Block Kit rules as Slack documents them, checked the way Slack's API checks what it receives.

Written from docs.slack.dev/reference/block-kit (blocks, block elements, composition objects)
and the limits slack_sdk's models enforce; used by the fake Slack server and by render tests.
Sizes are counted in UTF-16 code units, as Slack's clients count them.
"""

from __future__ import annotations

import re
from typing import Any

ENTITY = re.compile(r"&(?!(amp|lt|gt);)")


def n(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def text(self, obj: Any, where: str, *, limit: int, plain_only: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.fail(where, f"not a text object: {obj!r:.80}")
            return
        if plain_only and obj["type"] != "plain_text":
            self.fail(where, "must be plain_text")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.fail(where, "empty text")
            return
        if n(value) > limit:
            self.fail(where, f"text of {n(value)} > {limit}")
        if obj["type"] == "plain_text" and "verbatim" in obj:
            self.fail(where, "plain_text takes no verbatim")
        if obj["type"] == "mrkdwn" and "emoji" in obj:
            self.fail(where, "mrkdwn takes no emoji")

    def confirm(self, obj: Any, where: str) -> None:
        if not isinstance(obj, dict):
            self.fail(where, "confirm must be an object")
            return
        self.text(obj.get("title"), f"{where}.title", limit=100, plain_only=True)
        self.text(obj.get("text"), f"{where}.text", limit=300)
        self.text(obj.get("confirm"), f"{where}.confirm", limit=30, plain_only=True)
        self.text(obj.get("deny"), f"{where}.deny", limit=30, plain_only=True)

    def element(self, el: Any, where: str, action_ids: set[str]) -> None:
        if not isinstance(el, dict):
            self.fail(where, "element must be an object")
            return
        kind = el.get("type")
        action_id = el.get("action_id")
        if action_id is not None:
            if not isinstance(action_id, str) or n(action_id) > 255:
                self.fail(where, "bad action_id")
            elif action_id in action_ids:
                self.fail(where, f"duplicate action_id {action_id}")
            action_ids.add(str(action_id))
        if kind == "button":
            self.text(el.get("text"), f"{where}.text", limit=75, plain_only=True)
            if "value" in el and (not isinstance(el["value"], str) or n(el["value"]) > 2000):
                self.fail(where, "button value over 2000")
            if "url" in el and (not isinstance(el["url"], str) or n(el["url"]) > 3000
                                or not re.match(r"https?://", el["url"])):
                self.fail(where, "bad button url")
            if el.get("style") not in (None, "primary", "danger"):
                self.fail(where, "bad style")
            if "confirm" in el:
                self.confirm(el["confirm"], f"{where}.confirm")
        elif kind == "static_select":
            options = el.get("options")
            if not isinstance(options, list) or not 1 <= len(options) <= 100:
                self.fail(where, "static_select needs 1..100 options")
                options = []
            for j, option in enumerate(options):
                self.text(option.get("text"), f"{where}.options[{j}].text", limit=75,
                          plain_only=True)
                value = option.get("value")
                if not isinstance(value, str) or not value or n(value) > 150:
                    self.fail(where, f"option {j} value must be 1..150")
            if "placeholder" in el:
                self.text(el["placeholder"], f"{where}.placeholder", limit=150, plain_only=True)
            if "initial_option" in el and el["initial_option"] not in options:
                self.fail(where, "initial_option is not one of the options")
        elif kind == "plain_text_input":
            max_length = el.get("max_length", 3000)
            if not isinstance(max_length, int) or not 1 <= max_length <= 3000:
                self.fail(where, "max_length must be 1..3000")
                max_length = 3000
            initial = el.get("initial_value")
            if initial is not None and n(initial) > max_length:
                self.fail(where, "initial_value longer than max_length")
        else:
            self.fail(where, f"element type {kind!r} not expected here")

    def blocks(self, blocks: Any, *, max_blocks: int, where: str = "blocks") -> None:
        if not isinstance(blocks, list):
            self.fail(where, "blocks must be a list")
            return
        if len(blocks) > max_blocks:
            self.fail(where, f"{len(blocks)} blocks > {max_blocks}")
        block_ids: set[str] = set()
        action_ids: set[str] = set()
        for i, block in enumerate(blocks):
            at = f"{where}[{i}]"
            if not isinstance(block, dict):
                self.fail(at, "block must be an object")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                if not isinstance(block_id, str) or n(block_id) > 255:
                    self.fail(at, "bad block_id")
                elif block_id in block_ids:
                    self.fail(at, f"duplicate block_id {block_id}")
                block_ids.add(str(block_id))
            kind = block.get("type")
            if kind == "section":
                if "text" not in block and "fields" not in block:
                    self.fail(at, "section needs text or fields")
                if "text" in block:
                    self.text(block["text"], f"{at}.text", limit=3000)
                for j, fld in enumerate(block.get("fields") or []):
                    self.text(fld, f"{at}.fields[{j}]", limit=2000)
                if len(block.get("fields") or []) > 10:
                    self.fail(at, "more than 10 fields")
            elif kind == "header":
                self.text(block.get("text"), f"{at}.text", limit=150, plain_only=True)
            elif kind == "context":
                elements = block.get("elements")
                if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                    self.fail(at, "context needs 1..10 elements")
                    elements = []
                for j, el in enumerate(elements):
                    self.text(el, f"{at}.elements[{j}]", limit=3000)
            elif kind == "actions":
                elements = block.get("elements")
                if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                    self.fail(at, "actions needs 1..25 elements")
                    elements = []
                for j, el in enumerate(elements):
                    self.element(el, f"{at}.elements[{j}]", action_ids)
            elif kind == "input":
                self.text(block.get("label"), f"{at}.label", limit=2000, plain_only=True)
                if "hint" in block:
                    self.text(block["hint"], f"{at}.hint", limit=2000, plain_only=True)
                self.element(block.get("element"), f"{at}.element", action_ids)
            elif kind == "divider":
                pass
            else:
                self.fail(at, f"unknown block type {kind!r}")

    def view(self, view: Any, kind: str = "modal") -> None:
        if not isinstance(view, dict) or view.get("type") != kind:
            self.fail("view", f"must be a {kind}")
            return
        if kind == "modal":
            self.text(view.get("title"), "view.title", limit=24, plain_only=True)
            for key in ("submit", "close"):
                if key in view:
                    self.text(view[key], f"view.{key}", limit=24, plain_only=True)
        else:
            # A Home tab has no title bar and no submit or close buttons.
            for key in ("title", "submit", "close", "submit_disabled"):
                if key in view:
                    self.fail("view", f"{key} is not allowed in a {kind} view")
        if n(str(view.get("external_id", ""))) > 255:
            self.fail("view", "external_id over 255")
        if n(str(view.get("private_metadata", ""))) > 3000:
            self.fail("view", "private_metadata over 3000")
        if n(str(view.get("callback_id", ""))) > 255:
            self.fail("view", "callback_id over 255")
        self.blocks(view.get("blocks"), max_blocks=100, where="view.blocks")


def message_errors(blocks: Any) -> list[str]:
    checker = Checker()
    checker.blocks(blocks, max_blocks=50)
    return checker.errors


def view_errors(view: Any) -> list[str]:
    checker = Checker()
    checker.view(view)
    return checker.errors


def home_view_errors(view: Any) -> list[str]:
    """The rules of a Home tab view (views.publish): type "home", at most 100 blocks, and the
    same block rules as messages and modals."""
    checker = Checker()
    checker.view(view, kind="home")
    return checker.errors


def text_fields(payload: Any, path: str = "") -> list[tuple[str, str, str]]:
    """Every piece of text Slack would show: (path, kind, text) with kind "mrkdwn" for text it
    parses as mrkdwn (a message's top-level text, mrkdwn objects) and "plain_text" else."""
    found: list[tuple[str, str, str]] = []
    if isinstance(payload, dict):
        if payload.get("type") in ("plain_text", "mrkdwn") and isinstance(payload.get("text"), str):
            found.append((path, payload["type"], payload["text"]))
            return found
        for key, value in payload.items():
            if key == "text" and isinstance(value, str):
                found.append((f"{path}.text", "mrkdwn", value))
            elif key in ("value", "action_id", "block_id", "url", "callback_id",
                         "private_metadata", "type", "style"):
                continue
            else:
                found.extend(text_fields(value, f"{path}.{key}"))
    elif isinstance(payload, list):
        for i, value in enumerate(payload):
            found.extend(text_fields(value, f"{path}[{i}]"))
    return found


def hostile_problems(payload: Any) -> list[str]:
    """What in a rendered payload could ping someone, disguise a link or break the layout."""
    problems = []
    for path, kind, text in text_fields(payload):
        if "<" in text or ">" in text:
            problems.append(f"{path}: raw < or > in {text[:80]!r}")
        if ENTITY.search(text):
            problems.append(f"{path}: bare & in {text[:80]!r}")
        if kind == "mrkdwn" and re.search(r"[*_~`]", text):
            problems.append(f"{path}: mrkdwn control character in {text[:80]!r}")
        if kind == "mrkdwn" and re.search(r"(?m)^\s*&gt;", text):
            problems.append(f"{path}: quote marker at a line start in {text[:80]!r}")
    return problems
