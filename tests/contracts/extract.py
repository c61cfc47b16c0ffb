"""Refreshes tests/contracts/specs/ from the services' own machine-readable descriptions.

The full descriptions are large (GitHub's is over 10 MB, Discord's and Slack's over 1 MB), and
the contract tests need only the operations Echtzeit calls. This script takes one source at a
time from a local copy (a bare git directory of the public repository, a checkout, or an
unpacked package), keeps the listed operations with every component they reference, and writes
the subset with an `x-echtzeit-source` block naming the repository, path and commit (or package
version) it came from. It also rewrites tests/contracts/specs/sources.json, which the tests and
SOURCES.md are checked against.

    python tests/contracts/extract.py SERVICE LOCATION [--version V]

LOCATION is a bare git directory (read at HEAD; the commit is recorded) or a directory holding
the source's files (then --version names what it is: a commit, a package version, a date).
`python tests/contracts/extract.py --list` names the sources and what each keeps.

Nothing here runs during the tests: the vendored files are the tests' input, and this script is
how they are made again when a service's description moves on (docs/contracts.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPECS = Path(__file__).resolve().parent / "specs"
SOURCES_JSON = SPECS / "sources.json"


@dataclass(frozen=True)
class Source:
    """One vendored description: where it comes from and what of it is kept."""

    service: str
    repository: str  # "owner/name" on GitHub, or "npm:<package>" / "pypi:<package>"
    path: str  # inside the repository or package
    licence: str
    kind: str  # "openapi" (3.x), "swagger2", "discovery", "lexicons", "copy", "files"
    out: str  # under specs/
    # openapi/swagger2: (path, method) pairs; discovery: "resource.method" names;
    # lexicons: NSIDs (their references are followed); files: file names under `path`.
    keep: tuple[Any, ...] = ()
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


SOURCES: dict[str, Source] = {s.service: s for s in (
    Source(
        service="slack-web", repository="slackapi/slack-api-specs",
        path="web-api/slack_web_openapi_v2.json", licence="MIT", kind="swagger2",
        out="slack/web_api.json",
        keep=(("/chat.postMessage", "post"), ("/chat.update", "post"),
              ("/chat.postEphemeral", "post"), ("/conversations.history", "get"),
              ("/views.open", "get"), ("/views.update", "get"), ("/users.info", "get"),
              ("/usergroups.users.list", "get"), ("/reactions.add", "post"),
              ("/auth.test", "get"), ("/oauth.v2.access", "get")),
        note="Slack's last published Web API description (2021); apps.connections.open and "
             "the files.*UploadExternal methods are not in it."),
    Source(
        service="slack-events", repository="slackapi/slack-api-specs",
        path="events-api/slack_common_event_wrapper_schema.json", licence="MIT", kind="copy",
        out="slack/event_wrapper.schema.json"),
    Source(
        service="slack-manifest", repository="slackapi/manifest-schema",
        path="schemas/manifest.schema.1.0.0.json", licence="MIT", kind="copy",
        out="slack/manifest.schema.1.0.0.json",
        note="The version manifest.schema.json picks for a manifest without _metadata "
             "(integrations/chat/slack/manifest.yml)."),
    Source(
        service="slack-samples", repository="slackapi/java-slack-sdk",
        path="json-logs/samples/api", licence="MIT", kind="files", out="slack/samples",
        keep=("apps.connections.open.json", "files.getUploadURLExternal.json",
              "files.completeUploadExternal.json"),
        note="Answers of the Web API methods slack-api-specs (2021) lacks, as Slack's SDK team "
             "records them from the live API (every field seen, values anonymised); the Java "
             "SDK's response classes are generated from them."),
    Source(
        service="discord", repository="discord/discord-api-spec", path="specs/openapi.json",
        licence="MIT", kind="openapi", out="discord/openapi.json",
        keep=(("/users/@me", "get"), ("/oauth2/applications/@me", "get"),
              ("/gateway/bot", "get"), ("/channels/{channel_id}/messages", "post"),
              ("/channels/{channel_id}/messages/{message_id}", "patch"),
              ("/channels/{channel_id}/messages/{message_id}/threads", "post"),
              ("/applications/{application_id}/commands", "put"),
              ("/applications/{application_id}/guilds/{guild_id}/commands", "put"),
              ("/interactions/{interaction_id}/{interaction_token}/callback", "post"),
              ("/webhooks/{webhook_id}/{webhook_token}", "post"),
              ("/webhooks/{webhook_id}/{webhook_token}/messages/@original", "patch"),
              ("/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "patch"))),
    Source(
        service="x", repository="xdevplatform/xdk", path="specs/openapi.json", licence="MIT",
        kind="openapi", out="x/openapi.json",
        keep=(("/2/tweets/search/recent", "get"), ("/2/tweets", "post"),
              ("/2/users/me", "get"), ("/2/users/by/username/{username}", "get")),
        note="The OAuth 2.0 token endpoint (/2/oauth2/token) is not in X's description."),
    Source(
        service="github", repository="npm:@octokit/openapi",
        path="generated/api.github.com.json", licence="MIT", kind="openapi",
        out="github/openapi.json",
        keep=(("/user", "get"), ("/search/issues", "get"),
              ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "post"),
              ("/users/{username}", "get")),
        note="github/rest-api-description's api.github.com.json as @octokit/openapi packages "
             "it (with x-octokit extensions); the repository itself is too large to fetch "
             "here."),
    Source(
        service="github-graphql", repository="octokit/graphql-schema", path="schema.graphql",
        licence="MIT", kind="copy", out="github/schema.graphql",
        note="GitHub's public GraphQL schema (SDL) as octokit/graphql-schema republishes it "
             "from GitHub's schema download, whole (1.2 MB): the discussion search and "
             "addDiscussionComment reach most of it."),
    Source(
        service="youtube", repository="pypi:google-api-python-client",
        path="googleapiclient/discovery_cache/documents/youtube.v3.json",
        licence="Apache-2.0", kind="discovery", out="youtube/youtube.v3.json",
        keep=("commentThreads.list", "comments.insert", "videos.list", "channels.list"),
        note="Google's discovery document of the YouTube Data API v3 (the same file as "
             "googleapis/google-api-go-client youtube/v3/youtube-api.json)."),
    Source(
        service="androidpublisher", repository="pypi:google-api-python-client",
        path="googleapiclient/discovery_cache/documents/androidpublisher.v3.json",
        licence="Apache-2.0", kind="discovery", out="androidpublisher/androidpublisher.v3.json",
        keep=("reviews.list", "reviews.get", "reviews.reply"),
        note="Google's discovery document of the Google Play Android Developer API v3 (the "
             "same file as googleapis/google-api-go-client "
             "androidpublisher/v3/androidpublisher-api.json); the reviews resource only."),
    Source(
        service="atproto", repository="bluesky-social/atproto", path="lexicons",
        licence="MIT OR Apache-2.0", kind="lexicons", out="atproto",
        keep=("app.bsky.feed.post", "app.bsky.feed.searchPosts", "app.bsky.feed.getPosts",
              "app.bsky.actor.getProfiles", "app.bsky.actor.getProfile",
              "com.atproto.server.createSession", "com.atproto.server.refreshSession",
              "com.atproto.repo.createRecord", "com.atproto.identity.resolveHandle")),
    Source(
        service="mastodon", repository="abraham/mastodon-openapi", path="dist/schema.json",
        licence="MIT", kind="openapi", out="mastodon/openapi.json",
        keep=(("/api/v2/instance", "get"), ("/api/v1/statuses/{id}", "get"),
              ("/api/v1/accounts/verify_credentials", "get"),
              ("/api/v2/search", "get"), ("/api/v1/timelines/tag/{hashtag}", "get"),
              ("/api/v1/notifications", "get"), ("/api/v1/statuses", "post"),
              ("/api/v1/accounts/lookup", "get")),
        note="A community description generated from mastodon/documentation; Mastodon "
             "publishes no official OpenAPI description."),
)}


# --- reading a source ---------------------------------------------------------------------------


def _is_git_dir(location: Path) -> bool:
    return (location / "HEAD").is_file() and (location / "objects").is_dir()


def read_text(location: Path, path: str) -> str:
    if _is_git_dir(location):
        return subprocess.run(["git", f"--git-dir={location}", "show", f"HEAD:{path}"],
                              check=True, capture_output=True, text=True).stdout
    return (location / path).read_text(encoding="utf-8")


def list_dir(location: Path, path: str) -> list[str]:
    """Every file under `path`, as paths relative to the source's root."""
    if _is_git_dir(location):
        out = subprocess.run(["git", f"--git-dir={location}", "ls-tree", "-r", "--name-only",
                              "HEAD", path], check=True, capture_output=True, text=True).stdout
        return out.split()
    root = location / path
    return sorted(str(p.relative_to(location)) for p in root.rglob("*") if p.is_file())


