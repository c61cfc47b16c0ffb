"""Deleted and edited posts (issue 17, item 5) from the streams that report them, through the
real runner into the store: Mastodon's streaming `delete` and `status.update` events, and
Jetstream's `update` and `delete` commits of app.bsky.feed.post. The card is marked, its SLA
clock stops (the SLA queries skip it), and a reply to it is refused; each change is an event."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from websockets.asyncio.server import ServerConnection, serve

from bot.cards import card_for
from bot.networks import Source
from bot.pipeline import Pipeline
from bot.reporting.sla.queries import SlaQueries
from bot.runner import pump
from bot.store import Store
from integrations.networks import bluesky_common, bluesky_jetstream
from integrations.networks.terms import fixed_terms
from tests.integrations.networks import test_bluesky_net, test_mastodon_net
from tests.integrations.networks.conftest import NoSleep, console_reply, stored


async def until(wake: asyncio.Event, check: Callable[[], bool], seconds: float = 10) -> None:
    """Wait for the runner's wake-ups until `check()` holds."""

    async def wait() -> None:
        while not check():
            await wake.wait()
            wake.clear()

    await asyncio.wait_for(wait(), seconds)


def running(source: Source, pipeline: Pipeline) -> tuple[asyncio.Task[None], asyncio.Event]:
    wake = asyncio.Event()
    return asyncio.create_task(pump(source, pipeline, wake=wake)), wake


def open_ids(store: Store) -> set[int]:
    brand_ids = [b.id or 0 for b in store.brands()]
    return {r[0] for r in SlaQueries(store).open_unanswered(
        brand_ids, since=store.now() - timedelta(days=30))}


async def test_mastodon_stream_edit_and_delete(pipeline: Pipeline, sqlite_store: Store) -> None:
    fake = test_mastodon_net.FakeMastodon()
    streaming = test_mastodon_net.FakeStreaming()
    async with (httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client,
                serve(streaming.handler, "127.0.0.1", 0) as server):
        port = server.sockets[0].getsockname()[1]
        fake.instance["configuration"]["urls"]["streaming"] = f"ws://127.0.0.1:{port}"
        (_, stream), responder = test_mastodon_net.build(client, streaming=True)
        task, wake = running(stream, pipeline)
        try:
            await until(wake, lambda: any(v.mention.external_id == "113500000000000101"
                                    for v in stored(sqlite_store)))
            [view] = [v for v in stored(sqlite_store)
                      if v.mention.external_id == "113500000000000101"]
            mid = view.mention.id
            assert mid in open_ids(sqlite_store)
            edited = copy.deepcopy(fake.statuses["113500000000000101"])
            edited["content"] = "<p>acme: sorted now, thanks</p>"
            edited["edited_at"] = "2026-11-20T09:10:00.000Z"
            streaming.outbox.put_nowait(json.dumps({
                "stream": ["hashtag", "acme"], "event": "status.update",
                "payload": json.dumps(edited)}))
            await until(wake, lambda: sqlite_store.view(mid).mention.edited_at is not None)
            card = card_for(sqlite_store.view(mid))
            assert card.text == "acme: sorted now, thanks"
            assert card.edited and card.marks == "edited"
            streaming.outbox.put_nowait(json.dumps({
                "stream": ["hashtag", "acme"], "event": "delete",
                "payload": "113500000000000101"}))
            await until(wake, lambda: sqlite_store.view(mid).mention.deleted_at is not None)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        card = card_for(sqlite_store.view(mid), reply_networks={"mastodon"})
        assert card.deleted and card.sla_due_at is None and "reply" not in card.actions
        assert mid not in open_ids(sqlite_store)  # the SLA clock stopped
        kinds = [e.kind for e in sqlite_store.events(mention_id=mid)]
        assert kinds[-2:] == ["post_edited", "post_deleted"]
        # The relay updates the card in place.
        assert all(d.needs_update for d in _deliveries(sqlite_store, mid))
        posted = len(fake.posted)
        result = await console_reply(sqlite_store, {"mastodon": responder}, mid, "hi")
        assert not result.ok and "was deleted on mastodon" in result.text
        assert len(fake.posted) == posted


def _deliveries(store: Store, mid: int | None) -> list[Any]:
    from sqlmodel import select

    from bot.models import Delivery

    with store.session() as s:
        return list(s.exec(select(Delivery).where(Delivery.mention_id == mid)))


