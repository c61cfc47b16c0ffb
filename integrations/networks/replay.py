"""The replay network: a bundled (or given) JSON Lines file of posts, played back in time.

It lets Echtzeit run with no account anywhere. Its responder records replies in a local file and
answers with a URL, as a real network would. Each line holds one post:
{"network", "id", "url", "author", "author_name", "followers", "text", "lang", "created_at",
 "likes", "reposts", "replies"}, and optionally "in_reply_to" and "quotes" (ids on the same
network) and "author_proofs" (profile links the network verified, bot.identities);
or what a network later reported of one:
{"network", "id", "at", "deleted": true} or {"network", "id", "at", "edited_text"}.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostChange, PostedReply, length_problem, network_specs

log = logging.getLogger(__name__)

def reply_limits() -> dict[str, int]:
    """What each network allows in one reply (characters), from the installed list of networks
    (bot.networks); networks without one take no replies through their API (Hacker News, RSS)."""
    return {s.name: s.reply_limit for s in network_specs() if s.reply_limit is not None}


def bundled_sample() -> Path:
    return Path(str(resources.files("integrations.networks") / "replay_data" / "sample.jsonl"))


def bundled_brands() -> Path:
    return Path(str(resources.files("integrations.networks") / "replay_data" / "brands.json"))


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse_post(raw: dict[str, Any]) -> Post:
    """One replay line as a Post; raises ValueError naming the missing or bad field."""
    for key in ("network", "id", "text", "created_at"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ValueError(f"field {key!r} must be a non-empty string")
    created = datetime.fromisoformat(raw["created_at"].replace("Z", "+00:00"))
    if created.tzinfo is None:
        raise ValueError("created_at needs a time zone (e.g. a trailing Z)")
    author = str(raw.get("author") or "unknown")
    return Post(
        network=raw["network"],
        external_id=raw["id"],
        url=str(raw.get("url") or f"replay://{raw['network']}/{raw['id']}"),
        author=Author(handle=author.lstrip("@"), name=raw.get("author_name"),
                      followers=_int(raw.get("followers")),
                      proofs=tuple(str(u) for u in raw.get("author_proofs") or ()
                                   if isinstance(u, str))),
        text=raw["text"],
        created_at=created,
        lang=raw.get("lang") or None,
        likes=_int(raw.get("likes")),
        reposts=_int(raw.get("reposts")),
        replies=_int(raw.get("replies")),
        in_reply_to=str(raw["in_reply_to"]) if raw.get("in_reply_to") else None,
        quotes=str(raw["quotes"]) if raw.get("quotes") else None,
    )


def parse_change(raw: dict[str, Any]) -> PostChange:
    """One replay line that reports a deleted or edited post; raises ValueError."""
    for key in ("network", "id", "at"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ValueError(f"field {key!r} must be a non-empty string")
    at = datetime.fromisoformat(raw["at"].replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("at needs a time zone (e.g. a trailing Z)")
    if raw.get("deleted") is True:
        return PostChange(raw["network"], raw["id"], "deleted", at)
    if isinstance(raw.get("edited_text"), str) and raw["edited_text"].strip():
        return PostChange(raw["network"], raw["id"], "edited", at, raw["edited_text"])
    raise ValueError("a change needs \"deleted\": true or \"edited_text\"")


def read_items(path: Path) -> Iterator[Post | PostChange]:
    """The file's posts and changes in file order; malformed lines are logged and skipped."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                change = isinstance(raw, dict) and ("deleted" in raw or "edited_text" in raw)
                yield parse_change(raw) if change else parse_post(raw)
            except (ValueError, TypeError) as exc:
                log.warning("%s line %s skipped: %s", path.name, number, exc)


def read_posts(path: Path) -> Iterator[Post]:
    """The file's posts in file order (changes left out)."""
    return (item for item in read_items(path) if isinstance(item, Post))


def _at(item: Post | PostChange) -> datetime:
    return item.created_at if isinstance(item, Post) else item.at


