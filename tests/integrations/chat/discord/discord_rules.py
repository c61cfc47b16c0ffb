"""Discord's documented rules for what a bot sends, as checks the fake API (and the renderer
tests) apply: message and embed limits, components, application commands, modals,
autocomplete results, and allowed_mentions that suppress every ping.

Sources (discord/discord-api-docs @ 2026-08): developers/resources/message.mdx (embed limits,
allowed mentions, nonce), developers/components/reference.mdx (buttons, custom ids, text inputs,
labels), developers/interactions/receiving-and-responding.mdx (callback types, modal,
autocomplete), developers/interactions/application-commands.mdx (names, descriptions,
options). Characters are counted as code points here; the renderer counts UTF-16 units, which
is stricter.
"""

from __future__ import annotations

import re
from typing import Any

NAME = re.compile(r"^[-_\w]{1,32}$", re.UNICODE)


def _len(value: Any) -> int:
    return len(value.strip()) if isinstance(value, str) else 0


def allowed_mentions_problems(body: dict[str, Any]) -> list[str]:
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    am = body.get("allowed_mentions")
    if not isinstance(am, dict):
        return ["allowed_mentions missing: Discord would parse every mention in the content"]
    problems = []
    if am.get("parse") != []:
        problems.append(f"allowed_mentions.parse must be [] (got {am.get('parse')!r})")
    if am.get("users") or am.get("roles") or am.get("replied_user"):
        problems.append(f"allowed_mentions lets someone be pinged: {am!r}")
    return problems


def embed_problems(embeds: list[Any]) -> list[str]:
    problems = []
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} embeds (max 10)")
    total = 0
    for i, e in enumerate(embeds):
        if not isinstance(e, dict):
            problems.append(f"embed {i} is not an object")
            continue
        for key, limit in (("title", 256), ("description", 4096)):
            if _len(e.get(key)) > limit:
                problems.append(f"embed {i} {key} has {_len(e.get(key))} chars (max {limit})")
        fields = e.get("fields", [])
        if len(fields) > 25:
            problems.append(f"embed {i} has {len(fields)} fields (max 25)")
        for j, f in enumerate(fields):
            if not _len(f.get("name")) or not _len(f.get("value")):
                problems.append(f"embed {i} field {j} needs a name and a value")
            if _len(f.get("name")) > 256 or _len(f.get("value")) > 1024:
                problems.append(f"embed {i} field {j} too long")
        footer = (e.get("footer") or {}).get("text")
        author = (e.get("author") or {}).get("name")
        if _len(footer) > 2048:
            problems.append(f"embed {i} footer too long")
        if _len(author) > 256:
            problems.append(f"embed {i} author name too long")
        if "color" in e and not (isinstance(e["color"], int) and 0 <= e["color"] <= 0xFFFFFF):
            problems.append(f"embed {i} color {e['color']!r}")
        total += sum(_len(x) for x in (e.get("title"), e.get("description"), footer, author))
        total += sum(_len(f.get("name")) + _len(f.get("value")) for f in fields)
    if total > 6000:
        problems.append(f"embeds hold {total} chars together (max 6000)")
    return problems


def component_problems(rows: list[Any]) -> list[str]:
    problems = []
    if len(rows) > 5:
        problems.append(f"{len(rows)} action rows (max 5)")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        if row.get("type") != 1:
            problems.append(f"top-level component {r} is not an action row")
            continue
        buttons = row.get("components", [])
        if not 1 <= len(buttons) <= 5:
            problems.append(f"action row {r} has {len(buttons)} components (1-5)")
        for b in buttons:
            if b.get("type") != 2:
                problems.append(f"row {r}: unexpected component type {b.get('type')}")
                continue
            if len(b.get("label", "")) > 80:
                problems.append(f"button label too long: {b.get('label')!r}")
            if b.get("style") == 5:
                if "custom_id" in b or not str(b.get("url", "")).startswith(("http://", "https://")):
                    problems.append(f"link button needs a url and no custom_id: {b!r}")
                if len(b.get("url", "")) > 512:
                    problems.append("link button url longer than 512")
            else:
                cid = b.get("custom_id")
                if not isinstance(cid, str) or not 1 <= len(cid) <= 100:
                    problems.append(f"button custom_id must be 1-100 chars: {cid!r}")
                elif cid in seen:
                    problems.append(f"duplicate custom_id {cid!r}")
                else:
                    seen.add(cid)
                if b.get("style") not in (1, 2, 3, 4):
                    problems.append(f"button style {b.get('style')!r}")
    return problems


