"""Applying a brands file's plan (`echtzeit.brands_file.load_plan`) to the database.

`changes` works out what differs between the plan and the store, each as one line and the call
that makes it; `apply_plan` makes them (or, with `dry_run`, only says them). Idempotent: a second
run reports "nothing to change".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from commands.base import one_line
from echtzeit.errors import SetupError

if TYPE_CHECKING:
    from bot.models import Brand, Route
    from bot.store import Store
    from echtzeit.brands_file import Plan

NOTHING_TO_CHANGE = "nothing to change"


class Change(NamedTuple):
    line: str  # what changes, as `apply` prints it
    apply: Callable[[], object]


def _options(networks: tuple[str, ...] | list[str], minimum: str, relevance: float = 0.0) -> str:
    return (f"{', '.join(networks) or 'all networks'}; {minimum} priority and up"
            + (f"; relevance {relevance:g} and up" if relevance else ""))


def changes(store: Store, plan: Plan, *, actor: str) -> list[Change]:
    """What `apply_plan` would do to the database as it is now, in order."""
    from bot.reporting.digest.queries import DigestQueries

    queries = DigestQueries(store)
    brands = store.brands()
    exact = {b.name: b for b in brands}
    folded: dict[str, Brand] = {}
    for b in brands:
        folded.setdefault(b.name.casefold(), b)
    routes: dict[int, dict[tuple[str, str], Route]] = {}
    for row in store.routes():
        routes.setdefault(row.brand_id, {})[(row.platform, row.channel)] = row
    overrides = queries.sla_targets().overrides
    out: list[Change] = []
    for bp in plan.brands:
        have = exact.get(bp.name) or folded.get(bp.name.casefold())
        # Store lookups are case-insensitive: the stored spelling of the name is kept.
        name = have.name if have is not None else bp.name
        shown = f'"{name}"'
        have_routes: dict[tuple[str, str], Route] = {}
        have_sla: dict[str, int] = {}
        if have is None:
            out.append(Change(f"+ brand {shown}: {one_line(bp.query)}", functools.partial(
                store.add_brand, name=name, query=bp.query, actor=actor)))
        else:
            if have.query != bp.query:
                out.append(Change(
                    f"~ brand {shown} query: {one_line(have.query, 200)} -> {one_line(bp.query)}",
                    functools.partial(store.set_brand_query, name=name, query=bp.query,
                                      actor=actor)))
            have_routes = routes.get(have.id or 0, {})
            have_sla = {n: m for (bid, n), m in overrides.items() if bid == have.id}
        for r in bp.routes:
            add = functools.partial(store.add_route, brand=name, platform=r.platform,
                                    channel=r.channel, networks=list(r.networks),
                                    min_priority=r.min_priority,
                                    min_relevance=r.min_relevance, actor=actor)
            old = have_routes.get((r.platform, r.channel))
            if old is None:
                options = _options(r.networks, r.min_priority, r.min_relevance)
                out.append(Change(f"+ route {shown} -> {r.target}"
                                  + (f" ({options})" if r.networks or r.min_priority != "low"
                                     or r.min_relevance else ""), add))
                continue
            old_networks = [n for n in old.networks.split(",") if n]
            if (set(old_networks) != set(r.networks) or old.min_priority != r.min_priority
                    or (old.min_relevance or 0.0) != r.min_relevance):
                out.append(Change(f"~ route {shown} -> {r.target}: "
                                  f"{_options(r.networks, r.min_priority, r.min_relevance)} (was "
                                  f"{_options(old_networks, old.min_priority, old.min_relevance)})",
                                  add))
        for network, minutes in bp.sla.items():
            before = have_sla.get(network)
            if before != minutes:
                out.append(Change(
                    f"{'+' if before is None else '~'} sla {shown} {network}: {minutes} min"
                    + (f" (was {before})" if before is not None else ""),
                    functools.partial(queries.set_sla, brand=name, network=network,
                                      minutes=minutes, actor=actor)))
        if plan.prune:
            declared = {(r.platform, r.channel) for r in bp.routes}
            for platform, channel in sorted(set(have_routes) - declared):
                out.append(Change(f"- route {shown} -> {platform}:{channel} (prune)",
                                  functools.partial(store.remove_route, brand=name,
                                                    platform=platform, channel=channel,
                                                    actor=actor)))
            out.extend(Change(f"- sla {shown} {network}: back to the default (prune)",
                              functools.partial(queries.set_sla, brand=name, network=network,
                                                minutes=None, actor=actor))
                       for network in sorted(set(have_sla) - set(bp.sla)))
    texts = {t.name: t.text for t in store.templates()}
    for tname, text in plan.templates.items():
        if texts.get(tname) != text:
            out.append(Change(f"{'+' if tname not in texts else '~'} template :{tname}"
                              + ("" if tname not in texts else ": text changed"),
                              functools.partial(store.add_template, name=tname, text=text,
                                                actor=actor)))
    return out


def apply_plan(store: Store, plan: Plan, *, actor: str, dry_run: bool = False) -> list[str]:
    """Bring the database to `plan`: add the missing brands, change queries that differ, add
    missing routes and change the options (networks, minimum priority) of listed ones, set
    SLA targets and templates; with `plan.prune`, remove the unlisted routes and SLA targets
    of the plan's brands. Returns one line per change (`+` added, `~` changed, `-` removed),
    or ["nothing to change"]. `dry_run`: the lines only, nothing written.

    Not one transaction: every store method commits its own. Everything that could be
    refused is checked by `load_plan` first, and the changes are computed from the database
    just before they are made, so what can still fail midway is the database itself (an
    outage: its SQLAlchemy error propagates) or an admin changing the same brand in chat at
    that moment (SetupError). Either way the changes made so far are complete, and applying
    the file again makes the rest."""
    from bot.store import Conflict, NotFound

    todo = changes(store, plan, actor=actor)
    if not todo:
        return [NOTHING_TO_CHANGE]
    if dry_run:
        return [c.line for c in todo]
    for n, change in enumerate(todo):
        try:
            change.apply()
        except (NotFound, Conflict) as exc:
            reason = str(exc).strip("'\"")
            raise SetupError(one_line(
                f"brands file {plan.source}: {change.line}: {reason}; "
                f"the database changed meanwhile ({n} of {len(todo)} changes made); apply "
                "the file again")) from exc
    return [c.line for c in todo]


__all__ = ["NOTHING_TO_CHANGE", "Change", "apply_plan", "changes"]
