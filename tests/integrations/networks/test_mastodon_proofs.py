"""Mastodon profile fields the instance verified (rel=me) become proofs for bot.identities."""

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