class ReplaySource:
    """Plays a file back: with `speed` 0 as fast as possible (original spacing, ending now),
    else the timeline `speed` times faster than it was recorded. The cursor is the number of
    posts already handed out, so a restart continues where it stopped."""

    finite = True  # it ends when the file is played (the supervisor does not restart it)

    def __init__(
        self,
        path: Path,
        *,
        speed: float = 0.0,
        batch: int = 100,
        now: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.path = path
        self.name = f"replay:{path.name}"
        self.speed = speed
        self.batch = batch
        self.now = now
        self.sleep = sleep

    async def stream(self, cursor: str | None) -> AsyncIterator[Batch]:
        posts = sorted(read_items(self.path), key=_at)
        done = int(cursor or 0)
        if not posts or done >= len(posts):
            return
        start = self.now()
        first, last = _at(posts[0]), _at(posts[-1])
        pending: list[Post] = []
        changes: list[PostChange] = []
        for index in range(done, len(posts)):
            post = posts[index]
            if self.speed > 0:
                offset = (_at(post) - first) / self.speed
                due = start + offset - (_at(posts[done]) - first) / self.speed
                wait = (due - self.now()).total_seconds()
                if wait > 0 and (pending or changes):
                    yield Batch(posts=pending, cursor=str(index), changes=changes)
                    pending, changes = [], []
                if wait > 0:
                    await self.sleep(wait)
                created = due
            else:
                created = start - (last - _at(post))
            if isinstance(post, PostChange):
                # After the batch holding the post: a change applies to a stored mention.
                if pending:
                    yield Batch(posts=pending, cursor=str(index), changes=changes)
                    pending, changes = [], []
                changes.append(replace(post, at=created))
            else:
                pending.append(_retimed(post, created))
            if len(pending) >= self.batch:
                yield Batch(posts=pending, cursor=str(index + 1), changes=changes)
                pending, changes = [], []
        if pending or changes:
            yield Batch(posts=pending, cursor=str(len(posts)), changes=changes)


def _retimed(post: Post, created: datetime) -> Post:
    return replace(post, created_at=created)


@dataclass
class RecordingResponder:
    """The replay network's responder: writes each reply to a JSON Lines file."""

    network: str
    path: Path
    now: Callable[[], datetime] = utcnow

    def check(self, text: str) -> str | None:
        """The real network's rule, counted as it counts (bot.networks.NetworkSpec)."""
        spec = next(s for s in network_specs() if s.name == self.network)
        size = spec.reply_length(text) if spec.reply_length is not None else None
        return length_problem(self.network, text, reply_limits()[self.network], size=size)

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {"network": self.network, "in_reply_to": mention.external_id,
                "to_url": mention.url, "text": text, "at": self.now().isoformat()}
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            fh.flush()
            position = fh.tell()
        reply_id = f"demo-{position}"
        return PostedReply(id=reply_id, url=f"https://replies.echtzeit.invalid/{self.network}/"
                                            f"{reply_id}")


    async def publish(self, *, text: str, key: str) -> PostedReply:
        """bot.networks.Publisher for the demo: the post goes to the same file, never to a
        network (the key makes a repeated request write nothing twice)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            with self.path.open(encoding="utf-8") as fh:
                for line in fh:
                    if f'"key": {json.dumps(key)}' in line:
                        done = json.loads(line)
                        return PostedReply(id=done["post_id"], url=done["url"])
        post_id = f"demo-{key.rsplit('-', 1)[-1]}"
        url = f"https://posts.echtzeit.invalid/{self.network}/{post_id}"
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"network": self.network, "post": text, "key": key,
                                 "post_id": post_id, "url": url,
                                 "at": self.now().isoformat()}, ensure_ascii=False) + "\n")
        return PostedReply(id=post_id, url=url)


# The networks whose own accounts the demo pretends to post on (prepared posts).
PUBLISHING_NETWORKS = ("mastodon", "bluesky", "x", "facebook")


def recording_publishers(path: Path) -> dict[str, RecordingResponder]:
    return {network: RecordingResponder(network=network, path=path)
            for network in PUBLISHING_NETWORKS if network in reply_limits()}


def recording_responders(path: Path) -> dict[str, RecordingResponder]:
    return {network: RecordingResponder(network=network, path=path) for network in reply_limits()}