async def test_mastodon_reply_finds_a_polled_post_deleted(
        pipeline: Pipeline, sqlite_store: Store) -> None:
    """A polled post: the look-up before the reply (GET /api/v1/statuses/:id) answers 404."""
    fake = test_mastodon_net.FakeMastodon()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        _, responder = test_mastodon_net.build(client)
        from tests.integrations.networks.conftest import stored_mention

        mid = stored_mention(sqlite_store, "mastodon", "113500000000000999")
        result = await console_reply(sqlite_store, {"mastodon": responder}, mid, "hello")
        assert not result.ok and "deleted on mastodon" in result.text
        assert fake.posted == []
        assert sqlite_store.view(mid).mention.deleted_at is not None
        again = await console_reply(sqlite_store, {"mastodon": responder}, mid, "hello")
        assert "nothing to answer any more" in again.text


async def test_jetstream_update_and_delete(pipeline: Pipeline, sqlite_store: Store) -> None:
    lines = [json.loads(line) for line in
             (test_bluesky_net.FIXTURES / "bluesky" / "jetstream_events.jsonl")
             .read_text().splitlines()]
    created = next(e for e in lines if e.get("commit", {}).get("rkey") == "3lbxb2d3dkc2b")
    update = copy.deepcopy(created)
    update["time_us"] += 10_000_000
    update["commit"].update(operation="update", rev="3lbxb2zzzzz2b")
    update["commit"]["record"]["text"] = "ACME App geht wieder, danke!"
    delete = {"did": created["did"], "time_us": update["time_us"] + 1, "kind": "commit",
              "commit": {"rev": "3lbxb3aaaaa2b", "operation": "delete",
                         "collection": "app.bsky.feed.post", "rkey": "3lbxb2d3dkc2b"}}
    release = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        await ws.send(json.dumps(created))
        await release.wait()
        await ws.send(json.dumps(update))
        await ws.send(json.dumps(delete))
        await ws.wait_closed()

    fake = test_bluesky_net.FakePDS()
    async with (httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client,
                serve(handler, "127.0.0.1", 0) as server):
        port = server.sockets[0].getsockname()[1]
        session, _, _ = test_bluesky_net.parts(client)
        source = bluesky_jetstream.JetstreamSource(
            f"ws://127.0.0.1:{port}", bluesky_common.Profiles(session.get), fixed_terms("acme"),
            flush=0.0, sleep=NoSleep())
        task, wake = running(source, pipeline)
        try:
            await until(wake, lambda: len(stored(sqlite_store)) == 1)
            mid = stored(sqlite_store)[0].mention.id
            release.set()
            await until(wake, lambda: sqlite_store.view(mid).mention.deleted_at is not None)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    view = sqlite_store.view(mid)
    assert view.mention.text == "ACME App geht wieder, danke!"
    assert [e.kind for e in sqlite_store.events(mention_id=mid)][-2:] == [
        "post_edited", "post_deleted"]
    assert mid not in open_ids(sqlite_store)


async def test_reddit_reply_finds_a_post_removed_or_a_comment_deleted(
        pipeline: Pipeline, sqlite_store: Store) -> None:
    """Polled Reddit: the reply looks the thing up first (GET /api/info) and finds it removed
    by the moderators or deleted by its author."""
    from tests.integrations.networks import test_reddit_net
    from tests.integrations.networks.conftest import stored_mention

    fake = test_reddit_net.FakeReddit()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        _, responder, _, _ = test_reddit_net.build(client)
        post = stored_mention(sqlite_store, "reddit", "t3_1gvk9qa")
        comment = stored_mention(sqlite_store, "reddit", "t1_lz9a3xq")
        fake.gone.update({"t3_1gvk9qa": "removed", "t1_lz9a3xq": "deleted"})
        removed = await console_reply(sqlite_store, {"reddit": responder}, post, "Hi")
        assert "deleted on reddit (removed by the moderators)" in removed.text
        deleted = await console_reply(sqlite_store, {"reddit": responder}, comment, "Hi")
        assert "deleted on reddit (deleted by its author)" in deleted.text
        assert fake.comment_posts == []
        assert sqlite_store.view(post).mention.deleted_at is not None
        # One that stands is answered (one look-up, then the comment).
        fake.gone.clear()
        other = stored_mention(sqlite_store, "reddit", "t3_1gvk4mf")
        assert (await console_reply(sqlite_store, {"reddit": responder}, other, "Hi")).ok
        assert [r.url.path for r in fake.requests][-2:] == ["/api/info", "/api/comment"]
