"""Setting the desk up: brands, their queries and routes, reply templates."""

from __future__ import annotations

import re

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
            routes = ", ".join(
                f"{r.platform}:{r.channel}"
                + (f" (relevance >= {r.min_relevance:g})" if r.min_relevance else "")
                for r in deps.store.routes(brand_id=b.id)) or "no route"
            lines.append(f"{b.name}: {b.query}  ->  {routes}")
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
        relevance = 0.0
        for option in options.split():
            key, _, value = option.partition("=")
            if key == "networks" and value:
                networks = [n.strip().lower() for n in value.split(",") if n.strip()]
            elif key == "min" and value in PRIORITY_ORDER:
                minimum = value
            elif key == "relevance":
                relevance = _relevance(value)
            else:
                raise UsageError(f"unknown route option {quoted(option)}: expected networks=a,b, "
                                 f"min={'|'.join(PRIORITY_ORDER)} or relevance=0..1")
        deps.store.add_route(brand=name, platform=platform, channel=channel, networks=networks,
                             min_priority=minimum, min_relevance=relevance, actor=inv.actor)
        return Result(text=f"{name} goes to {platform}:{channel}"
                           + (f" ({', '.join(networks)})" if networks else "")
                           + (f", {minimum} priority and up" if minimum != "low" else "")
                           + (f"; below relevance {relevance:g} a mention is stored, not carded "
                              f"(list noise)" if relevance else "") + ".")
    raise UsageError("expected brand list | add | query | route | unroute")


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
