"""Brands files: brands, their queries and routes, reply templates and SLA targets in YAML.

    brands:
      - name: Acme Rockets
        query: '"acme rockets" OR @acmerockets -jobs'
        routes:
          - slack:C0123CARDS                                   # every network, every priority
          - {to: discord:1234567890, networks: [x, bluesky], min: high, relevance: 0.4}
          - {to: slack:C0456NIGHT, quiet: "22:00-07:00", tz: Europe/Berlin}  # docs/routing.md
        sla: {x: 30, facebook: 120}            # minutes to the first reply, per network
        oncall:                                # the escalation ladder (docs/workflow.md)
          - {level: 1, who: "slack:U0123ANA", hours: "mon-fri 09:00-18:00", tz: Europe/Berlin}
          - {level: 2, who: "slack:U0456BEN"}  # any time
    templates:
      thanks: "Thank you, {name}! - Team {brand}"
    prune: false                               # true: also remove what the file does not list

Routes take the options of `brand route` (networks, min, relevance: the minimum relevance
0..1 below which a mention is stored but not carded, quiet with its tz, which the file must
name); route and SLA networks must be ones
Echtzeit knows (`known_networks`), in lower case. Top-level keys starting with `x-` are free
for YAML anchors; any other unknown key is an error, as is a key given twice.

`load_plan` reads and checks everything before anything is written, with the same rules as
the chat commands (`brand add`, `brand route`, `template add`, `sla set`, `oncall set`), and raises
`SetupError` with one line naming the file, the line, the entry and the problem.
`echtzeit.brands_apply.apply_plan` brings the database to the plan and is idempotent: a second
run reports "nothing to change".

What the file does not list is kept: applying never deletes a brand, a template, a route or an
SLA target, so a file can declare part of the desk and chat admins can add the rest. With
`prune: true` the routes, SLA targets and on-call entries of the brands in the file that the
file does not list are removed (brands and templates are never removed; the store cannot
delete them).

Imported by `echtzeit.admin` when a brands file is read, not with the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from bot.domain import PRIORITY_ORDER
from bot.reporting.sla.hours import BusinessHours, BusinessHoursError
from commands.base import one_line
from echtzeit.errors import SetupError

if TYPE_CHECKING:
    pass

# The chat platforms a route can name (integrations/chat: console, slack, discord).
PLATFORMS = ("console", "slack", "discord")
# The range `sla set` accepts (commands/digest.py).
SLA_MINUTES = (1, 60 * 24 * 30)
# Column sizes of bot/models.py (PostgreSQL refuses longer values; checked before writing).
_BRAND_NAME_MAX, _CHANNEL_MAX, _TEMPLATE_NAME_MAX = 200, 200, 100
# Placeholder-like braces, and the placeholders a template may use: as `template add` checks.
_FIELD = re.compile(r"\{([^{}\s]{0,40})\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def known_networks() -> tuple[str, ...]:
    """The networks Echtzeit reads, and those only the webhook carries (e.g. trustpilot): the
    installed list of networks (bot.networks)."""
    from bot.networks import network_names

    return network_names()


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutePlan:
    platform: str
    channel: str
    networks: tuple[str, ...] = ()  # empty: every network
    min_priority: str = "low"
    quiet_hours: str | None = None  # bot.quiet; in quiet_timezone
    quiet_timezone: str | None = None
    min_relevance: float = 0.0

    @property
    def target(self) -> str:
        return f"{self.platform}:{self.channel}"


@dataclass(frozen=True, slots=True)
class BrandPlan:
    name: str
    query: str
    routes: tuple[RoutePlan, ...] = ()
    sla: Mapping[str, int] = field(default_factory=dict)  # network -> minutes
    # Replies need a second person (bot.approvals): None leaves the stored rule as it is.
    approval: str | None = None
    approval_networks: tuple[str, ...] = ()
    approval_min_priority: str = ""
    voice: str | None = None  # the voice guide of AI drafts; None: as stored
    oncall: tuple[OnCallPlan, ...] = ()


@dataclass(frozen=True, slots=True)
class OnCallPlan:
    """One rung of the escalation ladder: `person` on `platform` at `level`."""

    level: int
    platform: str
    person: str
    hours: str | None = None
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked brands file. `source` names it in messages."""

    source: str
    brands: tuple[BrandPlan, ...] = ()
    templates: Mapping[str, str] = field(default_factory=dict)
    prune: bool = False