def message_problems(body: dict[str, Any], *, interaction: bool = False) -> list[str]:
    """What Discord would refuse (400) in a message create/edit body, plus our own rule that
    no message may ever allow a ping."""
    problems = allowed_mentions_problems(body)
    if not isinstance(body, dict):
        return problems
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        problems.append("content must be a string")
    if isinstance(content, str) and len(content) > 2000:
        problems.append(f"content has {len(content)} chars (max 2000)")
    problems += embed_problems(body.get("embeds") or [])
    problems += component_problems(body.get("components") or [])
    if not interaction and not (content or body.get("embeds") or body.get("components")):
        problems.append("empty message")
    return problems


def nonce_problems(body: dict[str, Any]) -> list[str]:
    """Create Message: `nonce` is an integer or a string of up to 25 characters,
    `enforce_nonce` a boolean."""
    if not isinstance(body, dict):
        return []
    problems = []
    nonce = body.get("nonce")
    if nonce is not None:
        if isinstance(nonce, bool) or not isinstance(nonce, int | str):
            problems.append(f"nonce must be an integer or a string: {nonce!r}")
        elif len(str(nonce)) > 25:
            problems.append(f"nonce longer than 25 characters: {nonce!r}")
    if "enforce_nonce" in body and not isinstance(body["enforce_nonce"], bool):
        problems.append(f"enforce_nonce must be a boolean: {body['enforce_nonce']!r}")
    return problems


def upload_problems(body: dict[str, Any], files: dict[str, Any]) -> list[str]:
    """Uploads (multipart files[n]) and the attachments the payload describes for them."""
    if not isinstance(body, dict):
        return []
    problems = [] if len(files) <= 10 else [f"{len(files)} files (max 10)"]
    for name, upload in files.items():
        if not re.fullmatch(r"files\[\d+\]", name):
            problems.append(f"file part named {name!r}, not files[n]")
        if len(upload.data) > 10 * 1024 * 1024:
            problems.append(f"{upload.filename}: over the 10 MiB attachment limit")
        if not upload.filename:
            problems.append("a file without a filename")
    names = {u.filename for u in files.values()}
    for a in body.get("attachments") or []:
        aid = str(a.get("id", ""))
        # A new upload is described by its index; an attachment kept from before by its id.
        if len(aid) < 17 and f"files[{aid}]" not in files:
            problems.append(f"attachment {a!r} names no uploaded file")
        if len(a.get("description") or "") > 1024:
            problems.append("attachment description (alt text) longer than 1024")
    for e in body.get("embeds") or []:
        url = (e.get("image") or {}).get("url", "")
        if url.startswith("attachment://") and url.removeprefix("attachment://") not in names:
            problems.append(f"embed image {url} is not among the uploaded files")
    return problems


