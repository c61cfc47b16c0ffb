"""The digest on demand, SLA targets and a channel's digest settings."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cards import card_for
from bot.errors import NotFound
from bot.reporting.sla.hours import BusinessHours
from bot.reporting.sla.rule import FALLBACK_TARGET_MINUTES, default_target_minutes
from commands.base import (
    Attachment,
    Deps,
    Invocation,
    Result,
    Role,
    UsageError,
    first_token,
    quoted,
)

if TYPE_CHECKING:
    from bot.reporting.digest.builder import DigestBuilder
    from bot.reporting.digest.model import Digest, Kind
    from bot.reporting.digest.queries import DigestQueries

# The digest (SQL, statistics) and its chart (matplotlib) are imported by the commands that use
# them, not with `commands`: listing the commands must stay light.

# The digest compares each day with the weeks before; far-off dates only overflow.
EARLIEST_DAY = date(2000, 1, 1)
_CHANNEL = re.compile(r"^(?:(?P<platform>[\w-]+):)?#?(?P<channel>[^\s]+)$")


def builder(deps: Deps) -> DigestBuilder:
    from bot.reporting.digest.builder import DigestBuilder

    return deps.digest or DigestBuilder(deps.store)


def _queries(deps: Deps) -> DigestQueries:
    from bot.reporting.digest.queries import DigestQueries

    return DigestQueries(deps.store)


def digest_result(digest: Digest, *, deps: Deps) -> Result:
    """A digest as a command result: the outline, the overdue mentions as cards, the chart."""
    from bot.reporting.chart import digest_chart
    from bot.reporting.digest.text import digest_lines

    cards = []
    for o in digest.overdue:
        try:
            cards.append(card_for(deps.store.view(o.mention_id),
                                  reply_networks=deps.responders))
        except NotFound:
            continue
    png = digest_chart(digest)
    name = re.sub(r"[^\w.-]", "_", f"digest-{digest.platform}-{digest.channel}-"
                                     f"{digest.periods[0].label.split(' ')[0]}.png")
    return Result(
        text=digest.title,
        lines=digest_lines(digest, now=deps.now()),
        cards=cards,
        attachments=[Attachment(filename=name, data=png,
                                alt=f"Mentions per hour by sentiment and first-response times, "
                                    f"{digest.periods[0].label}")],
    )


def _period(word: str, today: date) -> tuple[Kind, date]:
    if word in ("", "today"):
        return "today", today
    if word == "yesterday":
        return "day", today - timedelta(days=1)
    if word == "week":
        return "week", today - timedelta(days=1)
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise UsageError("usage: digest [today|yesterday|week|YYYY-MM-DD] "
                         "[<platform>:<channel>]") from None
    if not EARLIEST_DAY <= day <= today:
        raise UsageError(f"no digest of {day.isoformat()}: pick a day from "
                         f"{EARLIEST_DAY.isoformat()} to today")
    return "day", day


def digest(inv: Invocation, deps: Deps) -> Result:
    """Post a digest now: `digest [today|yesterday|week|YYYY-MM-DD] [<platform>:<channel>]`
    (default: today so far, for this channel, or every channel of this chat). Admins change
    a channel's digest: `digest set [<platform>:<channel>] tz=Europe/Berlin hour=8
    hours="mon-fri 09:00-18:00"|hours=calendar on|off`."""
    word, rest = first_token(inv.args)
    if word == "set":
        return _settings(inv, deps, rest)
    b = builder(deps)
    q = _queries(deps)
    targets: list[tuple[str, str]]
    if rest:
        m = _CHANNEL.match(rest.strip())
        if m is None:
            raise UsageError("name the channel as <platform>:<channel>, e.g. slack:C0123")
        targets = [(m["platform"] or inv.platform, m["channel"])]
    elif inv.channel:
        targets = [(inv.platform, inv.channel)]
    else:
        targets = [(c.platform, c.channel) for c in q.channels() if c.platform == inv.platform]
        if not targets:
            return Result.error("No brand is routed to a channel here yet: brand route ...")
    results = []
    for platform, channel in targets:
        zone = ZoneInfo(b.prefs(platform, channel).timezone)
        kind, day = _period(word.lower(), deps.now().astimezone(zone).date())
        results.append(digest_result(b.build(platform, channel, now=deps.now(), kind=kind,
                                             day=day), deps=deps))
    if len(results) == 1:
        return results[0]
    merged = Result(text=f"{len(results)} digests:")
    for r in results:
        merged.lines += ["", f"== {r.text}", *r.lines]
        merged.cards += r.cards
        merged.attachments += r.attachments
    return merged


def _settings(inv: Invocation, deps: Deps, args: str) -> Result:
    if Role.ADMIN not in inv.roles:
        return Result.error(f"Sorry, {inv.actor}: only admins may change the digest settings.")
    platform, channel = inv.platform, inv.channel
    first, rest = first_token(args)
    if first and "=" not in first and first not in ("on", "off"):
        m = _CHANNEL.match(first)
        if m is None:
            raise UsageError("name the channel as <platform>:<channel>")
        platform, channel = m["platform"] or inv.platform, m["channel"]
        args = rest
    if not channel:
        raise UsageError("which channel? digest set <platform>:<channel> ...")
    values: dict[str, object] = {}
    for token in re.findall(r'(\w+=(?:"[^"]*"|\S+)|\S+)', args):
        key, _, value = token.partition("=")
        value = value.strip('"')
        if key in ("on", "off") and not value:
            values["digest_enabled"] = key == "on"
        elif key == "tz":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise UsageError(f"unknown time zone {quoted(value)}; e.g. Europe/Berlin") from None
            values["timezone"] = value
        elif key == "hour" and value.isascii() and value.isdigit() and 0 <= int(value) <= 23:
            values["digest_hour"] = int(value)
        elif key == "hours":
            if value in ("", "calendar"):
                values["business_hours"] = ""
            else:
                try:
                    BusinessHours.parse(value, ZoneInfo("UTC"))
                except ValueError as exc:
                    raise UsageError(str(exc)) from None
                values["business_hours"] = value
        else:
            raise UsageError(f"unknown setting {quoted(token)}: tz=<zone> hour=<0-23> "
                             "hours=\"mon-fri 09:00-18:00\"|calendar on|off")
    if not values:
        prefs = builder(deps).prefs(platform, channel)
        return Result(text=f"Digest of {platform}:{channel}: "
                           f"{'on' if prefs.digest_enabled else 'off'}, at "
                           f"{prefs.digest_hour:02d}:00 {prefs.timezone}, "
                           f"{prefs.business_hours or 'calendar hours'}.", ephemeral=True)
    _queries(deps).set_prefs(platform, channel, **values)
    prefs = builder(deps).prefs(platform, channel)
    return Result(text=f"Digest of {platform}:{channel} is now "
                       f"{'on' if prefs.digest_enabled else 'off'}, at "
                       f"{prefs.digest_hour:02d}:00 {prefs.timezone}, "
                       f"{prefs.business_hours or 'calendar hours'}.")


def sla(inv: Invocation, deps: Deps) -> Result:
    """First-response targets: `sla list [brand]`, `sla set <brand> <network> <minutes>`,
    `sla clear <brand> <network>`. Without an override a network has its default."""
    sub, rest = first_token(inv.args)
    q = _queries(deps)
    if sub in ("", "list"):
        brands = deps.store.brands()
        if rest:
            brands = [deps.store.brand(name=rest.strip().strip('"'))]
        targets = q.sla_targets([b.id or 0 for b in brands])
        lines = ["defaults: " + ", ".join(f"{n} {m} min" for n, m in
                                          default_target_minutes().items())
                 + f", other networks {FALLBACK_TARGET_MINUTES} min"]
        for b in brands:
            own = sorted((n, m) for (bid, n), m in targets.overrides.items() if bid == b.id)
            if own:
                lines.append(f"{b.name}: " + ", ".join(f"{n} {m} min" for n, m in own))
        return Result(text="SLA targets (minutes to the first reply):", ephemeral=True,
                      lines=lines)
    if Role.ADMIN not in inv.roles:
        return Result.error(f"Sorry, {inv.actor}: only admins may change SLA targets.")
    if sub in ("set", "clear"):
        name, rest = first_token(rest)
        network, minutes = first_token(rest)
        network = network.lower()
        digits = minutes.isascii() and minutes.isdigit()
        if not name or not network or (sub == "set" and not digits):
            raise UsageError("usage: sla set <brand> <network> <minutes>  |  "
                             "sla clear <brand> <network>")
        # More than 6 digits is out of range anyway (and int() refuses over 4,300).
        value = (int(minutes) if len(minutes) <= 6 else 10**6) if sub == "set" else None
        if value is not None and not 1 <= value <= 60 * 24 * 30:
            raise UsageError("minutes must be between 1 and 43200 (30 days)")
        b = q.set_sla(brand=name, network=network, minutes=value, actor=inv.actor)
        if value is None:
            return Result(text=f"{b.name} on {network} is back to the default target.")
        return Result(text=f"{b.name} on {network}: first reply within {value} min.")
    raise UsageError("expected sla list | set | clear")
