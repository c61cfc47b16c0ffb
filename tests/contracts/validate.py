"""Checks payloads against the vendored descriptions (tests/contracts/specs/) and says where
they differ: the service, the field (a path into the payload, or a parameter name) and the place
in the description (file and JSON pointer) that the payload breaks.

One reader per kind of description, all ending in `jsonschema` (through
openapi-schema-validator for OpenAPI's dialects): OpenAPI 3.0/3.1 (Discord, X, GitHub,
Mastodon), Swagger 2.0 (Slack's Web API), Google's discovery format (YouTube) and AT Protocol
lexicons (Bluesky), which are translated to JSON Schema with their own string rules (lengths in
UTF-8 bytes and in graphemes, formats such as did and at-uri) added as keywords.

Requests are held to the description more strictly than answers: a query parameter or an
argument that the operation does not declare is a mismatch (it is what a misspelt or renamed
field looks like), while an answer may carry fields the description does not list yet.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import regex
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    Visitor,
    build_schema,
    execute_sync,
    parse,
    validate,
    visit,
)
from graphql.execution.values import get_variable_values
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

SPECS = Path(__file__).resolve().parent / "specs"
BASE = "urn:echtzeit:spec"  # the URI each loaded description is registered under


@dataclass(frozen=True)
class Problem:
    """One difference between a payload and its description."""

    service: str
    field: str
    spec: str  # "<file under specs/>#<JSON pointer>"
    message: str

    def __str__(self) -> str:
        return f"{self.service}: {self.field}: {self.message} [spec: {self.spec}]"


class Mismatch(AssertionError):
    """Raised by `expect_valid`: every problem, one a line."""


def expect_valid(problems: Iterable[Problem], what: str) -> None:
    """Fails with every problem found (service, field and spec place on each line)."""
    found = list(problems)
    if found:
        lines = "\n".join(f"  - {p}" for p in found)
        raise Mismatch(f"{what} does not match its description:\n{lines}")


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def pointer_index(doc: Any) -> dict[int, str]:
    """id(node) -> JSON pointer of every dict and list in `doc`: how an error's schema (the
    very object inside the loaded description) is named back to its place in the file."""
    index: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            index[id(node)] = where or "/"
            stack.extend((v, f"{where}/{_escape(str(k))}") for k, v in node.items())
        elif isinstance(node, list):
            index[id(node)] = where or "/"
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(node))
    return index


def field_path(base: str, error: ValidationError) -> str:
    parts = base
    for part in error.absolute_path:
        parts += f"[{part}]" if isinstance(part, int) else f".{part}"
    return parts or "(body)"


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The most specific errors under `error`: for anyOf/oneOf, those of the branch that got
    furthest (the deepest), so a message names the field at fault rather than "not valid
    under any of the given schemas"."""
    if not error.context:
        yield error
        return
    deepest = max(len(e.absolute_path) for e in error.context)
    if deepest <= len(error.absolute_path):
        yield error
        return
    for sub in error.context:
        if len(sub.absolute_path) == deepest:
            yield from _leaves(sub)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- formats ------------------------------------------------------------------------------------

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})",
                        value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value.upper().replace("Z", "+00:00")))
    return True


@FORMATS.checks("uri", raises=ValueError)
def _uri(value: object) -> bool:
    if isinstance(value, str) and not urlsplit(value).scheme:
        raise ValueError(f"{value!r} is not an absolute URI")
    return True


@FORMATS.checks("int64", raises=ValueError)
@FORMATS.checks("uint64", raises=ValueError)
def _int64(value: object) -> bool:
    # Google's discovery format writes 64-bit integers as JSON strings.
    if isinstance(value, str) and not re.fullmatch(r"-?\d+", value):
        raise ValueError(f"{value!r} is not a decimal integer")
    return True


# --- OpenAPI 3.x --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    path: str  # the template, as in the description
    method: str
    body: dict[str, Any]
    pointer: str


