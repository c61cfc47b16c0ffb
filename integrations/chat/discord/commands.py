"""The core's commands (commands.COMMANDS) as Discord application commands.

Each CommandSpec's usage line ("reply <id> <text|:template>", "claim [id]", "brand list|add ...")
is read into typed options: `<x>` is required, `[x]` optional, `a|b|c` a choice, `...` the rest
of the line. A usage this reader cannot map falls back to one free-text `args` option, so a
command added to the core (say `digest`) appears on Discord without a change here. Values are
joined back into the command line the core parses, quoting a value with spaces that is not the
last one.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.untrusted import truncate
from commands.base import CommandSpec

NAME = re.compile(r"^[-_a-z0-9]{1,32}$")
LITERAL = re.compile(r"^[a-z0-9][-_a-z0-9]*$")
OPTIONS_MAX = 25
DESCRIPTION_MAX = 100

# Placeholders whose values the adapter can suggest while the user types.
SUGGEST = {"id": "mention", "text": "template", "template": "template", "brand": "brand",
           "command": "command"}
DESCRIBE = {
    "id": "Mention id, e.g. 42",
    "text": "Your answer, or :template-name",
    "reply-id": "Reply id, from the message that asked to settle it",
    "person": "Who takes it (their name as shown here)",
    "reason": "Why (optional)",
    "network": "Network, e.g. mastodon",
    "author": "The author's handle on that network",
    "command": "A command's name",
    "args": "The rest of the command line; see /help",
}


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One string option of a slash command."""

    name: str  # as Discord shows it
    description: str
    required: bool
    choices: tuple[str, ...] = ()
    suggest: str | None = None  # mention | template | brand | command | literal
    literals: tuple[str, ...] = ()  # fixed values offered next to the suggestions

    @property
    def py_name(self) -> str:
        return self.name.replace("-", "_")


def _describe(name: str, fallback: str) -> str:
    return truncate(DESCRIBE.get(name, fallback), DESCRIPTION_MAX)


def _option(token: str, index: int) -> OptionSpec | None:
    required = not token.startswith("[")
    inner = token.strip("[]<>") if token[0] in "[<" else token
    if token.startswith("<") and not token.endswith(">"):
        return None
    alternatives = [a for a in inner.split("|") if a]
    if not alternatives:
        return None
    # Lower-case words are fixed values; <x>, :x and YYYY-MM-DD style words stand for a value.
    literals = tuple(a for a in alternatives if LITERAL.match(a))
    placeholders = [a.strip("<>") for a in alternatives if not LITERAL.match(a)]
    if token[0] == "<" or (token[0] == "[" and len(alternatives) == 1):
        # <id>, <text|:template>, [id], [reason]: a named value.
        name = alternatives[0].strip("<>").lower()
        if not NAME.match(name):
            return None
        return OptionSpec(name=name, description=_describe(name, name), required=required,
                          suggest=SUGGEST.get(name))
    if placeholders:
        # [open|mine|all|<brand>]: fixed words or a value; suggest both.
        placeholder = placeholders[0].lstrip(":")
        return OptionSpec(
            name="what", required=required, literals=literals,
            suggest=SUGGEST.get(placeholder.lower(), "literal"),
            description=truncate(f"{', '.join(literals)} or a {placeholder}", DESCRIPTION_MAX),
        )
    if len(literals) < 2 or len(literals) > 25 or any(len(x) > 100 for x in literals):
        return None
    return OptionSpec(
        name="action" if index == 0 else "choice", required=required, choices=literals,
        description=truncate("One of: " + ", ".join(literals), DESCRIPTION_MAX),
    )


def parse_usage(spec: CommandSpec) -> tuple[OptionSpec, ...]:
    """The options of `spec` for Discord, read from its usage line."""
    fallback = (OptionSpec(name="args", description=_describe("args", "args"),
                           required=False),)
    tokens = spec.usage.split()[1:]
    options: list[OptionSpec] = []
    for index, token in enumerate(tokens):
        if token == "...":
            if index != len(tokens) - 1:
                return fallback
            options.append(fallback[0])
            continue
        option = _option(token, index)
        if option is None:
            return fallback if tokens else ()
        options.append(option)
    names = [o.name for o in options]
    if len(set(names)) != len(names) or len(options) > OPTIONS_MAX:
        return fallback
    # Discord wants every required option before the optional ones.
    seen_optional = False
    for option in options:
        if not option.required:
            seen_optional = True
        elif seen_optional:
            return fallback
    return tuple(options)


def description(spec: CommandSpec) -> str:
    return truncate(spec.summary or spec.usage, DESCRIPTION_MAX) or spec.name


def join_args(options: Sequence[OptionSpec], values: dict[str, Any]) -> str:
    """The command line the core parses, from the option values Discord sent."""
    given = [(o, str(values.get(o.py_name) or "").strip()) for o in options]
    given = [(o, v) for o, v in given if v]
    parts = []
    for position, (_, value) in enumerate(given):
        last = position == len(given) - 1
        if not last and (" " in value or value.startswith('"')) and '"' not in value[1:]:
            value = f'"{value}"'
        parts.append(value)
    return " ".join(parts)


Handler = Callable[[discord.Interaction[Any], CommandSpec, str], Awaitable[None]]
Suggester = Callable[[discord.Interaction[Any], str],
                     Coroutine[Any, Any, list[app_commands.Choice[str]]]]


def build_command(
    spec: CommandSpec,
    handler: Handler,
    suggesters: dict[str, Callable[[OptionSpec], Suggester]],
) -> app_commands.Command[Any, ..., None]:
    """An app_commands.Command for `spec` whose callback hands the joined command line to
    `handler`. `suggesters` maps a suggestion kind (mention, template, ...) to a factory of
    autocomplete callbacks."""
    options = parse_usage(spec)

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        await handler(interaction, spec, join_args(options, values))

    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=discord.Interaction)]
    parameters += [
        inspect.Parameter(o.py_name, inspect.Parameter.KEYWORD_ONLY,
                          annotation=str if o.required else (str | None),
                          default=inspect.Parameter.empty if o.required else None)
        for o in options
    ]
    # discord.py reads a command's options from its callback's signature; ours is built
    # from the usage line, so it is given explicitly.
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__name__ = callback.__qualname__ = f"echtzeit_{spec.name.replace('-', '_')}"

    decorated: Any = callback
    if options:
        decorated = app_commands.describe(**{o.py_name: o.description for o in options})(
            decorated)
    renames = {o.py_name: o.name for o in options if o.py_name != o.name}
    if renames:
        decorated = app_commands.rename(**renames)(decorated)
    choices = {o.py_name: [app_commands.Choice(name=c, value=c) for c in o.choices]
               for o in options if o.choices}
    if choices:
        decorated = app_commands.choices(**choices)(decorated)
    completes = {o.py_name: suggesters[o.suggest](o) for o in options
                 if o.suggest and o.suggest in suggesters and not o.choices}
    if completes:
        decorated = app_commands.autocomplete(**completes)(decorated)
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=spec.name, description=description(spec), callback=decorated,
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False,
                                                        private_channel=False),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
    )
    return command

