"""Slack's text back to plain text: message and command text as the person meant it, for what
is sent to a network (which knows nothing of Slack's markup) and for the command line."""

from __future__ import annotations

import re

_SLACK_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def from_slack(text: str, names: dict[str, str] | None = None) -> str:
    """Slack message or command text as the plain text a person meant: links become their URL,
    `<@U…>` the person's name (when known), `<#C…|name>` "#name", and `&lt;` `&gt;` `&amp;` the
    characters. Used for what is sent to a network, which knows nothing of Slack's markup."""
    names = names or {}

    def token(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            uid = target[1:]
            return "@" + (names.get(uid) or label or uid)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            special = target[1:].split("^")[0]
            if special == "subteam":
                return label or "@group"
            if special == "date":
                return label or ""
            return "@" + special
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        return target

    plain_text = _SLACK_TOKEN.sub(token, text)
    return plain_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_CHANNEL_REF = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|[^<>]*)?>")
_USER_REF = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")


def referenced_users(text: str) -> list[str]:
    """The user ids that `<@U…>` references in Slack text name."""
    return _USER_REF.findall(text)


def command_args(text: str, *, here: str, names: dict[str, str]) -> str:
    """A slash command's text as the platform-neutral command line: `<#C…|name>` becomes the
    channel's route name, `slack:here` the current channel, `<@U…>` the person's display name
    (quoted when it has spaces), and Slack's escapes are undone."""

    def user(match: re.Match[str]) -> str:
        name = names.get(match.group(1)) or match.group(1)
        return f'"{name}"' if " " in name else name

    text = _USER_REF.sub(user, text)
    text = _CHANNEL_REF.sub(lambda m: here.rsplit("/", 1)[0] + "/" + m.group(1)
                            if "/" in here else m.group(1), text)
    text = re.sub(r"(?i)\bslack:here\b", f"slack:{here}", text)
    return from_slack(text, names)