class OpenApi:
    """An OpenAPI 3.0 or 3.1 description (the vendored subset)."""

    def __init__(self, service: str, file: str, *, rails_arrays: bool = False,
                 booleans: tuple[frozenset[str], frozenset[str]] = (
                     frozenset({"true"}), frozenset({"false"}))) -> None:
        self.service = service
        self.file = file
        # How the service spells a boolean in a query string (true, false), false spellings.
        self.booleans = booleans
        # Mastodon (Rails) takes an array parameter as `name[]=a&name[]=b`; its description
        # names the parameter `name`.
        self.rails_arrays = rails_arrays
        self.doc: dict[str, Any] = _load(SPECS / file)
        self.index = pointer_index(self.doc)
        oas31 = str(self.doc.get("openapi", "")).startswith("3.1")
        self._validator_class = OAS31Validator if oas31 else OAS30Validator
        spec = DRAFT202012 if oas31 else DRAFT4
        self._registry: Registry[Any] = Registry().with_resource(
            BASE, Resource(contents=self.doc, specification=spec))
        self._templates = [
            (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", r"([^/]+)", re.escape(p)) + "$"), p)
            for p in self.doc["paths"]]
        # Literal paths first (/messages/@original before /messages/{message_id}).
        self._templates.sort(key=lambda t: t[1].count("{"))

    def where(self, node: Any) -> str:
        return f"{self.file}#{self.index.get(id(node), '?')}"

    def entry(self, schema: Any) -> dict[str, Any]:
        """A schema inside the description as a root the validator starts from (so that its
        "#/components/..." references resolve against the whole description)."""
        where = self.index.get(id(schema))
        return {"$ref": f"{BASE}#{quote(where)}"} if where else schema

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            target: Any = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def operation(self, method: str, path: str) -> tuple[Operation | None, dict[str, str]]:
        """The operation for a concrete path, and the path parameters' values."""
        for rx, template in self._templates:
            m = rx.match(path)
            if m is None:
                continue
            item = self.doc["paths"][template]
            op = item.get(method.lower())
            if op is None:
                continue
            names = re.findall(r"\{([^}]+)\}", template)
            pointer = f"/paths/{_escape(template)}/{method.lower()}"
            return Operation(template, method.lower(), op, pointer), dict(zip(names, m.groups(),
                                                                                strict=True))
        return None, {}

    def parameters(self, op: Operation) -> list[dict[str, Any]]:
        item = self.doc["paths"][op.path]
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*item.get("parameters", []), *op.body.get("parameters", [])]:
            param = self.resolve(raw)
            found[(param["name"], param["in"])] = param
        return list(found.values())

    def schema_problems(self, schema: Any, value: Any, field: str) -> list[Problem]:
        validator = self._validator_class(self.entry(schema), registry=self._registry,
                                          format_checker=FORMATS)
        return [Problem(self.service, field_path(field, leaf), self.where(leaf.schema),
                        leaf.message)
                for error in sorted(validator.iter_errors(value), key=lambda e: list(e.path))
                for leaf in _leaves(error)]

    def check_request(self, method: str, url: str, *, query: Iterable[tuple[str, str]] = (),
                      body: Any = None) -> list[Problem]:
        """Problems of a request: an operation the description lacks, query parameters it does
        not declare or whose values break their schema, missing required ones, and a JSON
        body that breaks the request body's schema."""
        path = urlsplit(url).path if "://" in url else url
        op, path_values = self.operation(method, path)
        if op is None:
            return [Problem(self.service, f"{method.upper()} {path}", f"{self.file}#/paths",
                            "no such operation in the description")]
        where = f"{self.file}#{op.pointer}"
        problems: list[Problem] = []
        params = self.parameters(op)
        declared = {p["name"]: p for p in params if p["in"] == "query"}
        sent: dict[str, list[str]] = {}
        for name, value in query:
            sent.setdefault(name, []).append(value)
        for name, values in sent.items():
            param = declared.get(name)
            if param is None and self.rails_arrays and name.endswith("[]"):
                param = declared.get(name[:-2])
                if param is not None and self.resolve(param.get("schema", {})).get(
                        "type") != "array":
                    param = None
            if param is None:
                problems.append(Problem(
                    self.service, f"query {name}", f"{where}/parameters",
                    f"{op.method.upper()} {op.path} declares no query parameter {name!r} "
                    f"(it declares {', '.join(sorted(declared)) or 'none'})"))
                continue
            problems += self._param_value(param, values, f"query {name}")
        for name, param in declared.items():
            if param.get("required") and name not in sent and f"{name}[]" not in sent:
                problems.append(Problem(self.service, f"query {name}", self.where(param),
                                        "required query parameter missing"))
        for param in params:
            if param["in"] == "path" and param["name"] in path_values:
                problems += self._param_value(param, [path_values[param["name"]]],
                                              f"path {param['name']}")
        if body is not None:
            request = self.resolve(op.body.get("requestBody"))
            content = (request or {}).get("content", {}).get("application/json")
            if content is None:
                problems.append(Problem(self.service, "(body)", where,
                                        "the operation takes no JSON body"))
            else:
                problems += self.schema_problems(content["schema"], body, "body")
        elif (self.resolve(op.body.get("requestBody")) or {}).get("required"):
            problems.append(Problem(self.service, "(body)", where, "required body missing"))
        return problems

    def _param_value(self, param: dict[str, Any], values: list[str],
                     field: str) -> list[Problem]:
        schema = self.resolve(param.get("schema", {}))
        kind = schema.get("type")
        value: Any
        if kind == "array":
            explode = param.get("explode", param.get("style", "form") == "form")
            parts = values if explode and len(values) > 1 else values[0].split(",")
            item = self.resolve(schema.get("items", {}))
            value = [_coerce(item.get("type"), p, self.booleans) for p in parts]
        else:
            if len(values) > 1:
                return [Problem(self.service, field, self.where(param),
                                "sent more than once, but it is not an array")]
            value = _coerce(kind, values[0], self.booleans)
        return self.schema_problems(param.get("schema", {}), value, field)

    def check_response(self, method: str, url: str, status: int, body: Any, *,
                       media: str | None = None) -> list[Problem]:
        """Problems of an answer: a status the operation does not describe, or a JSON body
        that breaks the schema described for that status (and media type, if given)."""
        path = urlsplit(url).path if "://" in url else url
        op, _ = self.operation(method, path)
        if op is None:
            return [Problem(self.service, f"{method.upper()} {path}", f"{self.file}#/paths",
                            "no such operation in the description")]
        responses = op.body.get("responses", {})
        key = next((k for k in (str(status), f"{str(status)[0]}XX", "default")
                    if k in responses), None)
        if key is None:
            return [Problem(self.service, f"status {status}",
                            f"{self.file}#{op.pointer}/responses",
                            f"{op.method.upper()} {op.path} describes no {status} answer "
                            f"(only {', '.join(sorted(responses))})")]
        response = self.resolve(responses[key])
        content = response.get("content", {})
        kinds = [m for m in content if "json" in m and "schema" in content[m]
                 and (media is None or m == media)]
        if not kinds:
            return [] if body in (None, b"", "") else [Problem(
                self.service, "(body)", self.where(response),
                f"the {status} answer is described without a {media or 'JSON'} body")]
        # Where the answer may be one of several JSON media types (X: application/json or
        # application/problem+json) and the payload does not say which, the closest counts.
        found = [self.schema_problems(content[m]["schema"], body, "body") for m in kinds]
        return min(found, key=len)


