"""What the networks give for stories and people: Mastodon profile fields the instance verified
(rel=me) become proofs for bot.identities; a Bluesky quote names the post it quotes."""

from __future__ import annotations

from bot.identities import author_keys
from integrations.networks.mastodon_statuses import verified_links


def test_only_verified_fields_count_and_their_href_is_taken() -> None:
    # The Account entity's `fields` as the API gives them (docs.joinmastodon.org/entities/Account).
    account = {
        "acct": "lena@mastodon.example",
        "fields": [
            {"name": "Website",
             "value": '<a href="https://lena-berg.example" target="_blank" rel="nofollow noopener '
                      'noreferrer me" translate="no"><span class="invisible">https://</span>'
                      '<span class="">lena-berg.example</span><span class="invisible"></span></a>',
             "verified_at": "2026-10-01T08:00:00.000+00:00"},
            {"name": "GitHub", "value": "https://github.com/lena-b",
             "verified_at": "2026-10-01T08:00:00.000+00:00"},
            {"name": "Bluesky", "value": "https://bsky.app/profile/someone-else.example",
             "verified_at": None},
            {"name": "Pronouns", "value": "she/her", "verified_at": None},
            {"name": "Odd", "value": "javascript:alert(1)", "verified_at": "2026-10-01"},
        ],
    }
    links = verified_links(account)
    assert links == ("https://lena-berg.example", "https://github.com/lena-b")
    assert author_keys("mastodon", "lena@mastodon.example", links)[1:] == (
        ("proof", "domain:lena-berg.example"), ("proof", "acct:github:lena-b"))
    assert verified_links({"fields": None}) == ()
    assert verified_links({"fields": 1e308}) == ()  # hostile payloads: ignored, not a crash
    assert verified_links({"fields": [{"verified_at": "x", "value": 7}, "odd"]}) == ()


def test_a_bluesky_quote_names_the_quoted_post() -> None:
    from integrations.networks.bluesky_common import quoted_uri

    quoted = "at://did:plc:abc/app.bsky.feed.post/3k2"
    # app.bsky.embed.record and app.bsky.embed.recordWithMedia (lexicons app.bsky.embed.*).
    assert quoted_uri({"text": "this", "embed": {
        "$type": "app.bsky.embed.record", "record": {"uri": quoted, "cid": "bafy"}}}) == quoted
    assert quoted_uri({"text": "this", "embed": {
        "$type": "app.bsky.embed.recordWithMedia",
        "record": {"$type": "app.bsky.embed.record", "record": {"uri": quoted, "cid": "b"}},
        "media": {"$type": "app.bsky.embed.images", "images": []}}}) == quoted
    assert quoted_uri({"text": "no quote", "embed": {"$type": "app.bsky.embed.images"}}) is None
    assert quoted_uri({"text": "plain"}) is None


def test_an_x_quote_names_the_quoted_post() -> None:
    from integrations.networks.x_net import tweet_to_post

    users = {"2244994945": {"id": "2244994945", "username": "paula", "name": "Paula",
                            "public_metrics": {"followers_count": 10}}}
    tweet = {"id": "1991234567800000009", "text": "this!", "author_id": "2244994945",
             "created_at": "2026-11-20T15:02:00.000Z",
             "referenced_tweets": [{"type": "quoted", "id": "1991234567800000001"}]}
    assert tweet_to_post(tweet, users).quotes == "1991234567800000001"
    tweet["referenced_tweets"] = [{"type": "replied_to", "id": "1991234567800000002"}]
    post = tweet_to_post(tweet, users)
    assert (post.quotes, post.in_reply_to) == (None, "1991234567800000002")