def command_problems(command: dict[str, Any]) -> list[str]:
    problems = []
    name = command.get("name", "")
    if not NAME.match(name) or name != name.lower():
        problems.append(f"bad command name {name!r}")
    if not 1 <= len(command.get("description", "")) <= 100:
        problems.append(f"/{name}: description must be 1-100 chars")
    options = command.get("options", [])
    if len(options) > 25:
        problems.append(f"/{name}: more than 25 options")
    optional_seen = False
    names = set()
    for o in options:
        oname = o.get("name", "")
        if not NAME.match(oname) or oname != oname.lower():
            problems.append(f"/{name}: bad option name {oname!r}")
        if oname in names:
            problems.append(f"/{name}: duplicate option {oname!r}")
        names.add(oname)
        if not 1 <= len(o.get("description", "")) <= 100:
            problems.append(f"/{name} {oname}: description must be 1-100 chars")
        if o.get("required"):
            if optional_seen:
                problems.append(f"/{name}: required option {oname!r} after an optional one")
        else:
            optional_seen = True
        choices = o.get("choices") or []
        if len(choices) > 25:
            problems.append(f"/{name} {oname}: more than 25 choices")
        if choices and o.get("autocomplete"):
            problems.append(f"/{name} {oname}: autocomplete and choices are exclusive")
        problems += [f"/{name} {oname}: bad choice {c!r}" for c in choices
                     if not 1 <= len(c.get("name", "")) <= 100
                     or len(str(c.get("value", ""))) > 100]
    size = len(name) + len(command.get("description", "")) + sum(
        len(o.get("name", "")) + len(o.get("description", "")) + sum(
            len(c.get("name", "")) + len(str(c.get("value", ""))) for c in o.get("choices") or [])
        for o in options)
    if size > 8000:
        problems.append(f"/{name}: {size} chars in names, descriptions and choices (max 8000)")
    return problems


def modal_problems(data: dict[str, Any]) -> list[str]:
    problems = []
    cid = data.get("custom_id")
    if not isinstance(cid, str) or not 1 <= len(cid) <= 100:
        problems.append(f"modal custom_id must be 1-100 chars: {cid!r}")
    title = data.get("title", "")
    if not 1 <= len(title) <= 45:
        problems.append(f"modal title must be 1-45 chars: {title!r}")
    components = data.get("components", [])
    if not 1 <= len(components) <= 5:
        problems.append(f"modal has {len(components)} components (1-5)")
    for c in components:
        inner = c.get("component") if c.get("type") == 18 else (c.get("components") or [{}])[0]
        if c.get("type") == 18 and not 1 <= len(c.get("label", "")) <= 45:
            problems.append(f"label must be 1-45 chars: {c.get('label')!r}")
        if not isinstance(inner, dict) or inner.get("type") != 4:
            problems.append(f"modal component is not a text input: {c!r}")
            continue
        if not 1 <= inner.get("max_length", 4000) <= 4000:
            problems.append("text input max_length must be 1-4000")
        if len(inner.get("placeholder") or "") > 100:
            problems.append("text input placeholder longer than 100")
    return problems


def autocomplete_problems(data: dict[str, Any]) -> list[str]:
    choices = data.get("choices", [])
    problems = [] if len(choices) <= 25 else [f"{len(choices)} choices (max 25)"]
    problems += [f"bad choice {c!r}" for c in choices
                 if not 1 <= len(c.get("name", "")) <= 100 or len(str(c.get("value", ""))) > 100]
    return problems


# --- markdown hazards ---------------------------------------------------------------------------

_PING = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>")
_URL = re.compile(r"https?://\S+")


def live_markdown(text: str) -> str:
    """The characters of `text` that Discord reads as markup: every backslash-escaped character
    is replaced by a neutral placeholder, the way Discord's parser consumes escapes."""
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append("·")
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def hazards(text: str) -> list[str]:
    """Ways in which `text`, shown where Discord renders markdown, could ping, disguise a
    link or break the layout."""
    live = live_markdown(text)
    found = []
    if _PING.search(live):
        found.append("a mention that would ping")
    if re.search(r"\[[^\]]*\]\s*\(", live):
        found.append("a masked link")
    if re.search(r"<(@|#|t:|/|a?:\w+:|https?:)", live):
        found.append("an angle-bracket token (mention, channel, timestamp, emoji or link)")
    if "`" in live:
        found.append("a live backtick (code span or block)")
    # Discord formats nothing inside a bare link, so an underscore there is harmless.
    outside_links = _URL.sub("", live)
    found += [f"live {mark} formatting" for mark in ("*", "__", "~~", "||")
              if mark in outside_links]
    if re.search(r"(?m)^\s*(#{1,3}\s|-#\s|>\s|>>>\s|[-*+]\s|\d+\.\s)", live):
        found.append("a line that starts a heading, quote or list")
    return found