def _coerce(kind: Any, raw: str, booleans: tuple[frozenset[str], frozenset[str]] = (
        frozenset({"true"}), frozenset({"false"}))) -> Any:
    """A query string value as the type its schema names (otherwise left a string)."""
    if kind == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean" and raw in booleans[0] | booleans[1]:
        return raw in booleans[0]
    return raw


# --- Swagger 2.0 (Slack's Web API) --------------------------------------------------------------


class SlackWebApi:
    """Slack's Web API description (Swagger 2.0): one operation per method under /<method>.

    Slack takes every method by GET or POST, with arguments in the query, a form or (for
    most writes) a JSON body, whatever the description's verb; arguments are matched by name
    whichever way they came. Structured arguments (blocks, view, metadata) are described
    only as strings here; testkit/blockkit.py holds them to Block Kit's rules."""

    service = "slack"

    def __init__(self, file: str = "slack/web_api.json") -> None:
        self.file = file
        self.doc: dict[str, Any] = _load(SPECS / file)
        self.index = pointer_index(self.doc)
        self._registry: Registry[Any] = Registry().with_resource(
            BASE, Resource(contents=self.doc, specification=DRAFT4))

    def where(self, node: Any) -> str:
        return f"{self.file}#{self.index.get(id(node), '?')}"

    def operation(self, method: str) -> tuple[str, dict[str, Any]] | None:
        item = self.doc["paths"].get(f"/{method}")
        if not item:
            return None
        verb, body = next(iter((k, v) for k, v in item.items() if k != "parameters"))
        return f"/paths/{_escape('/' + method)}/{verb}", body

    def check_request(self, method: str, args: Mapping[str, Any], *,
                      bearer: bool = False) -> list[Problem]:
        """`bearer`: the token came in the Authorization header, which Slack takes for every
        method (where the description has a `token` argument, the header stands for it)."""
        found = self.operation(method)
        if found is None:
            return [Problem(self.service, method, f"{self.file}#/paths",
                            "no such method in the description")]
        pointer, op = found
        params = {p["name"]: p for p in op.get("parameters", []) if p["in"] != "header"}
        problems = []
        for name, value in args.items():
            param = params.get(name)
            if param is None:
                problems.append(Problem(
                    self.service, f"{method} {name}", f"{self.file}#{pointer}/parameters",
                    f"{method} takes no argument {name!r} (it takes "
                    f"{', '.join(sorted(params))})"))
                continue
            problems += self._scalar(method, name, param, value)
        problems += [Problem(self.service, f"{method} {name}", self.where(param),
                             "required argument missing")
                     for name, param in params.items()
                     if param.get("required") and name not in args
                     and not (bearer and name == "token")]
        return problems

    def _scalar(self, method: str, name: str, param: dict[str, Any],
                value: Any) -> list[Problem]:
        kind = param.get("type")
        if isinstance(value, dict | list):
            # A JSON argument; the description knows it as a JSON-encoded string.
            ok = kind == "string"
        elif isinstance(value, bool):
            ok = kind in ("boolean", "string")
        elif isinstance(value, int | float):
            ok = kind in ("integer", "number", "string")
        else:
            text = str(value)
            ok = (kind != "integer" or re.fullmatch(r"-?\d+", text) is not None) and (
                kind != "number" or re.fullmatch(r"-?\d+(\.\d+)?", text) is not None) and (
                kind != "boolean" or text.lower() in ("true", "false", "1", "0"))
        if ok:
            return []
        return [Problem(self.service, f"{method} {name}", self.where(param),
                        f"{value!r} is not a {kind}")]

    def check_response(self, method: str, body: Any) -> list[Problem]:
        found = self.operation(method)
        if found is None:
            return [Problem(self.service, method, f"{self.file}#/paths",
                            "no such method in the description")]
        _, op = found
        # Slack answers 200 whether ok is true or false; the description has the success
        # schema under 200 and the error schema under default.
        key = "200" if body.get("ok") else "default"
        schema = op["responses"][key]["schema"]
        validator = Draft4Validator({"$ref": f"{BASE}#{quote(self.index[id(schema)])}"},
                                    registry=self._registry, format_checker=FORMATS)
        return [Problem(self.service, field_path(method, leaf), self.where(leaf.schema),
                        leaf.message)
                for error in validator.iter_errors(body) for leaf in _leaves(error)]