# --- the schema ------------------------------------------------------------------------------


def _brand_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("a brand needs a name")
    if len(value) > _BRAND_NAME_MAX:
        raise ValueError(f"at most {_BRAND_NAME_MAX} characters")
    if _CONTROL.search(value) or '"' in value:
        raise ValueError("no line breaks, control characters or double quotes (chat commands "
                         "could not name it)")
    return value


def _query(value: str) -> str:
    from bot.query import QueryError, parse

    value = value.strip()
    try:
        parse(value)
    except QueryError as exc:
        raise ValueError(f"{exc.message} at column {exc.column}") from None
    return value


def _network(value: str) -> str:
    if value not in known_networks():
        hint = (f"write it in lower case: {value.lower()}" if value.lower() in known_networks()
                else f"networks: {', '.join(known_networks())}")
        raise ValueError(f"unknown network {value!r} ({hint})")
    return value


def _minutes(value: int) -> int:
    low, high = SLA_MINUTES
    if not low <= value <= high:
        raise ValueError(f"minutes must be between {low} and {high} (30 days), not {value}")
    return value


def _template_name(value: str) -> str:
    # As `template add`: letters, digits, - and _.
    if not value or not value.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"bad template name {value!r}: letters, digits, - and _")
    if len(value) > _TEMPLATE_NAME_MAX:
        raise ValueError(f"template name longer than {_TEMPLATE_NAME_MAX} characters")
    return value


def _template_text(value: str) -> str:
    from commands.mentions import PLACEHOLDERS

    value = value.strip()
    if not value:
        raise ValueError("empty template")
    unknown = sorted(set(_FIELD.findall(value)) - PLACEHOLDERS)
    if unknown:
        raise ValueError(f"unknown placeholder {'{' + unknown[0] + '}'!r} in the template; use "
                         "{author}, {name} or {brand}")
    return value


Network = Annotated[str, AfterValidator(_network)]


class _Entry(BaseModel):
    # Strict: YAML says what a value is; "30" is not a number and `yes` is not a name.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RouteEntry(_Entry):
    """`<platform>:<channel>`, or a mapping with the options of `brand route`."""

    to: str
    networks: list[Network] = []
    min: str = "low"
    relevance: float = 0.0

    @field_validator("relevance")
    @classmethod
    def _relevance(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"expected a minimum relevance from 0 to 1, not {value!r}")
        return float(value)
    quiet: str | None = None
    tz: str | None = None

    @model_validator(mode="after")
    def _quiet(self) -> RouteEntry:
        from bot.quiet import QuietHours, QuietHoursError

        if self.tz is not None and self.quiet is None:
            raise ValueError("tz is the time zone of quiet hours: give quiet too")
        if self.quiet is not None:
            if self.tz is None:
                raise ValueError("quiet hours need their time zone: add tz (e.g. Europe/Berlin)")
            try:
                QuietHours.parse(self.quiet, self.tz)
            except QuietHoursError as exc:
                raise ValueError(str(exc)) from None
        return self

    @field_validator("to")
    @classmethod
    def _target(cls, value: str) -> str:
        platform, colon, channel = value.partition(":")
        if not colon or not platform or not channel:
            raise ValueError(f"expected <platform>:<channel> such as slack:C0123, not {value!r}")
        if platform not in PLATFORMS:
            raise ValueError(f"unknown chat platform {platform!r} (platforms: "
                             f"{', '.join(PLATFORMS)})")
        if len(channel) > _CHANNEL_MAX or _CONTROL.search(channel) or channel != channel.strip() \
                or any(c.isspace() for c in channel):
            raise ValueError(f"bad channel {channel!r}: no spaces, at most {_CHANNEL_MAX} "
                             "characters")
        return value

    @field_validator("networks")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("min")
    @classmethod
    def _priority(cls, value: str) -> str:
        if value not in PRIORITY_ORDER:
            raise ValueError(f"expected one of {', '.join(PRIORITY_ORDER)}, not {value!r}")
        return value


