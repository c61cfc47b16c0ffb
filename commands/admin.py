"""Setting the desk up: brands, their queries and routes, reply templates."""

from __future__ import annotations

import re
import shlex

from bot.approvals import describe_approval
from bot.domain import PRIORITY_ORDER
from commands.base import Deps, Invocation, Result, UsageError, first_token, quoted
from commands.mentions import PLACEHOLDERS

# Anything in braces that looks like a placeholder ("{nmae}", "{0}", "{name.upper}").
_FIELD = re.compile(r"\{([^{}\s]{0,40})\}")


def _check_query(query: str) -> str:
    # The query compiler is imported when a query is checked, not with `commands`.
    from bot.query import QueryError, describe, parse

    try:
        return describe(parse(query))
    except QueryError as exc:
        raise UsageError(str(exc)) from None


def _relevance(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise UsageError(f"relevance must be a number from 0 to 1, not {quoted(value)}")
    return number


def brand(inv: Invocation, deps: Deps) -> Result:
    """Manage brands: `brand list`, `brand add <name> <query>`, `brand query <name> <query>`,
    `brand route <name> <platform>:<channel> [networks=a,b] [min=low|normal|high|urgent]
    [relevance=0.4]`, `brand unroute <name> <platform>:<channel>`. Quote names with spaces:
    "Acme Rockets"."""
    sub, rest = first_token(inv.args)
    if sub == "list":
        brands = deps.store.brands()
        if not brands:
            return Result(text="No brands yet: brand add <name> <query>", ephemeral=True)
        lines = []
        for b in brands:
            routes = ", ".join(f"{r.platform}:{r.channel}"
                               + (f" (quiet {r.quiet_hours} {r.quiet_timezone})"
                                  if r.quiet_hours else "")
                               + (f" (relevance >= {r.min_relevance:g})" if r.min_relevance
                                  else "")
                               for r in deps.store.routes(brand_id=b.id)) or "no route"
            rule = f"; {describe_approval(b)}" if b.approval == "required" else ""
            lines.append(f"{b.name}: {b.query}  ->  {routes}{rule}")
        return Result(text=f"{len(brands)} brand(s):", ephemeral=True, lines=lines)
    if sub in ("add", "query"):
        name, query = first_token(rest)
        if not name or not query:
            raise UsageError(f"usage: brand {sub} <name> <query>")
        parsed = _check_query(query)
        if sub == "add":
            deps.store.add_brand(name=name, query=query, actor=inv.actor)
            return Result(text=f"Brand {name} added; matching {parsed}. Route it: "
                               f"brand route \"{name}\" <platform>:<channel>")
        deps.store.set_brand_query(name=name, query=query, actor=inv.actor)
        return Result(text=f"Query of {name} is now {parsed}; it applies to new posts at once.")
    if sub in ("route", "unroute"):
        name, rest = first_token(rest)
        target, options = first_token(rest)
        platform, _, channel = target.partition(":")
        if not name or not platform or not channel:
            raise UsageError(f"usage: brand {sub} <name> <platform>:<channel>")
        if sub == "unroute":
            deps.store.remove_route(brand=name, platform=platform, channel=channel,
                                    actor=inv.actor)
            return Result(text=f"{name} no longer goes to {platform}:{channel}.")
        networks: list[str] = []
        minimum = "low"
        quiet: str | None = None
        zone: str | None = None
        relevance = 0.0
        try:
            words = shlex.split(options)
        except ValueError as exc:
            raise UsageError(f"route options: {exc}") from None
        for option in words:
            key, _, value = option.partition("=")
            if key == "networks" and value:
                networks = [n.strip().lower() for n in value.split(",") if n.strip()]
            elif key == "min" and value in PRIORITY_ORDER:
                minimum = value
            elif key == "quiet" and value:
                quiet = value
            elif key == "tz" and value:
                zone = value
            elif key == "relevance":
                relevance = _relevance(value)
            else:
                raise UsageError(f"unknown route option {quoted(option)}: expected networks=a,b, "
                                 f"min={'|'.join(PRIORITY_ORDER)}, relevance=0..1, "
                                 "quiet=22:00-07:00 or tz=Europe/Berlin")
        if quiet is not None and zone is None:
            from commands.digest import builder

            zone = builder(deps).prefs(platform, channel).timezone
        if quiet is not None:
            from bot.quiet import QuietHours, QuietHoursError

            try:
                QuietHours.parse(quiet, zone or "UTC")
            except QuietHoursError as exc:
                raise UsageError(str(exc)) from None
        deps.store.add_route(brand=name, platform=platform, channel=channel, networks=networks,
                             min_priority=minimum, min_relevance=relevance, quiet_hours=quiet,
                             quiet_timezone=zone, actor=inv.actor)
        return Result(text=f"{name} goes to {platform}:{channel}"
                           + (f" ({', '.join(networks)})" if networks else "")
                           + (f", {minimum} priority and up" if minimum != "low" else "")
                           + (f"; below relevance {relevance:g} a mention is stored, not carded "
                              f"(list noise)" if relevance else "")
                           + (f"; quiet {quiet} ({zone}): only high and urgent cards then, "
                              "the rest in one catch-up at the end" if quiet else "") + ".")
    if sub == "approval":
        return _approval(rest, inv, deps)
    if sub == "voice":
        name, voice = first_token(rest)
        if not name or not voice:
            raise UsageError("usage: brand voice <name> <guide>  (- clears it)")
        voice = "" if voice.strip() == "-" else voice.strip()[:VOICE_LIMIT]
        b = deps.store.set_brand_voice(name=name, voice=voice, actor=inv.actor)
        return Result(text=f"Voice guide of {b.name} " + ("cleared." if not voice else
                                                          f"set ({len(voice)} characters)."))
    raise UsageError("expected brand list | add | query | route | unroute | approval | voice")


VOICE_LIMIT = 4000


def _approval(rest: str, inv: Invocation, deps: Deps) -> Result:
    name, rest = first_token(rest)
    mode, options = first_token(rest)
    if not name or mode not in ("required", "none"):
        raise UsageError("usage: brand approval <name> required|none [networks=a,b] "
                         f"[min={'|'.join(PRIORITY_ORDER)}]")
    networks: list[str] = []
    minimum = ""
    for option in options.split():
        key, _, value = option.partition("=")
        if key == "networks" and value:
            networks = [n.strip().lower() for n in value.split(",") if n.strip()]
        elif key == "min" and value in PRIORITY_ORDER:
            minimum = value
        else:
            raise UsageError(f"unknown approval option {quoted(option)}: expected networks=a,b "
                             f"or min={'|'.join(PRIORITY_ORDER)}")
    b = deps.store.set_brand_approval(name=name, approval=mode, networks=networks,
                                      min_priority=minimum, actor=inv.actor)
    return Result(text=f"{b.name}: {describe_approval(b)}.")


def template(inv: Invocation, deps: Deps) -> Result:
    """Prepared answers: `template list`, `template add <name> <text>`. Use them with
    `reply <id> :<name>`; {author}, {name} and {brand} are filled in."""
    sub, rest = first_token(inv.args)
    if sub == "list":
        templates = deps.store.templates()
        if not templates:
            return Result(text="No templates yet: template add <name> <text>", ephemeral=True)
        return Result(text=f"{len(templates)} template(s):", ephemeral=True,
                      lines=[f":{t.name}  {t.text}" for t in templates])
    if sub == "add":
        name, text = first_token(rest)
        if not name or not text or not name.replace("-", "").replace("_", "").isalnum():
            raise UsageError("usage: template add <name> <text>  (name: letters, digits, - and _)")
        unknown = sorted(set(_FIELD.findall(text)) - PLACEHOLDERS)
        if unknown:
            raise UsageError(f"unknown placeholder {quoted('{' + unknown[0] + '}')} in the "
                             "template; use {author}, {name} or {brand}")
        deps.store.add_template(name=name, text=text, actor=inv.actor)
        return Result(text=f"Template :{name} saved.")
    raise UsageError("expected template list | add")