# --- plain JSON Schema (Slack's manifest and event wrapper) -------------------------------------


class JsonSchemaFile:
    """A JSON Schema file, validated with the draft its $schema names."""

    def __init__(self, service: str, file: str) -> None:
        self.service = service
        self.file = file
        self.doc: dict[str, Any] = _load(SPECS / file)
        self.index = pointer_index(self.doc)

    def check(self, value: Any, field: str = "") -> list[Problem]:
        cls = validators.validator_for(self.doc, default=Draft202012Validator)
        validator = cls(self.doc, format_checker=FORMATS)
        return [Problem(self.service, field_path(field, leaf),
                        f"{self.file}#{self.index.get(id(leaf.schema), '?')}", leaf.message)
                for error in validator.iter_errors(value) for leaf in _leaves(error)]


# --- Google discovery (YouTube Data API v3) -----------------------------------------------------


class Discovery:
    """A Google API discovery document: methods with their parameters, and schemas (draft-03
    style, `$ref` naming a schema by id) that are read as JSON Schema draft 4."""

    def __init__(self, service: str, file: str) -> None:
        self.service = service
        self.file = file
        self.doc: dict[str, Any] = _load(SPECS / file)
        # The same tree with `$ref: "Name"` made "#/schemas/Name": pointers stay the same.
        self.schemas_doc = {"schemas": _discovery_refs(copy.deepcopy(self.doc["schemas"]))}
        self.index = pointer_index(self.schemas_doc)
        self._registry: Registry[Any] = Registry().with_resource(
            BASE, Resource(contents=self.schemas_doc, specification=DRAFT4))
        prefix = self.doc.get("servicePath", "")
        self._methods = {
            (m["httpMethod"], prefix + m["path"]): (f"{res}.{name}", m)
            for res, body in self.doc["resources"].items()
            for name, m in body["methods"].items()}

    def method(self, http_method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """The method for a URL's path ("/youtube/v3/commentThreads", or one with path
        parameters filled in: "/androidpublisher/v3/applications/com.acme.app/reviews")."""
        path = urlsplit(path).path if "://" in path else path
        key = (http_method.upper(), path.strip("/"))
        if key in self._methods:
            return self._methods[key]
        for (verb, template), found in self._methods.items():
            if verb == key[0] and "{" in template and re.fullmatch(
                    re.sub(r"\\\{[^}]+\\\}", "[^/]+?", re.escape(template)), key[1]):
                return found
        return None

    def check_request(self, http_method: str, path: str, query: Iterable[tuple[str, str]],
                      body: Any = None) -> list[Problem]:
        found = self.method(http_method, path)
        if found is None:
            return [Problem(self.service, f"{http_method} {path}", f"{self.file}#/resources",
                            "no such method in the description")]
        name, method = found
        resource, verb = name.split(".")
        where = f"{self.file}#/resources/{resource}/methods/{verb}"
        params = {**self.doc.get("parameters", {}), **method.get("parameters", {})}
        problems: list[Problem] = []
        sent: dict[str, list[str]] = {}
        for key, value in query:
            sent.setdefault(key, []).append(value)
        for key, values in sent.items():
            param = params.get(key)
            if param is None:
                problems.append(Problem(self.service, f"query {key}", f"{where}/parameters",
                                        f"{name} takes no parameter {key!r}"))
                continue
            if len(values) > 1 and not param.get("repeated"):
                problems.append(Problem(self.service, f"query {key}",
                                        f"{where}/parameters/{key}", "repeated, but not "
                                        "a repeated parameter"))
            for value in values:
                if "enum" in param and value not in param["enum"]:
                    problems.append(Problem(self.service, f"query {key}",
                                            f"{where}/parameters/{key}",
                                            f"{value!r} is not one of {param['enum']}"))
                if param.get("type") in ("integer", "number") and not re.fullmatch(
                        r"-?\d+", value):
                    problems.append(Problem(self.service, f"query {key}",
                                            f"{where}/parameters/{key}",
                                            f"{value!r} is not an integer"))
                low, high = param.get("minimum"), param.get("maximum")
                if value.isdigit() and ((low is not None and int(value) < int(low))
                                        or (high is not None and int(value) > int(high))):
                    problems.append(Problem(self.service, f"query {key}",
                                            f"{where}/parameters/{key}",
                                            f"{value} is outside {low}..{high}"))
        problems += [Problem(self.service, f"query {key}", f"{where}/parameters/{key}",
                             "required parameter missing")
                     for key, param in method.get("parameters", {}).items()
                     if param.get("required") and param.get("location") == "query"
                     and key not in sent]
        if body is not None:
            ref = (method.get("request") or {}).get("$ref")
            if ref is None:
                problems.append(Problem(self.service, "(body)", where, "takes no body"))
            else:
                problems += self.schema_problems(ref, body, "body")
                problems += self._annotated(name, ref, body, "body")
        return problems

    def _annotated(self, method: str, ref: str, body: Any, field: str) -> list[Problem]:
        """Properties the description marks as required for this method
        (`annotations.required`), which JSON Schema cannot say."""
        problems: list[Problem] = []
        schema = self.schemas_doc["schemas"][ref]
        for key, prop in schema.get("properties", {}).items():
            value = body.get(key) if isinstance(body, dict) else None
            if method in prop.get("annotations", {}).get("required", []) and value is None:
                problems.append(Problem(self.service, f"{field}.{key}",
                                        f"{self.file}#/schemas/{ref}/properties/{key}",
                                        f"required by {method}"))
            target = prop.get("$ref", "").removeprefix("#/schemas/")
            if target and isinstance(value, dict):
                problems += self._annotated(method, target, value, f"{field}.{key}")
        return problems

    def schema_problems(self, ref: str, value: Any, field: str) -> list[Problem]:
        validator = Draft4Validator({"$ref": f"{BASE}#/schemas/{ref}"}, registry=self._registry,
                                    format_checker=FORMATS)
        return [Problem(self.service, field_path(field, leaf),
                        f"{self.file}#{self.index.get(id(leaf.schema), '?')}", leaf.message)
                for error in validator.iter_errors(value) for leaf in _leaves(error)]

    def check_response(self, http_method: str, path: str, body: Any) -> list[Problem]:
        found = self.method(http_method, path)
        if found is None:
            return [Problem(self.service, f"{http_method} {path}", f"{self.file}#/resources",
                            "no such method in the description")]
        _, method = found
        return self.schema_problems(method["response"]["$ref"], body, "body")


def _discovery_refs(node: Any) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                node[key] = f"#/schemas/{value}"
            else:
                _discovery_refs(value)
    elif isinstance(node, list):
        for item in node:
            _discovery_refs(item)
    return node


# --- AT Protocol lexicons -----------------------------------------------------------------------

_GRAPHEME = regex.compile(r"\X")
_LEX_FORMATS: dict[str, re.Pattern[str]] = {
    "did": re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$"),
    "handle": re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
                         r"[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"),
    "at-uri": re.compile(r"^at://[^/\s]+(/[a-zA-Z][a-zA-Z0-9.-]*[a-zA-Z0-9](/[^/\s]+)?)?$"),
    "nsid": re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]*\.)+[a-zA-Z][a-zA-Z0-9]*$"),
    "cid": re.compile(r"^[a-zA-Z0-9+=]{8,}$"),
    "language": re.compile(r"^(i|[a-z]{2,3})(-[a-zA-Z0-9]+)*$"),
    "tid": re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$"),
    "record-key": re.compile(r"^[a-zA-Z0-9_~.:-]{1,512}$"),
    "uri": re.compile(r"^[a-z][a-z.+-]*:\S+$"),
}