class OnCallEntry(_Entry):
    """`{level, who: <platform>:<user id>, hours?, tz?}`: the rules of `oncall set`."""

    level: int
    who: str
    hours: str | None = None
    tz: str = "UTC"

    @field_validator("level")
    @classmethod
    def _level(cls, value: int) -> int:
        if not 1 <= value <= 9:
            raise ValueError("levels go from 1 (pinged first) to 9")
        return value

    @field_validator("who")
    @classmethod
    def _who(cls, value: str) -> str:
        platform, colon, person = value.partition(":")
        if not colon or platform not in PLATFORMS or not person.strip() \
                or any(c.isspace() for c in person) or len(person) > 200:
            raise ValueError(f"expected <platform>:<user id> such as slack:U0123ANA, "
                             f"not {value!r}")
        return value

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"no time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _hours(self) -> OnCallEntry:
        if self.hours is not None:
            try:
                BusinessHours.parse(self.hours, ZoneInfo(self.tz))
            except BusinessHoursError as exc:
                raise ValueError(str(exc)) from None
        return self


class BrandEntry(_Entry):
    name: Annotated[str, AfterValidator(_brand_name)]
    query: Annotated[str, AfterValidator(_query)]
    routes: list[RouteEntry] = []
    sla: dict[Network, Annotated[int, AfterValidator(_minutes)]] = {}
    approval: Literal["required", "none"] | None = None
    approval_networks: list[Network] = []
    approval_min_priority: str = ""
    voice: Annotated[str, StringConstraints(max_length=4000)] | None = None
    oncall: list[OnCallEntry] = []

    @field_validator("approval_min_priority")
    @classmethod
    def _approval_priority(cls, value: str) -> str:
        if value and value not in PRIORITY_ORDER:
            raise ValueError(f"expected one of {', '.join(PRIORITY_ORDER)}, not {value!r}")
        return value

    @field_validator("routes", mode="before")
    @classmethod
    def _short_routes(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"to": v} if isinstance(v, str) else v for v in value]
        return value


class BrandsFile(_Entry):
    brands: list[BrandEntry] = []
    templates: dict[Annotated[str, AfterValidator(_template_name)],
                    Annotated[str, AfterValidator(_template_text)]] = {}
    prune: bool = False


_MODELS: dict[str, type[BaseModel]] = {"brands": BrandEntry, "routes": RouteEntry}
_KEYED = frozenset({"templates", "sla"})  # mappings whose keys are names, not fields


