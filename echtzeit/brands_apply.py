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
    from echtzeit.brands_file import BrandPlan, OnCallPlan, Plan

NOTHING_TO_CHANGE = "nothing to change"


class Change(NamedTuple):
    line: str  # what changes, as `apply` prints it
    apply: Callable[[], object]


def _options(networks: tuple[str, ...] | list[str], minimum: str,
             quiet: str | None = None, zone: str | None = None, relevance: float = 0.0) -> str:
    return (f"{', '.join(networks) or 'all networks'}; {minimum} priority and up"
            + (f"; relevance {relevance:g} and up" if relevance else "")
            + (f"; quiet {quiet} {zone}" if quiet else ""))


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
                                    min_relevance=r.min_relevance, quiet_hours=r.quiet_hours,
                                    quiet_timezone=r.quiet_timezone, actor=actor)
            old = have_routes.get((r.platform, r.channel))
            if old is None:
                options = _options(r.networks, r.min_priority, r.quiet_hours, r.quiet_timezone,
                                   r.min_relevance)
                out.append(Change(f"+ route {shown} -> {r.target}"
                                  + (f" ({options})" if r.networks or r.min_priority != "low"
                                     or r.quiet_hours or r.min_relevance else ""), add))
                continue
            old_networks = [n for n in old.networks.split(",") if n]
            if (set(old_networks) != set(r.networks) or old.min_priority != r.min_priority
                    or (old.min_relevance or 0.0) != r.min_relevance
                    or old.quiet_hours != r.quiet_hours
                    or (r.quiet_hours and old.quiet_timezone != r.quiet_timezone)):
                was = _options(old_networks, old.min_priority, old.quiet_hours,
                               old.quiet_timezone, old.min_relevance or 0.0)
                now = _options(r.networks, r.min_priority, r.quiet_hours, r.quiet_timezone,
                               r.min_relevance)
                out.append(Change(f"~ route {shown} -> {r.target}: {now} (was {was})", add))
        out.extend(_approval_changes(store, bp, have, name, actor))
        for network, minutes in bp.sla.items():
            before = have_sla.get(network)
            if before != minutes:
                out.append(Change(
                    f"{'+' if before is None else '~'} sla {shown} {network}: {minutes} min"
                    + (f" (was {before})" if before is not None else ""),
                    functools.partial(queries.set_sla, brand=name, network=network,
                                      minutes=minutes, actor=actor)))
        have_rota = {(e.level, e.platform, e.person): e
                     for e in store.oncall_rota(brand_ids=[have.id or 0])} if have else {}
        for o in bp.oncall:
            old_entry = have_rota.get((o.level, o.platform, o.person))
            if old_entry is None or (old_entry.hours, old_entry.timezone) != (o.hours,
                                                                                o.timezone):
                out.append(Change(
                    f"{'+' if old_entry is None else '~'} oncall {shown} level {o.level}: "
                    f"{o.platform}:{o.person} "
                    + (f"{o.hours} ({o.timezone})" if o.hours else "any time"),
                    functools.partial(_set_oncall, store, name, o, actor)))
        if plan.prune:
            declared_rota = {(o.level, o.platform, o.person) for o in bp.oncall}
            out.extend(Change(f"- oncall {shown} level {lv}: {pl}:{who} (prune)",
                              functools.partial(store.remove_oncall, brand_id=have.id or 0,
                                                person=who, level=lv, actor=actor))
                       for lv, pl, who in sorted(set(have_rota) - declared_rota) if have)
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


def _approval_changes(store: Store, bp: BrandPlan, have: Brand | None, name: str,
                      actor: str) -> list[Change]:
    """The brand's approval rule and voice guide, where the file declares them."""
    from bot.approvals import describe_rule

    out: list[Change] = []
    shown = f'"{name}"'
    if bp.approval is not None:
        want = (bp.approval, ",".join(bp.approval_networks), bp.approval_min_priority)
        now = ((have.approval, have.approval_networks, have.approval_min_priority)
               if have is not None else ("none", "", ""))
        if want != now:
            out.append(Change(f"~ approval {shown}: {describe_rule(*want)}",
                              functools.partial(store.set_brand_approval, name=name,
                                                approval=bp.approval,
                                                networks=list(bp.approval_networks),
                                                min_priority=bp.approval_min_priority,
                                                actor=actor)))
    if bp.voice is not None and bp.voice != (have.voice if have is not None else ""):
        out.append(Change(f"~ voice {shown}: {len(bp.voice)} characters",
                          functools.partial(store.set_brand_voice, name=name, voice=bp.voice,
                                            actor=actor)))
    return out


def _set_oncall(store: Store, brand: str, o: OnCallPlan, actor: str) -> None:
    """`oncall set` for a brand that may have been added by the same plan."""
    b = store.brand(name=brand)
    store.set_oncall(brand_id=b.id or 0, level=o.level, platform=o.platform, person=o.person,
                     hours=o.hours, timezone=o.timezone, actor=actor)


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
