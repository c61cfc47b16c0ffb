"""Prepared posts for expected events and publishing them (`prepare`, `prepared`, `publish`,
`settle-post`), the on-call rota (`oncall`), issue 17 items 3 and 4."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import NotFound
from bot.networks import network_names
from bot.publishing import publish_prepared
from commands.base import (
    Deps,
    Invocation,
    Result,
    Role,
    UsageError,
    first_token,
    one_line,
    parse_id,
    quoted,
)

if TYPE_CHECKING:  # annotations only: importing commands needs no SQLAlchemy
    from collections.abc import Sequence

    from bot.models import Brand
    from bot.store.publishing import PreparedView

_NAME = re.compile(r"^[\w.-]{1,100}$")
_AT = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _name(token: str, what: str) -> str:
    if not _NAME.match(token):
        raise UsageError(f"expected an {what} name of letters, digits, . _ or -, "
                         f"not {quoted(token)}")
    return token.lower()


def _brand_of(token: str, inv: Invocation, deps: Deps) -> tuple[Brand, str]:
    """(brand, event) of `event` or `brand/event`: without a brand, the one brand routed to
    this channel, the only brand there is, or the one brand with posts for this event."""
    if "/" in token:
        brand_name, event = token.split("/", 1)
        try:
            return deps.store.brand(name=brand_name), event
        except NotFound:
            raise UsageError(f"no brand named {quoted(brand_name)}") from None
    brands = deps.store.brands()
    if inv.channel is not None:
        here = {r.brand_id for r in deps.store.routes()
                if r.platform == inv.platform and r.channel == inv.channel}
        routed = [b for b in brands if b.id in here]
        if len(routed) == 1:
            return routed[0], token
    if len(brands) == 1:
        return brands[0], token
    having = {v.post.brand_id for v in deps.store.prepared_posts(event=token.lower())}
    if len(having) == 1:
        [bid] = having
        return next(b for b in brands if b.id == bid), token
    raise UsageError(f"which brand? write it as <brand>/{token}")


def _zone(inv: Invocation, deps: Deps) -> ZoneInfo:
    """The time zone of the desk: this channel's (digest settings), else the configured one."""
    if deps.digest is not None:
        name = (deps.digest.prefs(inv.platform, inv.channel).timezone if inv.channel
                else deps.digest.timezone)
        return ZoneInfo(name)
    return ZoneInfo("UTC")


def prepare(inv: Invocation, deps: Deps) -> Result:
    """Prepare a post for one outcome of an expected event on one network of the brand's own
    accounts: `prepare <event> <outcome> <network> <text>` (`<brand>/<event>` where several
    brands share the channel). The network's length rule is checked now, not when it is
    needed; preparing again replaces the text until it is published."""
    event_token, rest = first_token(inv.args)
    outcome_token, rest = first_token(rest)
    network, text = first_token(rest)
    if not (event_token and outcome_token and network and text.strip()):
        raise UsageError("usage: prepare <event> <outcome> <network> <text>")
    brand, event = _brand_of(event_token, inv, deps)
    event, outcome = _name(event, "event"), _name(outcome_token, "outcome")
    network = network.lower()
    if network not in network_names():
        raise UsageError(f"no network {quoted(network)}")
    publisher = deps.publishers.get(network)
    if publisher is None:
        return Result.error(f"Echtzeit cannot post on {network}: no account of the brand is "
                            "configured for posting there (docs/networks.md)")
    problem = publisher.check(text)
    if problem:
        return Result.error(f"not prepared: {problem}")
    _, replaced = deps.store.prepare_post(brand_id=brand.id or 0, event=event, outcome=outcome,
                                          network=network, text=text, actor=inv.actor)
    return Result(text=f"{'Replaced' if replaced else 'Prepared'} the {network} post for "
                       f"{brand.name}/{event} {outcome}. Publish it with "
                       f"`publish {event} {outcome}`.")


def prepared(inv: Invocation, deps: Deps) -> Result:
    """List the prepared posts and whether each was published: `prepared [event]`."""
    token = inv.args.strip()
    brand_id = event = None
    if token:
        brand, event = _brand_of(token, inv, deps)
        brand_id, event = brand.id, event.lower()
    views = deps.store.prepared_posts(brand_id=brand_id, event=event)
    jobs = [j for j in deps.store.publish_jobs() if brand_id is None or j.brand_id == brand_id]
    if not views:
        return Result(text="Nothing prepared" + (f" for {token}." if token else "."),
                      ephemeral=True)
    lines = []
    for v in views:
        p, pub = v.post, v.publication
        state = "not published" if pub is None else pub.state + (f" {pub.url}" if pub.url
                                                                  else "")
        lines.append(f"{v.brand}/{p.event} {p.outcome} {p.network} ({state}): "
                     f"{one_line(p.text, 120)}")
    zone = _zone(inv, deps)
    lines += [f"scheduled publish {j.id}: {j.event} {j.outcome} at "
              f"{j.due_at.astimezone(zone):%Y-%m-%d %H:%M %Z} ({j.state})" for j in jobs
              if event is None or j.event == event]
    return Result(text=f"{len(views)} prepared post(s):", ephemeral=True, lines=lines)


