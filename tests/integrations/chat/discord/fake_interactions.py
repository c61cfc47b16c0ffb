"""Interactions in the fake Discord: the INTERACTION_CREATE payloads tests send (built from the
fixtures), the initial response (POST /interactions/{id}/{token}/callback), and the follow-ups
and edits that go with the interaction token (/webhooks/{application_id}/{token}...).

Deadlines, counted on the fake's `clock` from the moment the event was dispatched (a test
replaces the clock to step past them without waiting), as developers/interactions/
receiving-and-responding.mdx (discord/discord-api-docs @ 2026-08) states them:

- "you must send an initial response within 3 seconds of receiving the event. If the 3 second
  deadline is exceeded, the token will be invalidated" (Interaction Callback): a callback later
  than INITIAL_RESPONSE_SECONDS answers 404 {"message": "Unknown interaction", "code": 10062}
  and is a violation, as is an interaction never acknowledged by the time the fake closes (the
  member saw "The application did not respond"); the unanswered token no longer works for
  follow-ups either.
- "Interaction tokens are valid for 15 minutes" (Followup Messages): a follow-up or an edit of
  the original response more than TOKEN_SECONDS after the event answers 401
  {"message": "Invalid Webhook Token", "code": 50027} (code 50027 "Invalid webhook token
  provided", developers/topics/opcodes-and-status-codes.mdx). That one is not a violation: a
  command may take that long, and what the bot does then is the adapter's to handle.

The callback types each interaction type allows, a second acknowledgement (400, 40060), and a
follow-up right after a deferred response editing the loading message are as documented there
too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.integrations.chat.discord.discord_rules import (
    autocomplete_problems,
    message_problems,
    modal_problems,
    upload_problems,
)
from tests.integrations.chat.discord.fake_http import (
    BODY,
    FILES,
    Upload,
    error,
    fixture,
    json_response,
)

EPHEMERAL = 1 << 6
INITIAL_RESPONSE_SECONDS = 3.0  # "within 3 seconds of receiving the event"
TOKEN_SECONDS = 15 * 60.0  # "Interaction tokens are valid for 15 minutes"
KINDS = {2: "APPLICATION_COMMAND", 3: "MESSAGE_COMPONENT", 4: "AUTOCOMPLETE",
         5: "MODAL_SUBMIT"}


@dataclass
class InteractionState:
    """What the fake knows about one interaction it dispatched."""

    payload: dict[str, Any]
    callback: dict[str, Any] | None = None
    original: dict[str, Any] | None = None  # the response message (after defer: once edited)
    loading: bool = False
    ephemeral: bool = False
    followups: list[dict[str, Any]] = field(default_factory=list)
    dispatched_at: float = 0.0  # on the fake's clock
    acknowledged_after: float | None = None  # seconds from dispatch to the initial response
    late: bool = False  # an initial response came after the deadline (and was refused)

    @property
    def kind(self) -> str:
        return KINDS.get(int(self.payload["type"]), str(self.payload["type"]))


@dataclass
class Member:
    """A guild member for interaction payloads: roles by id, permissions as Discord computes
    them for the channel."""

    user_id: str
    username: str
    global_name: str | None = None
    nick: str | None = None
    roles: tuple[str, ...] = ()
    permissions: int = 0


class FakeInteractions:
    """The interaction half of FakeDiscord (a mixin: it relies on the attributes and helpers
    declared below, which FakeDiscord has)."""

    app_id: str
    guild_id: str
    channel_id: str
    clock: Callable[[], float]
    violations: list[str]
    commands: dict[str, list[dict[str, Any]]]
    interactions: dict[str, InteractionState]

    if TYPE_CHECKING:  # provided by FakeDiscord; named here for readers and type checkers
        def snowflake(self) -> str: ...

        def _bad(self, where: str, problems: list[str]) -> web.Response | None: ...

        def _message(self, channel: str, body: dict[str, Any], *, mid: str | None = None,
                     flags: int = 0, webhook: bool = False,
                     files: dict[str, Upload] | None = None) -> dict[str, Any]: ...

        async def dispatch(self, event: str, data: dict[str, Any]) -> None: ...

        async def wait_for(self, predicate: Callable[[], bool]) -> None: ...

    # --- dispatching --------------------------------------------------------------------------

    async def interact(self, payload: dict[str, Any]) -> InteractionState:
        """Send an INTERACTION_CREATE to every connected gateway session; its deadlines run
        from now on `clock`."""
        state = InteractionState(payload=payload, dispatched_at=self.clock())
        self.interactions[payload["token"]] = state
        await self.dispatch("INTERACTION_CREATE", payload)
        return state

    async def answered(self, state: InteractionState,
                       predicate: Callable[[], bool] | None = None) -> InteractionState:
        await self.wait_for(predicate or (lambda: state.callback is not None))
        return state

    def unacknowledged(self) -> list[str]:
        """Interactions that never got an initial response (nor a refused late one)."""
        return [f"{s.kind} interaction {s.payload['id']} was never acknowledged (the member "
                f"saw \"The application did not respond\")"
                for s in self.interactions.values() if s.callback is None and not s.late]

    # --- the callback, follow-ups and edits ---------------------------------------------------

    async def _callback(self, request: web.Request) -> web.Response:
        iid, token = request.match_info["id"], request.match_info["token"]
        state = self.interactions.get(token)
        if state is None or state.payload["id"] != iid:
            return error(404, 10062, "Unknown interaction")
        if state.callback is not None:
            return error(400, 40060, "Interaction has already been acknowledged.")
        age = self.clock() - state.dispatched_at
        if age > INITIAL_RESPONSE_SECONDS:
            if not state.late:
                self.violations.append(
                    f"{state.kind} interaction {iid} answered {age:.1f} s after "
                    f"INTERACTION_CREATE (Discord allows {INITIAL_RESPONSE_SECONDS:.0f} s)")
            state.late = True
            return error(404, 10062, "Unknown interaction")
        body = request[BODY]
        kind, data = body.get("type"), body.get("data") or {}
        itype = state.payload["type"]
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[itype]
        problems = [] if kind in allowed else [f"callback type {kind} for interaction {itype}"]
        if kind in (4, 7):
            problems += message_problems(data, interaction=True)
        if kind == 5 and data and set(data) - {"flags"}:
            problems.append(f"deferred response carries more than flags: {data!r}")
        if kind == 8:
            problems += autocomplete_problems(data)
        if kind == 9:
            problems += modal_problems(data)
        bad = self._bad(f"interaction callback {kind}", problems)
        if bad:
            return bad
        state.callback = body
        state.acknowledged_after = age
        state.ephemeral = bool(int(data.get("flags", 0)) & EPHEMERAL)
        state.loading = kind == 5
        response: dict[str, Any] = {"interaction": {
            "id": iid, "type": itype, "response_message_loading": state.loading,
            "response_message_ephemeral": state.ephemeral}}
        if kind in (4, 5):
            state.original = self._message(state.payload["channel_id"], data,
                                           flags=EPHEMERAL if state.ephemeral else 0,
                                           webhook=True)
            response["interaction"]["response_message_id"] = state.original["id"]
        if kind in (4, 5, 6, 7, 8, 9):
            response["resource"] = {"type": kind}
            if kind == 4 and state.original is not None:
                response["resource"]["message"] = state.original
        return json_response(response)

    def _webhook_state(self, request: web.Request) -> InteractionState | web.Response:
        """The interaction whose token the webhook request carries, or Discord's refusal."""
        state = (self.interactions.get(request.match_info["token"])
                 if request.match_info["app"] == self.app_id else None)
        if state is None:
            return error(404, 10015, "Unknown Webhook")
        age = self.clock() - state.dispatched_at
        if age > TOKEN_SECONDS or (state.callback is None and age > INITIAL_RESPONSE_SECONDS):
            return error(401, 50027, "Invalid Webhook Token")
        if state.callback is None:
            return error(404, 10015, "Unknown Webhook")
        return state

    async def _followup(self, request: web.Request) -> web.Response:
        state = self._webhook_state(request)
        if isinstance(state, web.Response):
            return state
        body, files = request[BODY], request[FILES]
        bad = self._bad("follow-up", message_problems(body) + upload_problems(body, files))
        if bad:
            return bad
        if state.loading and state.original is not None:
            # Documented: right after a deferred response, this edits the loading message
            # and keeps its ephemeral state.
            state.original = self._message(state.payload["channel_id"], body,
                                           mid=state.original["id"],
                                           flags=state.original["flags"], webhook=True,
                                           files=files)
            state.loading = False
            return json_response(state.original)
        flags = EPHEMERAL if int(body.get("flags", 0)) & EPHEMERAL else 0
        message = self._message(state.payload["channel_id"], body, flags=flags, webhook=True,
                                files=files)
        state.followups.append(message)
        return json_response(message)

    async def _edit_followup(self, request: web.Request) -> web.Response:
        state = self._webhook_state(request)
        if isinstance(state, web.Response):
            return state
        body, files = request[BODY], request[FILES]
        bad = self._bad("edit interaction message", message_problems(body, interaction=True)
                        + upload_problems(body, files))
        if bad:
            return bad
        target = request.match_info["message"]
        if target == "@original":
            if state.original is None:
                return error(404, 10008, "Unknown Message")
            state.original = self._message(state.payload["channel_id"], body,
                                           mid=state.original["id"],
                                           flags=state.original["flags"], webhook=True,
                                           files=files)
            state.loading = False
            return json_response(state.original)
        for i, m in enumerate(state.followups):
            if m["id"] == target:
                state.followups[i] = self._message(state.payload["channel_id"], body,
                                                   mid=target, flags=m["flags"], webhook=True,
                                                   files=files)
                return json_response(state.followups[i])
        return error(404, 10008, "Unknown Message")

    # --- interaction payloads -----------------------------------------------------------------

    def _base(self, fixture_name: str, member: Member, channel_id: str | None) -> dict[str, Any]:
        payload = fixture(fixture_name)
        payload["id"] = self.snowflake()
        payload["token"] = f"itoken-{payload['id']}"
        payload["application_id"] = self.app_id
        payload["guild_id"] = self.guild_id
        payload["guild"]["id"] = self.guild_id
        channel = channel_id or self.channel_id
        payload["channel_id"] = channel
        payload["channel"]["id"] = channel
        payload["channel"]["guild_id"] = self.guild_id
        m = payload["member"]
        m["user"].update(id=member.user_id, username=member.username,
                         global_name=member.global_name)
        m.update(nick=member.nick, roles=list(member.roles), permissions=str(member.permissions))
        return payload

    def command(self, name: str, options: dict[str, str], member: Member,
                *, channel_id: str | None = None) -> dict[str, Any]:
        payload = self._base("interaction_application_command.json", member, channel_id)
        registered = {c["name"]: c for c in self.commands.get(self.guild_id, [])}
        payload["data"].update(
            name=name, id=registered.get(name, {}).get("id", self.snowflake()),
            guild_id=self.guild_id,
            options=[{"type": 3, "name": k, "value": v} for k, v in options.items()])
        return payload

    def autocomplete(self, name: str, options: dict[str, str], focused: str,
                     member: Member) -> dict[str, Any]:
        payload = self._base("interaction_autocomplete.json", member, None)
        payload["data"].update(
            name=name, guild_id=self.guild_id,
            options=[dict({"type": 3, "name": k, "value": v}, **({"focused": True}
                                                                 if k == focused else {}))
                     for k, v in options.items()])
        return payload

    def click(self, message: dict[str, Any], custom_id: str, member: Member) -> dict[str, Any]:
        payload = self._base("interaction_message_component.json", member,
                             message["channel_id"])
        payload["message"] = copy.deepcopy(message)
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        return payload

    def submit(self, modal: dict[str, Any], values: dict[str, str], member: Member,
               message: dict[str, Any] | None = None) -> dict[str, Any]:
        """A MODAL_SUBMIT for a modal the bot opened, shaped after the components it sent."""
        payload = self._base("interaction_modal_submit.json", member,
                             message["channel_id"] if message else None)
        rows = []
        for c in modal["components"]:
            inner = c["component"] if c["type"] == 18 else c["components"][0]
            answer = {"type": 4, "id": inner.get("id", 2), "custom_id": inner["custom_id"],
                      "value": values.get(inner["custom_id"], "")}
            if c["type"] == 18:
                rows.append({"type": 18, "id": c.get("id", 1), "component": answer})
            else:
                rows.append({"type": 1, "id": c.get("id", 1), "components": [answer]})
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        else:
            payload.pop("message", None)
        return payload

