"""What makes posts one story (bot.stories) and one person (bot.identities): pure functions."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from bot.enrich import text_hash
from bot.identities import author_keys, community_value, link_key
from bot.stories import (
    NEAR_DUPLICATE_JACCARD,
    hints,
    jaccard,
    link_targets,
    minhash_bands,
    near_duplicates,
    shingles,
    unwrap,
)

SAMPLE = Path(__file__).parents[2] / "integrations" / "networks" / "replay_data" / "sample.jsonl"


@pytest.mark.parametrize(("wrapped", "target"), [
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example%2Fp%2F1&h=AT0x",
     "https://shop.example/p/1"),
    ("https://out.reddit.com/t3_abc?url=https%3A%2F%2Fstatus.example%2Fi%2F9&token=x",
     "https://status.example/i/9"),
    ("https://youtu.be/dQw4w9WgXcQ?si=tracking", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.google.com/url?q=https://news.example/a&sa=D", "https://news.example/a"),
    ("https://www.youtube.com/redirect?q=https%3A%2F%2Facme.example%2Frecall&v=x",
     "https://acme.example/recall"),
    # Opaque shorteners stay as they are: only a network call would tell (none is made).
    ("https://t.co/AbC123", "https://t.co/AbC123"),
    ("https://acme.example/page", "https://acme.example/page"),
])
def test_unwrap_takes_the_target_from_the_wrapper_url(wrapped: str, target: str) -> None:
    assert unwrap(wrapped) == target


def test_link_targets_are_canonical_and_skip_the_posts_own_url() -> None:
    text = ("Look: https://status.example/i/9/?utm_source=x&fbclid=1, and via fb "
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fstatus.example%2Fi%2F9. "
            "Me: https://social.example/@me/1")
    assert link_targets(text, own_url="https://social.example/@me/1") == [
        "https://status.example/i/9"]


# Near-duplicates: the same complaint copied, lightly edited, with other tags or links.
NEAR = [
    ("Dear Acme Rockets, my Volt 3 has been at your Hamburg workshop for 19 days, nobody "
     "answers the phone and the app still says in repair. What is going on?",
     "Dear Acme Rockets, my Volt 3 has been at your Hamburg workshop for 20 days now, nobody "
     "answers the phone and the app still says in repair. What is going on? #ebike"),
    ("Nordlicht Bank login down again, error 503 since noon, card payments declined at two "
     "shops. Great job.",
     "RT @someone: Nordlicht Bank login down again, error 503 since noon, card payments "
     "declined at two shops. Great job. https://status.example/x"),
    ("Kaffeehaus Müller in der Schanze hat seit heute keine Hafermilch mehr, und das an einem "
     "Montag morgen, ernsthaft?",
     "Kaffeehaus Müller in der Schanze hat seit heute keine Hafermilch mehr, und das am "
     "Montag morgen, ernsthaft? @kaffeemueller"),
    ("Acme Rockets support told me to wait for the firmware update to fix the motor noise, "
     "that was three weeks ago",
     "acme rockets support told me to wait for the firmware update to fix the motor noise. "
     "that was 3 weeks ago!!"),
]
# Different posts about the same brand and the same words: never one story by text.
DIFFERENT = [
    ("Nordlicht Bank login down again, error 503 since noon, card payments declined.",
     "Nordlicht Bank login works again for me, card payments fine since noon. Thanks!"),
    ("Dear Acme Rockets, my Volt 3 has been at your Hamburg workshop for 19 days",
     "Dear Acme Rockets, thanks for fixing my Volt 3 in your Hamburg workshop in a day"),
    ("Kaffeehaus Müller hat die beste Hafermilch der Stadt, jeden Morgen ein Genuss",
     "Kaffeehaus Müller hat seit heute keine Hafermilch mehr, ernsthaft, an einem Montag?"),
]


def test_near_duplicate_threshold_precision_and_recall() -> None:
    """On the pairs above every near-duplicate is found and no different pair is; on the
    bundled sample (hundreds of different real-looking posts about three brands) no two
    different texts come near the threshold."""
    assert all(near_duplicates(a, b) for a, b in NEAR)
    assert not any(near_duplicates(a, b) for a, b in DIFFERENT)
    texts = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        texts.setdefault(text_hash(text), text)
    sets = [s for s in (shingles(t) for t in texts.values()) if s]
    scores = [jaccard(a, b) for a, b in itertools.combinations(sets, 2)]
    pairs_above = [s for s in scores if s >= NEAR_DUPLICATE_JACCARD]
    # The sample holds exactly one copied complaint (the Volt 3 workshop pair).
    assert len(pairs_above) == 1
    # The next closest pair (two posts quoting the same status page) stays well below.
    assert sorted(scores)[-2] < 0.3


def test_near_duplicates_share_a_minhash_band_and_short_texts_have_none() -> None:
    for a, b in NEAR:
        assert set(minhash_bands(shingles(a))) & set(minhash_bands(shingles(b)))
    assert minhash_bands(shingles("acme down?")) == []
    h = hints("Acme down: https://out.reddit.com/x?url=https%3A%2F%2Fs.example%2F1",
              own_url="https://reddit.com/r/x/1", refs=["t3_1", None, "t3_1"])
    assert h.links == ("https://s.example/1",)
    assert h.refs == ("t3_1",)
    assert h.keys() == ["u:https://s.example/1"]


def test_author_keys_from_verified_links_and_domain_handles() -> None:
    assert author_keys("mastodon", "@Lena@mastodon.example",
                       ["https://lena-berg.example/", "https://github.com/lena-b",
                        "https://lena-berg.example/about"]) == (
        ("own", "acct:mastodon:lena@mastodon.example"),
        ("proof", "domain:lena-berg.example"),
        ("proof", "acct:github:lena-b"),
    )
    assert author_keys("bluesky", "lena-berg.example") == (
        ("own", "acct:bluesky:lena-berg.example"), ("proof", "domain:lena-berg.example"))
    # A handle on Bluesky's own domain proves no domain of the person's.
    assert author_keys("bluesky", "lena.bsky.social") == (
        ("own", "acct:bluesky:lena.bsky.social"),)
    assert link_key("https://bsky.app/profile/lena-berg.example") == \
        "acct:bluesky:lena-berg.example"
    assert link_key("https://x.com/lenab") == "acct:x:lenab"
    assert link_key("https://fosstodon.example/@lena") == "acct:mastodon:lena@fosstodon.example"
    assert link_key("javascript:alert(1)") is None


def test_community_value_is_reach_times_engagement_times_history() -> None:
    assert community_value(followers=100, engagement=0, mentions=1) == 2.6
    assert community_value(followers=9_999, engagement=20, mentions=9) == 18.6
    assert community_value(followers=0, engagement=50, mentions=30) == 0.0