def _due(at: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The next `at` (HH:MM or HH:MM:SS) in `zone` after `now`, in UTC."""
    m = _AT.match(at)
    if m is None or int(m[1]) > 23 or int(m[2]) > 59 or int(m[3] or 0) > 59:
        raise UsageError(f"expected a time such as 20:15, not {quoted(at)}")
    local = now.astimezone(zone)
    due = datetime.combine(local.date(), time(int(m[1]), int(m[2]), int(m[3] or 0)), zone)
    if due <= local:
        due += timedelta(days=1)
    return due.astimezone(ZoneInfo("UTC"))


async def publish(inv: Invocation, deps: Deps) -> Result:
    """Post the prepared posts of one outcome on the brand's own accounts, each network once:
    `publish <event> <outcome>`, or later: `publish <event> <outcome> at 20:15` (the channel's
    time zone; the scheduler posts it). `publish cancel <id>` drops a scheduled one."""
    first, rest = first_token(inv.args)
    if first == "cancel":
        job_id = parse_id(rest, "scheduled publish")
        await asyncio.to_thread(deps.store.cancel_publish, job_id=job_id, actor=inv.actor)
        return Result(text=f"Scheduled publish {job_id} cancelled.")
    outcome_token, rest = first_token(rest)
    when, at = first_token(rest)
    if not first or not outcome_token or (when and (when != "at" or not at)):
        raise UsageError("usage: publish <event> <outcome> [at HH:MM]  or  publish cancel <id>")
    brand, event = await asyncio.to_thread(_brand_of, first, inv, deps)
    event, outcome = _name(event, "event"), _name(outcome_token, "outcome")
    views = await asyncio.to_thread(deps.store.prepared_posts, brand_id=brand.id, event=event,
                                    outcome=outcome)
    if not views:
        return Result.error(f"nothing is prepared for {brand.name}/{event} {outcome}; "
                            "see `prepared`")
    refused = second_person(brand, views, inv)
    if refused:
        return Result(ok=False, ephemeral=True,
                      text=one_line(f"Not published: {brand.name} wants a second person to "
                                    "approve its posts."), lines=refused)
    if when:
        # The channel's time zone is a store read: in a worker thread, as every statement.
        zone = await asyncio.to_thread(_zone, inv, deps)
        due = _due(at, zone, deps.now())
        job = await asyncio.to_thread(
            deps.store.schedule_publish, brand_id=brand.id or 0, event=event, outcome=outcome,
            due_at=due, actor=inv.actor, platform=inv.platform, channel=inv.channel)
        local = due.astimezone(zone)
        return Result(text=f"Scheduled publish {job.id}: {brand.name}/{event} {outcome} on "
                           f"{', '.join(v.post.network for v in views)} at "
                           f"{local:%Y-%m-%d %H:%M %Z}. `publish cancel {job.id}` drops it.")
    results = await publish_prepared(deps.store, deps.publishers, brand_id=brand.id or 0,
                                     event=event, outcome=outcome, by=inv.actor)
    ok = sum(r.ok for r in results)
    return Result(ok=ok == len(results),
                  text=f"Published {brand.name}/{event} {outcome} on {ok} of {len(results)} "
                       "network(s):", lines=[r.line for r in results])


def second_person(brand: Brand, views: Sequence[PreparedView], inv: Invocation) -> list[str]:
    """Where the brand wants replies approved (bot.approvals; a prepared post counts as
    urgent, since it goes out on the brand's own account), its prepared posts need a second
    person: whoever publishes them must be an approver (or admin) other than the person who
    prepared each. Returns one line per post that `inv` may not publish (empty: all may go)."""
    from bot.approvals import approval_needed

    out = []
    approver = bool({Role.APPROVER, Role.ADMIN} & inv.roles)
    for v in views:
        net = v.post.network
        if not approval_needed(brand, network=net, priority="urgent"):
            continue
        if not approver:
            out.append(f"{net}: needs approval; an approver publishes it")
        elif v.post.created_by == inv.actor:
            out.append(f"{net}: you prepared it; another approver publishes it")
    return out


def settle_post(inv: Invocation, deps: Deps) -> Result:
    """Settle a publication whose outcome was unknown, after looking at the account:
    `settle-post <id> posted [url]` or `settle-post <id> failed`."""
    token, rest = first_token(inv.args)
    outcome, url = first_token(rest)
    if not token or outcome not in ("posted", "failed"):
        raise UsageError("usage: settle-post <id> posted [url]  or  settle-post <id> failed")
    pid = parse_id(token, "publication")
    if outcome == "posted":
        deps.store.publication_sent(publication_id=pid, network_post_id="", url=url or None)
        return Result(text=f"Publication {pid} marked as posted.")
    deps.store.publication_failed(publication_id=pid, error=f"settled as failed by {inv.actor}",
                                  unknown=False)
    return Result(text=f"Publication {pid} marked as failed; it may be published again.")


# --- on call -----------------------------------------------------------------------------------

_PERSON = re.compile(r"^<@!?([A-Z0-9]+|\d+)(?:\|[^>]*)?>$")


def person_id(token: str) -> str:
    """A person as typed: a chat mention (<@U123>, <@123>) becomes the user id, @name a name."""
    m = _PERSON.match(token.strip())
    return m[1] if m else one_line(token.strip().lstrip("@"), 100)


def oncall(inv: Invocation, deps: Deps) -> Result:
    """Who is on call: `oncall`. Configure the escalation ladder:
    `oncall set <brand> <level> <person> [hours like mon-fri 09:00-18:00] [tz=Europe/Berlin]`,
    `oncall remove <brand> <person> [level]`. Level 1 is pinged at 75 % of a mention's SLA,
    level 2 at the breach, while nobody has claimed it."""
    from bot.reporting.sla.escalation import ladder  # SQLAlchemy only when used
    from bot.reporting.sla.hours import BusinessHours, BusinessHoursError

    sub, rest = first_token(inv.args)
    if sub in ("set", "remove"):
        if Role.RESPONDER not in inv.roles and Role.ADMIN not in inv.roles:
            return Result.error(f"Sorry, {inv.actor}: only responders may change the rota.")
        brand_name, rest = first_token(rest)
        try:
            brand = deps.store.brand(name=brand_name)
        except NotFound:
            raise UsageError(f"no brand named {quoted(brand_name)}") from None
        if sub == "remove":
            who, level = first_token(rest)
            if not who:
                raise UsageError("usage: oncall remove <brand> <person> [level]")
            n = deps.store.remove_oncall(brand_id=brand.id or 0, person=person_id(who),
                                         actor=inv.actor,
                                         level=parse_id(level, "level") if level else None)
            return Result(text=f"{person_id(who)} is off {brand.name}'s rota ({n} entr"
                               f"{'y' if n == 1 else 'ies'}).")
        level_token, rest = first_token(rest)
        who, rest = first_token(rest)
        if not level_token or not who:
            raise UsageError("usage: oncall set <brand> <level> <person> [hours] [tz=Zone]")
        rung = parse_id(level_token, "level")
        if not 1 <= rung <= 9:
            raise UsageError("levels go from 1 (pinged first) to 9")
        tz = "UTC" if deps.digest is None else deps.digest.timezone
        words = rest.split()
        for w in [w for w in words if w.startswith("tz=")]:
            tz = w[3:]
            words.remove(w)
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"no time zone {quoted(tz)}") from None
        hours = " ".join(words) or None
        if hours is not None:
            try:
                BusinessHours.parse(hours, zone)
            except BusinessHoursError as exc:
                raise UsageError(str(exc)) from None
        person = person_id(who)
        if not person:
            raise UsageError(f"expected a person, not {quoted(who)}")
        owner, sep, _ = (inv.channel or "").rpartition("/")
        if sep and "/" not in person:  # a Slack channel "T1/C2": the person is "T1/U3"
            person = f"{owner}/{person}"
        deps.store.set_oncall(brand_id=brand.id or 0, level=rung, platform=inv.platform,
                              person=person, hours=hours, timezone=tz, actor=inv.actor)
        return Result(text=f"{person} is on level {rung} for {brand.name}"
                           + (f", {hours} ({tz})." if hours else ", at any time."))
    if sub:
        raise UsageError("usage: oncall  |  oncall set ...  |  oncall remove ...")
    rota = deps.store.oncall_rota()
    if not rota:
        return Result(text="Nobody is on call: set the ladder with `oncall set <brand> <level> "
                           "<person> [hours] [tz=Zone]`.", ephemeral=True)
    now = deps.now()
    names = {b.id: b.name for b in deps.store.brands()}
    lines = []
    for bid in sorted({e.brand_id for e in rota}, key=lambda b: names.get(b, "")):
        entries = [e for e in rota if e.brand_id == bid]
        rungs = ladder(entries, now)
        lines.append(f"{names.get(bid, bid)}: on call now: " + (
            "; ".join(f"level {lv} " + ", ".join(e.person for e in es) for lv, es in rungs)
            if rungs else "nobody (outside everyone's hours)"))
        lines += [f"  level {e.level}: {e.person} ({e.platform}) "
                  + (f"{e.hours} {e.timezone}" if e.hours else "any time") for e in entries]
    return Result(text="On call:", ephemeral=True, lines=lines)
