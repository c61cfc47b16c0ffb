"""Autocomplete for the application commands' options: open mentions, templates, brands,
command names and an option's literal values, each cut to Discord's limits."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import discord
from discord import app_commands

from bot.cards import card_for
from bot.store import OPEN_STATUSES
from commands import COMMANDS, Deps
from integrations.chat.discord.commands import OptionSpec, Suggester
from integrations.chat.discord.render import (
    CHOICE_NAME_MAX,
    CHOICE_VALUE_MAX,
    CHOICES_MAX,
    plain,
)


def quote(value: str) -> str:
    return f'"{value}"' if " " in value and '"' not in value else value


class Autocomplete:
    """The suggestion factories `build_command` takes, by kind."""

    def __init__(self, deps: Callable[[], Deps]) -> None:
        self._deps = deps

    def suggesters(self) -> dict[str, Callable[[OptionSpec], Suggester]]:
        return {
            "mention": self.mentions, "template": self.templates,
            "brand": self.brands, "command": self.commands,
            "literal": self.literals,
        }

    def mentions(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            views = await asyncio.to_thread(self._deps().store.list_mentions,
                                            statuses=OPEN_STATUSES, limit=100)
            typed = current.strip().lstrip("#")
            cards = [card_for(v, reply_networks=self._deps().responders) for v in views
                     if str(v.mention.id).startswith(typed)]
            return [app_commands.Choice(
                name=plain(f"#{c.mention_id} · {c.brand} · @{c.author_handle}: "
                           f"{c.text}".replace("\n", " "), CHOICE_NAME_MAX),
                value=str(c.mention_id)) for c in cards[:CHOICES_MAX]]
        return complete

    def templates(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            typed = current.strip()
            if typed and not typed.startswith(":"):
                return []  # free text: nothing to suggest, and nothing to cut short
            templates = await asyncio.to_thread(self._deps().store.templates)
            wanted = typed.lstrip(":").casefold()
            return [app_commands.Choice(
                name=plain(f":{t.name} · {t.text}".replace("\n", " "), CHOICE_NAME_MAX),
                value=f":{t.name}"[:CHOICE_VALUE_MAX])
                for t in templates if t.name.casefold().startswith(wanted)][:CHOICES_MAX]
        return complete

    def brands(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            brands = await asyncio.to_thread(self._deps().store.brands)
            return choices([*option.literals, *(quote(b.name) for b in brands)], current)
        return complete

    def commands(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            return choices([c.name for c in COMMANDS], current)
        return complete

    def literals(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            return choices(option.literals, current)
        return complete


def choices(values: Iterable[str], current: str) -> list[app_commands.Choice[str]]:
    typed = current.strip().casefold()
    return [app_commands.Choice(name=plain(v, CHOICE_NAME_MAX), value=v[:CHOICE_VALUE_MAX])
            for v in values if v.casefold().startswith(typed)][:CHOICES_MAX]