# --- reading ---------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # unhashable: the base class says so
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {first})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, source: str) -> tuple[object, yaml.Node | None]:
    def fail(problem: str) -> SetupError:
        return SetupError(f"brands file {source}: {problem}")

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read it: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start + 1})") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "not YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise SetupError(one_line(f"brands file {source}{where}: YAML: {problem}{context}")) \
            from None
    except yaml.YAMLError as exc:
        raise fail(one_line(f"YAML: {exc}")) from None
    finally:
        loader.dispose()
    return data, node


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The file line of the value (or key) at `loc`, as far as the YAML tree goes."""
    if root is None:
        return None
    node: yaml.Node = root
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _label(item: object, field: str) -> str:
    """How an entry of a list is named besides its number: a brand by its name, a route by
    its target."""
    if field == "routes" and isinstance(item, str):
        name: object = item
    elif isinstance(item, dict):
        name = item.get("name" if field == "brands" else "to")
    else:
        return ""
    return f" ({one_line(name, 60)})" if isinstance(name, str) and name.strip() else ""


def _where(loc: tuple[int | str, ...], data: object) -> str:
    """`("brands", 0, "routes", 1, "min")` -> `brands[1] (Acme): routes[2] (discord:1): min`.
    Entries are counted from 1, as in the file."""
    parts: list[str] = []
    node: object = data
    last = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(node, list) and isinstance(part, int):
            item = node[part] if 0 <= part < len(node) else None
            head = parts.pop() if parts else ""
            parts.append(f"{head}[{part + 1}]{_label(item, last)}")
            node = item
        elif last in _KEYED and parts:  # a name in templates: or sla: (YAML may make it 3)
            plain = isinstance(part, str) and re.fullmatch(r"[\w-]+", part)
            parts[-1] += f".{part}" if plain else f"[{part!r}]"
            node, last = None, ""
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
            last = str(part)
    return ": ".join(parts)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel]:
    model: type[BaseModel] = BrandsFile
    for part in loc:
        if isinstance(part, str) and part in _MODELS:
            model = _MODELS[part]
    return model


def _problem(err: ErrorDetails) -> str:
    kind, loc = err["type"], err["loc"]
    if kind == "extra_forbidden":
        keys = list(_model_at(loc[:-1]).model_fields)
        return f"unknown key; expected {', '.join(keys[:-1])} or {keys[-1]}"
    if kind == "missing":
        return "missing (required)"
    if kind in ("model_type", "model_attributes_type", "dict_type") and not (
            loc and loc[-1] in _KEYED):
        model = _model_at(loc)
        fields = ", ".join(model.model_fields)
        if model is RouteEntry:
            return f"expected <platform>:<channel> or a mapping with {fields}"
        return f"expected a mapping with {fields}"
    msg = err["msg"].removeprefix("Value error, ")
    given = err.get("input")
    if kind != "value_error" and isinstance(given, str | int | float | bool) and given != "":
        msg += f", not {one_line(repr(given), 60)}"
    if kind == "string_type":
        msg += " (quote it to make it text)"
    return msg


def _error(source: str, data: object, root: yaml.Node | None,
           loc: tuple[int | str, ...], problem: str, more: int = 0) -> SetupError:
    line = _line_of(root, loc)
    where = _where(loc, data)
    text = (f"brands file {source}" + (f", line {line}" if line else "")
            + (f": {where}" if where else "") + f": {problem}"
            + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))
    return SetupError(one_line(text))


def load_plan(path: Path | str) -> Plan:
    """Read and check a brands file. Raises SetupError, one line, for the first problem: the
    file cannot be read, is not YAML, has an unknown or missing key, a query that does not
    parse, a route to an unknown platform or with bad options, an SLA target for an unknown
    network or out of range, a template the `template add` command would refuse, or a brand
    (or a brand's route) listed twice. Nothing is written."""
    source = str(path)
    data, root = _read_yaml(Path(path), source)
    if data is None:
        raise SetupError(f"brands file {source}: it is empty; expected brands: and templates:")
    if not isinstance(data, dict):
        raise SetupError(f"brands file {source}: expected a mapping with brands:, templates: "
                         f"and prune: at the top, not a {type(data).__name__}")
    # Top-level keys starting with x- are free for YAML anchors (`x-slack: &slack {...}`).
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    try:
        spec = BrandsFile.model_validate(data)
    except ValidationError as exc:
        # A misspelt key also leaves a required one missing: name the misspelling first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        raise _error(source, data, root, first["loc"], _problem(first),
                     len(errors) - 1) from None
    seen: dict[str, int] = {}
    for i, brand in enumerate(spec.brands):
        j = seen.setdefault(brand.name.casefold(), i)
        if j != i:
            raise _error(source, data, root, ("brands", i, "name"),
                         f"listed twice: brands[{j + 1}] has the same name")
        targets: dict[str, int] = {}
        for k, route in enumerate(brand.routes):
            m = targets.setdefault(route.to, k)
            if m != k:
                raise _error(source, data, root, ("brands", i, "routes", k),
                             f"listed twice: routes[{m + 1}] goes to the same channel")
    return Plan(
        source=source,
        brands=tuple(
            BrandPlan(
                name=b.name, query=b.query,
                routes=tuple(RoutePlan(platform=r.to.partition(":")[0],
                                       channel=r.to.partition(":")[2],
                                       networks=tuple(r.networks), min_priority=r.min,
                                       quiet_hours=r.quiet, quiet_timezone=r.tz,
                                       min_relevance=r.relevance)
                             for r in b.routes),
                sla=dict(b.sla), approval=b.approval,
                approval_networks=tuple(dict.fromkeys(b.approval_networks)),
                approval_min_priority=b.approval_min_priority,
                voice=b.voice.strip() if b.voice is not None else None,
                oncall=tuple(OnCallPlan(level=o.level, platform=o.who.partition(":")[0],
                                        person=o.who.partition(":")[2], hours=o.hours,
                                        timezone=o.tz) for o in b.oncall))
            for b in spec.brands),
        templates=dict(spec.templates),
        prune=spec.prune,
    )


__all__ = ["PLATFORMS", "SLA_MINUTES", "BrandPlan", "OnCallPlan", "Plan", "RoutePlan",
           "known_networks", "load_plan"]
