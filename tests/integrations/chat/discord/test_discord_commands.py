"""The core's commands as Discord application commands, and who may run them."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from commands import COMMANDS, Result
from commands.base import CommandSpec, Deps, Invocation, Role
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.commands import OptionSpec, join_args, parse_usage
from integrations.chat.discord.interactions import member_roles
from integrations.chat.discord.settings import DiscordSettings
from tests.integrations.chat.discord.conftest import discord_settings
from tests.integrations.chat.discord.discord_rules import command_problems


async def _noop(inv: Invocation, deps: Deps) -> Result:
    """Does nothing."""
    return Result(text="")


def spec(usage: str) -> CommandSpec:
    return CommandSpec(usage.split()[0], usage, _noop)


def test_every_command_becomes_a_valid_slash_command(tmp_path: Path) -> None:
    chat = DiscordChat(discord_settings("http://127.0.0.1:9/api/v10"), None)
    tree = chat.client.tree
    payloads = [c.to_dict(tree) for c in tree.get_commands()]
    assert [p["name"] for p in payloads] == [c.name for c in COMMANDS]
    for payload in payloads:
        assert command_problems(payload) == [], payload["name"]
        assert payload["contexts"] == [0]  # servers only: roles decide who may act
    by_name = {p["name"]: p for p in payloads}
    reply = by_name["reply"]
    assert [(o["name"], o["required"], o.get("autocomplete")) for o in reply["options"]] == [
        ("id", True, True), ("text", True, True)]
    assert reply["description"].startswith("Answer a mention on its network")
    brand = by_name["brand"]
    assert brand["options"][0]["name"] == "action"
    assert [c["value"] for c in brand["options"][0]["choices"]] == [
        "list", "add", "query", "route", "unroute"]
    assert brand["options"][1] == {"type": 3, "name": "args", "required": False,
                                   "description": "The rest of the command line; see /help"}


@pytest.mark.parametrize("usage, expected", [
    ("claim [id]", [OptionSpec("id", "Mention id, e.g. 42", False, suggest="mention")]),
    ("settle <reply-id> posted|failed",
     [OptionSpec("reply-id", "Reply id, from the message that asked to settle it", True),
      OptionSpec("choice", "One of: posted, failed", True, choices=("posted", "failed"))]),
    ("list [open|mine|all|<brand>]",
     [OptionSpec("what", "open, mine, all or a brand", False, suggest="brand",
                 literals=("open", "mine", "all"))]),
    ("digest [today|week|YYYY-MM-DD]",
     [OptionSpec("what", "today, week or a YYYY-MM-DD", False, suggest="literal",
                 literals=("today", "week"))]),
    ("frob <a b>", [OptionSpec("args", "The rest of the command line; see /help", False)]),
    ("frob [x] <y>", [OptionSpec("args", "The rest of the command line; see /help", False)]),
    ("frob", []),
])
def test_usage_lines_become_options(usage: str, expected: list[OptionSpec]) -> None:
    assert list(parse_usage(spec(usage))) == expected


def test_values_join_into_the_command_line() -> None:
    options = parse_usage(spec("assign <id> <person>"))
    assert join_args(options, {"id": "42", "person": "Ana Lima"}) == "42 Ana Lima"
    brand = parse_usage(spec("brand list|add|query ..."))
    assert join_args(brand, {"action": "add", "args": 'Acme "acme rockets" -jobs'}) == \
        'add Acme "acme rockets" -jobs'
    mute = parse_usage(spec("mute <network> <author>"))
    assert join_args(mute, {"network": "my net", "author": "x"}) == '"my net" x'
    assert join_args(parse_usage(spec("claim [id]")), {"id": None}) == ""


def _roles(settings: DiscordSettings, *, role_ids: tuple[int, ...] = (),
           names: tuple[str, ...] = (), perms: discord.Permissions | None = None,
           user: str = "1", admins: tuple[str, ...] = (),
           responders: tuple[str, ...] = (),
           approvers: tuple[str, ...] = ()) -> frozenset[Role]:
    return member_roles(settings, user_id=user, role_ids=role_ids, role_names=names,
                        permissions=perms or discord.Permissions.none(), admins=admins,
                        responders=responders, approvers=approvers)


def test_who_may_act(tmp_path: Path) -> None:
    by_name = discord_settings("http://x", responder_role="Care Team",
                               admin_role="1300000000000000112")
    assert _roles(by_name) == frozenset()
    assert _roles(by_name, names=("care team",)) == {Role.RESPONDER}
    assert _roles(by_name, role_ids=(1300000000000000112,)) == {
        Role.ADMIN, Role.APPROVER, Role.RESPONDER}
    # With a role configured, Manage Messages alone does not make a responder...
    assert _roles(by_name, perms=discord.Permissions(manage_messages=True)) == frozenset()
    # ...but Administrator and Manage Server always administer.
    for perms in (discord.Permissions(administrator=True), discord.Permissions(manage_guild=True)):
        assert _roles(by_name, perms=perms) == {Role.ADMIN, Role.APPROVER, Role.RESPONDER}
    by_permission = discord_settings("http://x", responder_role="Manage Messages",
                                     admin_role=None)
    assert _roles(by_permission, perms=discord.Permissions(manage_messages=True)) == {
        Role.RESPONDER}
    unset = discord_settings("http://x", responder_role=None, admin_role=None)
    admins, responders = ("77",), ("55",)  # ECHTZEIT_ADMINS, ECHTZEIT_RESPONDERS
    assert _roles(unset, perms=discord.Permissions(manage_messages=True), admins=admins,
                  responders=responders) == {Role.RESPONDER}
    assert _roles(unset, user="55", admins=admins, responders=responders) == {Role.RESPONDER}
    assert _roles(unset, user="77", admins=admins, responders=responders) == {
        Role.ADMIN, Role.APPROVER, Role.RESPONDER}


def test_approvers_by_id_and_by_role() -> None:
    settings = discord_settings("http://x", responder_role="Care Team",
                                admin_role=None, approver_role="Desk Leads")
    assert _roles(settings, names=("desk leads",)) == {Role.APPROVER, Role.RESPONDER}
    assert _roles(settings, user="66", approvers=("66",)) == {Role.APPROVER, Role.RESPONDER}
    assert _roles(settings, names=("care team",), approvers=("77",)) == {Role.RESPONDER}