def _lex_format(validator: Any, fmt: str, value: Any, schema: Any) -> Iterator[ValidationError]:
    if not isinstance(value, str):
        return
    if fmt == "datetime":
        try:
            _date_time(value)
        except ValueError as exc:
            yield ValidationError(str(exc))
        return
    if fmt == "at-identifier":
        ok = bool(_LEX_FORMATS["did"].match(value) or _LEX_FORMATS["handle"].match(value))
    else:
        pattern = _LEX_FORMATS.get(fmt)
        ok = pattern is None or bool(pattern.match(value))
    if not ok:
        yield ValidationError(f"{value!r} is not a valid {fmt}")


def _max_bytes(validator: Any, limit: int, value: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(value, str) and len(value.encode("utf-8")) > limit:
        yield ValidationError(f"{len(value.encode('utf-8'))} UTF-8 bytes, at most {limit}")


def _min_bytes(validator: Any, limit: int, value: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(value, str) and len(value.encode("utf-8")) < limit:
        yield ValidationError(f"{len(value.encode('utf-8'))} UTF-8 bytes, at least {limit}")


def _max_graphemes(validator: Any, limit: int, value: Any,
                   schema: Any) -> Iterator[ValidationError]:
    if isinstance(value, str) and len(_GRAPHEME.findall(value)) > limit:
        yield ValidationError(f"{len(_GRAPHEME.findall(value))} graphemes, at most {limit}")


LexValidator = validators.extend(Draft202012Validator, {
    "x-lexFormat": _lex_format, "x-maxBytes": _max_bytes, "x-minBytes": _min_bytes,
    "x-maxGraphemes": _max_graphemes})


class Lexicons:
    """The vendored lexicons, each def translated to JSON Schema on first use.

    `strict` translations (for what Echtzeit sends) close objects: a property the lexicon
    does not define is a mismatch. Open ones (for what the network answers) allow them, as
    lexicons evolve by adding fields."""

    service = "bluesky"

    def __init__(self, root: str = "atproto/lexicons") -> None:
        self.root = root
        self.docs: dict[str, dict[str, Any]] = {}
        for path in sorted((SPECS / root).rglob("*.json")):
            doc = _load(path)
            self.docs[doc["id"]] = doc

    def file(self, nsid: str) -> str:
        return f"{self.root}/{nsid.replace('.', '/')}.json"

    @cached_property
    def _open(self) -> _Translation:
        return _Translation(self, strict=False)

    @cached_property
    def _strict(self) -> _Translation:
        return _Translation(self, strict=True)

    def check(self, ref: str, value: Any, field: str, *, strict: bool) -> list[Problem]:
        """`value` against the def `ref` ("nsid" for main, or "nsid#name")."""
        translation = self._strict if strict else self._open
        return translation.check(ref, value, field)

    def _method(self, nsid: str) -> dict[str, Any]:
        return self.docs[nsid]["defs"]["main"]

    def check_params(self, nsid: str, query: Iterable[tuple[str, str]]) -> list[Problem]:
        """The query of an XRPC call: declared names only, values of the declared types."""
        if nsid not in self.docs:
            return [Problem(self.service, nsid, self.root, "no such lexicon vendored")]
        params = self._method(nsid).get("parameters", {"properties": {}})
        where = f"{self.file(nsid)}#/defs/main/parameters"
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for name, raw in query:
            prop = params["properties"].get(name)
            if prop is None:
                problems.append(Problem(self.service, f"{nsid} query {name}", where,
                                        f"{nsid} has no parameter {name!r} (it has "
                                        f"{', '.join(sorted(params['properties']))})"))
                continue
            if prop.get("type") == "array":
                values.setdefault(name, []).append(_coerce(prop["items"].get("type"), raw))
            elif name in values:
                problems.append(Problem(self.service, f"{nsid} query {name}", where,
                                        "sent more than once, but it is not an array"))
            else:
                values[name] = _coerce(prop.get("type"), raw)
        problems += self._strict.check(f"{nsid}#__params", values, f"{nsid} query")
        return problems

    def check_input(self, nsid: str, body: Any) -> list[Problem]:
        return self._strict.check(f"{nsid}#__input", body, f"{nsid} input")

    def check_output(self, nsid: str, body: Any) -> list[Problem]:
        return self._open.check(f"{nsid}#__output", body, f"{nsid} output")


class _Translation:
    """Lexicon defs as one JSON Schema document ({"$defs": {"nsid:name": schema}}), each
    translated schema carrying `x-lex`, its place in the lexicon file."""

    def __init__(self, lexicons: Lexicons, *, strict: bool) -> None:
        self.lex = lexicons
        self.strict = strict
        self.defs: dict[str, Any] = {}
        self.doc = {"$defs": self.defs}

    def _key(self, nsid: str, name: str) -> str:
        return f"{nsid}:{name}"

    def _ensure(self, nsid: str, name: str) -> str:
        key = self._key(nsid, name)
        if key in self.defs:
            return key
        self.defs[key] = {}  # a placeholder against cycles
        main = self.lex.docs[nsid]["defs"]["main"] if "main" in self.lex.docs[nsid]["defs"] \
            else {}
        where = f"{self.lex.file(nsid)}#/defs"
        if name == "__params":
            node, at = main.get("parameters", {"type": "params", "properties": {}}), \
                f"{where}/main/parameters"
        elif name in ("__input", "__output"):
            part = name.strip("_")
            node, at = main.get(part, {}).get("schema"), f"{where}/main/{part}/schema"
            if node is None:
                self.defs[key] = {"x-lex": f"{where}/main/{part}", "not": {}}
                return key
        else:
            node, at = self.lex.docs[nsid]["defs"][name], f"{where}/{name}"
        self.defs[key] = self._schema(node, nsid, at)
        return key

    def _ref(self, ref: str, nsid: str) -> dict[str, Any]:
        target, _, name = (ref if "#" in ref else f"{ref}#main").partition("#")
        target = target or nsid
        if target not in self.lex.docs:
            raise KeyError(f"lexicon {target} (referenced from {nsid}) is not vendored")
        return {"$ref": f"#/$defs/{self._ensure(target, name)}"}

    @staticmethod
    def _type_name(ref: str, nsid: str) -> str:
        target, _, name = ref.partition("#")
        target = target or nsid
        return target if name in ("", "main") else f"{target}#{name}"

    def _schema(self, node: dict[str, Any], nsid: str, at: str) -> dict[str, Any]:
        kind = node.get("type")
        out: dict[str, Any] = {"x-lex": at}
        if kind in ("object", "params"):
            props = node.get("properties", {})
            nullable = set(node.get("nullable", []))
            properties: dict[str, Any] = {}
            for key, prop in props.items():
                schema = self._schema(prop, nsid, f"{at}/properties/{_escape(key)}")
                properties[key] = ({"x-lex": schema["x-lex"],
                                    "anyOf": [{"type": "null"}, schema]}
                                   if key in nullable else schema)
            out.update(type="object", properties=properties)
            if node.get("required"):
                out["required"] = list(node["required"])
            if self.strict:
                out["properties"]["$type"] = {"x-lex": at, "type": "string"}
                out["additionalProperties"] = False
        elif kind == "record":
            return self._schema(node["record"], nsid, f"{at}/record")
        elif kind == "string":
            out["type"] = "string"
            for lex, js in (("maxLength", "x-maxBytes"), ("minLength", "x-minBytes"),
                            ("maxGraphemes", "x-maxGraphemes"), ("format", "x-lexFormat"),
                            ("enum", "enum"), ("const", "const")):
                if lex in node:
                    out[js] = node[lex]
        elif kind == "integer":
            out["type"] = "integer"
            for key in ("minimum", "maximum", "enum", "const"):
                if key in node:
                    out[key] = node[key]
        elif kind == "boolean":
            out["type"] = "boolean"
            if "const" in node:
                out["const"] = node["const"]
        elif kind == "array":
            out.update(type="array", items=self._schema(node["items"], nsid, f"{at}/items"))
            if "maxLength" in node:
                out["maxItems"] = node["maxLength"]
            if "minLength" in node:
                out["minItems"] = node["minLength"]
        elif kind == "ref":
            out.update(self._ref(node["ref"], nsid))
        elif kind == "union":
            names = [self._type_name(r, nsid) for r in node["refs"]]
            out.update(type="object", required=["$type"],
                       properties={"$type": {"x-lex": at, "type": "string"}},
                       allOf=[{"x-lex": at,
                               "if": {"properties": {"$type": {"const": name}}},
                               "then": self._ref(ref, nsid)}
                              for ref, name in zip(node["refs"], names, strict=True)])
            if node.get("closed"):
                out["properties"]["$type"]["enum"] = names
        elif kind in ("unknown", "blob"):
            out["type"] = "object"
        elif kind == "cid-link":
            out.update(type="object", required=["$link"],
                       properties={"$link": {"x-lex": at, "type": "string"}})
        elif kind == "bytes":
            out.update(type="object", required=["$bytes"])
        elif kind == "token":
            out["type"] = "string"
        else:
            raise ValueError(f"{at}: lexicon type {kind!r} is not translated")
        return out

    def check(self, ref: str, value: Any, field: str) -> list[Problem]:
        nsid, _, name = ref.partition("#")
        key = self._ensure(nsid, name or "main")
        registry: Registry[Any] = Registry().with_resource(
            BASE, Resource(contents=self.doc, specification=DRAFT202012))
        validator = LexValidator({"$ref": f"{BASE}#/$defs/{key}"}, registry=registry)
        problems = []
        for error in validator.iter_errors(value):
            for leaf in _leaves(error):
                message = leaf.message
                if leaf.validator == "additionalProperties":
                    message += " (not defined by the lexicon)"
                problems.append(Problem("bluesky", field_path(field, leaf),
                                        str(leaf.schema.get("x-lex", "?")), message))
        return problems


__all__ = ["Discovery", "JsonSchemaFile", "Lexicons", "Mismatch", "OpenApi", "Problem",
           "SlackWebApi", "expect_valid"]


# --- GraphQL (GitHub's schema, SDL) -----------------------------------------------------------


class GraphQL:
    """A GraphQL schema (SDL): query documents are validated against it as GitHub validates
    them (graphql-core: the specification's validation rules), their variables coerced to the
    declared types, and an answer's `data` is executed against the document over the schema,
    so a field the schema makes non-null and the answer lacks, a value of the wrong type or an
    unknown enum value is named."""

    def __init__(self, service: str, file: str) -> None:
        self.service = service
        self.file = file

    @cached_property
    def schema(self) -> GraphQLSchema:
        return build_schema((SPECS / self.file).read_text(encoding="utf-8"),
                            assume_valid=True)

    def _problem(self, error: GraphQLError, what: str) -> Problem:
        where = ".".join(str(p) for p in error.path or ()) or (
            ",".join(f"{loc.line}:{loc.column}" for loc in error.locations or ()) or "-")
        return Problem(self.service, f"{what} {where}", f"{self.file}", error.message)

    def check_request(self, body: Any) -> list[Problem]:
        """A request body {"query", "variables"[, "operationName"]} against the schema."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return [Problem(self.service, "(body)", self.file, "not a GraphQL request body")]
        extra = set(body) - {"query", "variables", "operationName"}
        problems = [Problem(self.service, f"body {k}", self.file, "not a GraphQL request "
                            "field") for k in sorted(extra)]
        try:
            document = parse(body["query"])
        except GraphQLError as exc:
            return [*problems, self._problem(exc, "query")]
        problems += [self._problem(e, "query") for e in validate(self.schema, document)]
        variables = body.get("variables") or {}
        for op in document.definitions:
            if isinstance(op, OperationDefinitionNode):
                coerced = get_variable_values(self.schema, op.variable_definitions or (),
                                              variables)
                if isinstance(coerced, list):
                    problems += [self._problem(e, "variables") for e in coerced]
        return problems

    def check_response(self, query: str, variables: Mapping[str, Any],
                       answer: Any) -> list[Problem]:
        """An answer's `data` as the schema makes the result of the document the request sent
        (types, nullability, enums), executed with the answer's values as the fields'
        values."""
        if not isinstance(answer, dict) or "data" not in answer:
            return [Problem(self.service, "(body)", self.file, "an answer without data")]
        document = parse(query)
        named = {f.type_condition.name.value for f in _walk_inline_fragments(document)
                 if f.type_condition is not None}

        def resolve_type(value: Any, info: Any, abstract: Any) -> str | None:
            if isinstance(value, dict) and isinstance(value.get("__typename"), str):
                return str(value["__typename"])
            possible = sorted(t.name for t in self.schema.get_possible_types(abstract))
            chosen = [t for t in possible if t in named]
            if len(chosen) == 1:
                return chosen[0]
            # No fragment picks a type: the selection holds only the interface's own fields,
            # which every possible type has (an Actor's login and url, for one).
            return possible[0] if not chosen and possible else None

        result = execute_sync(self.schema, document, root_value=answer["data"],
                              type_resolver=resolve_type,
                              variable_values=dict(variables))
        return [self._problem(e, "data") for e in result.errors or ()]


def _walk_inline_fragments(document: DocumentNode) -> list[InlineFragmentNode]:
    found: list[InlineFragmentNode] = []

    class Collect(Visitor):
        def enter_inline_fragment(self, node: InlineFragmentNode, *_: Any) -> None:
            found.append(node)

    visit(document, Collect())
    return found


# --- Slack's recorded answers (java-slack-sdk json-logs) ----------------------------------------


_ID_KEY = re.compile(r"^[CGDUTFW][0-9A-Z]{8,}$")  # a map keyed by ids (shares.public.C0...)


class SlackSamples:
    """Answers of the Web API methods Slack's 2021 description lacks, held to the answers
    Slack's SDK team recorded from the live API (specs/slack/samples/<method>.json: every field
    seen, values anonymised). A sample lists fields that only some answers carry, so an answer
    need not have them all; but it may have no field the sample lacks (a fake that invents a
    field teaches the code to read what Slack never sends), and each field must have the
    sample's JSON type."""

    def __init__(self, root: str = "slack/samples") -> None:
        self.root = root

    def check_response(self, method: str, body: Any) -> list[Problem]:
        file = f"{self.root}/{method}.json"
        if not (SPECS / file).exists():
            return [Problem("slack", method, f"{self.root}/", "no recorded answer for the "
                            "method")]
        return self._compare(_load(SPECS / file), body, method, file, "")

    def _compare(self, sample: Any, value: Any, field: str, file: str,
                 pointer: str) -> list[Problem]:
        where = f"{file}#{pointer or '/'}"
        if sample is None or value is None:
            return []
        kinds = {bool: "boolean", int: "number", float: "number", str: "string",
                 list: "array", dict: "object"}
        want, got = kinds.get(type(sample)), kinds.get(type(value))
        if want != got:
            return [Problem("slack", field, where, f"{got} where Slack answers {want}")]
        problems: list[Problem] = []
        if isinstance(sample, dict):
            keyed = sample and all(_ID_KEY.match(k) for k in sample)
            for key, item in value.items():
                if keyed and _ID_KEY.match(key):
                    inner = next(iter(sample.values()))
                    problems += self._compare(inner, item, f"{field}.{key}", file,
                                              f"{pointer}/{_escape(next(iter(sample)))}")
                elif key not in sample:
                    problems.append(Problem("slack", f"{field}.{key}", where,
                                            "a field Slack's recorded answers never have"))
                else:
                    problems += self._compare(sample[key], item, f"{field}.{key}", file,
                                              f"{pointer}/{_escape(key)}")
        elif isinstance(sample, list) and sample:
            for n, item in enumerate(value):
                problems += self._compare(sample[0], item, f"{field}[{n}]", file,
                                          f"{pointer}/0")
        return problems