def revision(location: Path, version: str | None) -> dict[str, str]:
    if _is_git_dir(location):
        out = subprocess.run(["git", f"--git-dir={location}", "log", "-1", "--format=%H %cI"],
                             check=True, capture_output=True, text=True).stdout.split()
        return {"commit": out[0], "date": out[1]}
    if not version:
        raise SystemExit("a directory source needs --version (commit, package version or date)")
    return {"version": version}


# --- keeping a subset -----------------------------------------------------------------------


def _refs(node: Any) -> set[str]:
    """Every local $ref ("#/...") inside `node`."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _get(doc: Any, pointer: str) -> Any:
    node = doc
    for part in pointer.removeprefix("#/").split("/"):
        node = node[_unescape(part)]
    return node


def _put(doc: dict[str, Any], pointer: str, value: Any) -> None:
    parts = [_unescape(p) for p in pointer.removeprefix("#/").split("/")]
    node = doc
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def keep_operations(spec: dict[str, Any], keep: tuple[tuple[str, str], ...],
                    head: tuple[str, ...]) -> dict[str, Any]:
    """The spec with only the kept operations (and their path-level parameters) and the
    components they reference, transitively."""
    out: dict[str, Any] = {k: spec[k] for k in head if k in spec}
    out["paths"] = {}
    for path, method in keep:
        item = spec["paths"].get(path)
        if item is None or method not in item:
            raise SystemExit(f"{method.upper()} {path} is not in the source")
        kept = out["paths"].setdefault(path, {})
        kept[method] = item[method]
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
    pending = _refs(out["paths"])
    done: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in done:
            continue
        done.add(ref)
        target = _get(spec, ref)
        _put(out, ref, target)
        pending |= _refs(target) - done
    return out


def keep_discovery(doc: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    """A discovery document with only the kept methods and the schemas they reach."""
    head = ("kind", "discoveryVersion", "id", "name", "version", "revision", "title",
            "rootUrl", "servicePath", "baseUrl", "batchPath", "parameters", "protocol")
    out: dict[str, Any] = {k: doc[k] for k in head if k in doc}
    out["resources"] = {}
    pending: set[str] = set()
    for name in keep:
        resource, method = name.split(".")
        body = doc["resources"][resource]["methods"][method]
        out["resources"].setdefault(resource, {"methods": {}})["methods"][method] = body
        for part in ("request", "response"):
            if part in body:
                pending.add(body[part]["$ref"])
    schemas: dict[str, Any] = {}
    while pending:
        name = pending.pop()
        if name in schemas:
            continue
        schemas[name] = doc["schemas"][name]
        stack: list[Any] = [schemas[name]]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if isinstance(item.get("$ref"), str):
                    pending.add(item["$ref"])
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    out["schemas"] = dict(sorted(schemas.items()))
    return out


def lexicon_refs(lexicon: dict[str, Any]) -> set[str]:
    """The NSIDs a lexicon refers to (refs and union members outside itself)."""
    found: set[str] = set()
    stack: list[Any] = [lexicon["defs"]]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "ref" and isinstance(item.get("ref"), str):
                found.add(item["ref"])
            if item.get("type") == "union":
                found.update(r for r in item.get("refs", []) if isinstance(r, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return {r.split("#")[0] for r in found if not r.startswith("#")}


def keep_lexicons(location: Path, root: str, keep: tuple[str, ...]) -> dict[str, str]:
    """{relative file: text} of the kept lexicons and every lexicon they reach."""
    files = {f for f in list_dir(location, root) if f.endswith(".json")}
    out: dict[str, str] = {}
    pending = set(keep)
    seen: set[str] = set()
    while pending:
        nsid = pending.pop()
        if nsid in seen:
            continue
        seen.add(nsid)
        rel = f"{root}/{nsid.replace('.', '/')}.json"
        if rel not in files:
            raise SystemExit(f"lexicon {nsid} is not in the source")
        text = read_text(location, rel)
        out[rel.removeprefix(f"{root}/")] = text
        pending |= lexicon_refs(json.loads(text)) - seen
    return out


# --- writing ------------------------------------------------------------------------------------


def _dump(data: Any) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def extract(source: Source, location: Path, version: str | None) -> list[str]:
    """Writes the source's subset under specs/; returns the files written (relative)."""
    rev = revision(location, version)
    stamp = {"repository": source.repository, "path": source.path, **rev,
             "licence": source.licence, "extracted_by": "tests/contracts/extract.py"}
    target = SPECS / source.out
    written: list[str] = []
    if source.kind == "lexicons":
        for old in sorted(target.rglob("*.json")) if target.exists() else []:
            old.unlink()
        for rel, text in sorted(keep_lexicons(location, source.path, source.keep).items()):
            path = target / "lexicons" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
            written.append(str(path.relative_to(SPECS)))
    elif source.kind == "files":
        target.mkdir(parents=True, exist_ok=True)
        for name in source.keep:
            (target / name).write_text(read_text(location, f"{source.path}/{name}"),
                                       encoding="utf-8")
            written.append(str((target / name).relative_to(SPECS)))
    else:
        text = read_text(location, source.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.kind == "copy":
            target.write_text(text, encoding="utf-8")
        else:
            doc = json.loads(text)
            if source.kind == "openapi":
                subset = keep_operations(doc, source.keep, ("openapi", "info", "servers"))
            elif source.kind == "swagger2":
                subset = keep_operations(doc, source.keep,
                                         ("swagger", "info", "host", "basePath", "schemes"))
            elif source.kind == "discovery":
                subset = keep_discovery(doc, source.keep)
            else:
                raise SystemExit(f"unknown kind {source.kind}")
            subset["x-echtzeit-source"] = {**stamp, "kept": [
                list(k) if isinstance(k, tuple) else k for k in source.keep]}
            target.write_text(_dump(subset), encoding="utf-8")
        written.append(str(target.relative_to(SPECS)))
    record = json.loads(SOURCES_JSON.read_text(encoding="utf-8")) if SOURCES_JSON.exists() \
        else {}
    record[source.service] = {**stamp, "files": written, "note": source.note}
    SOURCES_JSON.write_text(_dump(dict(sorted(record.items()))), encoding="utf-8")
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service", nargs="?", choices=sorted(SOURCES))
    parser.add_argument("location", nargs="?", type=Path)
    parser.add_argument("--version", help="what a directory source is (commit, version, date)")
    parser.add_argument("--list", action="store_true", help="name the sources and stop")
    args = parser.parse_args(argv)
    if args.list or not args.service:
        for s in SOURCES.values():
            print(f"{s.service:15} {s.repository}:{s.path} -> specs/{s.out}")
            for k in s.keep:
                print(f"{'':15}   {' '.join(k) if isinstance(k, tuple) else k}")
        return 0
    if args.location is None:
        parser.error("LOCATION is needed")
    for name in extract(SOURCES[args.service], args.location, args.version):
        size = (SPECS / name).stat().st_size
        print(f"specs/{name} ({size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

