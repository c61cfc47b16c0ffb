"""What the core knows of each network (`bot.networks.NetworkSpec`), kept light: `echtzeit`
installs `SPECS` at start-up without importing the network modules (httpx, websockets,
aiohttp), so that `echtzeit --help` stays fast. Each network module's `PLUGIN` carries its spec
from here; tests/integrations/networks/test_plugins.py checks that they agree.

SLA targets: docs/digest.md, "SLA targets", gives their sources. Reply limits: characters in
one reply, as each network counts them (None: no replies through its API; X's count is
x_text.weighted_length, which imports no HTTP code and compiles its patterns on first use).
"""

from __future__ import annotations

from typing import Any

from bot.networks import NetworkSpec
from integrations.networks import x_text

_META_HOOK = "ECHTZEIT_META_APP_SECRET and ECHTZEIT_META_VERIFY_TOKEN"

WEBHOOK = NetworkSpec("webhook", off_reason="set ECHTZEIT_WEBHOOK_SECRET")
MASTODON = NetworkSpec(
    "mastodon", reply_limit=500, sla_minutes=60,
    off_reason="set ECHTZEIT_MASTODON_BASE_URL and ECHTZEIT_MASTODON_ACCESS_TOKEN")
BLUESKY = NetworkSpec(
    "bluesky", reply_limit=300, sla_minutes=60,
    off_reason="set ECHTZEIT_BLUESKY_HANDLE and ECHTZEIT_BLUESKY_APP_PASSWORD "
               "(search, replies) and/or ECHTZEIT_BLUESKY_JETSTREAM_URL (firehose)")
REDDIT = NetworkSpec(
    "reddit", reply_limit=10_000, sla_minutes=240,
    off_reason="set ECHTZEIT_REDDIT_CLIENT_ID and ECHTZEIT_REDDIT_CLIENT_SECRET (and "
               "ECHTZEIT_REDDIT_USERNAME/PASSWORD to reply)")
HACKERNEWS = NetworkSpec(
    "hackernews", sla_minutes=24 * 60,
    off_reason="set ECHTZEIT_HACKERNEWS_ENABLED=true (no key needed)")
RSS = NetworkSpec(
    "rss", sla_minutes=24 * 60,
    off_reason="set ECHTZEIT_RSS_FEEDS (feed URLs, e.g. Google Alerts feeds)")
X = NetworkSpec(
    "x", reply_limit=x_text.MAX_WEIGHTED_LENGTH, reply_length=x_text.weighted_length,
    sla_minutes=60,
    off_reason="set ECHTZEIT_X_BEARER_TOKEN (paid API; and to reply ECHTZEIT_X_CLIENT_ID with "
               "ECHTZEIT_X_REFRESH_TOKEN, or ECHTZEIT_X_USER_TOKEN for two hours)")
GITHUB = NetworkSpec("github", reply_limit=65_536, sla_minutes=24 * 60,
                     off_reason="set ECHTZEIT_GITHUB_TOKEN")
YOUTUBE = NetworkSpec(
    "youtube", reply_limit=10_000, sla_minutes=24 * 60,
    off_reason="set ECHTZEIT_YOUTUBE_API_KEY and ECHTZEIT_YOUTUBE_CHANNEL_ID or "
               "ECHTZEIT_YOUTUBE_VIDEO_IDS (and ECHTZEIT_YOUTUBE_REFRESH_TOKEN to reply)")
FACEBOOK = NetworkSpec(
    "facebook", reply_limit=8_000, sla_minutes=120,
    off_reason=f"set ECHTZEIT_FACEBOOK_PAGE_ID and ECHTZEIT_FACEBOOK_PAGE_TOKEN (webhooks: "
               f"{_META_HOOK})")


def utf16_length(text: str) -> int:
    """UTF-16 code units: how Lemmy counts a comment (crates/utils/src/utils/validation.rs,
    max_length_check: `item.encode_utf16().count()`, like an HTML maxlength)."""
    return len(text.encode("utf-16-le")) // 2


LEMMY = NetworkSpec(
    "lemmy", reply_limit=10_000, reply_length=utf16_length, sla_minutes=240,
    off_reason="set ECHTZEIT_LEMMY_BASE_URL (and ECHTZEIT_LEMMY_USERNAME/PASSWORD to reply)")
INSTAGRAM = NetworkSpec(
    "instagram", reply_limit=2_200, sla_minutes=120,
    off_reason=f"set ECHTZEIT_INSTAGRAM_USER_ID and ECHTZEIT_INSTAGRAM_TOKEN (@mentions need "
               f"the Meta webhook: {_META_HOOK})")

STACKEXCHANGE = NetworkSpec(
    "stackexchange", reply_limit=600, sla_minutes=24 * 60,
    off_reason="set ECHTZEIT_STACKEXCHANGE_SITES (and ECHTZEIT_STACKEXCHANGE_KEY for 10,000 "
               "requests a day; ECHTZEIT_STACKEXCHANGE_ACCESS_TOKEN with write_access to "
               "reply)")


_EMOJI: Any = None


def threads_length(text: str) -> int:
    """A Threads post's length as Threads counts it: one per character, except that "emojis
    are counted as the number of UTF-8 bytes" (the text parameter of POST /{user-id}/threads,
    Threads API reference, "Publishing"): an emoji code point, and the joiners, variation
    selectors, skin tones and tags that make up an emoji, count their UTF-8 bytes."""
    global _EMOJI
    if _EMOJI is None:
        import regex

        _EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Component}--\x00-\x7f]",
                               regex.V1)
    return sum(len(ch.encode("utf-8")) if _EMOJI.match(ch) else 1 for ch in text)


THREADS = NetworkSpec(
    "threads", reply_limit=500, reply_length=threads_length, sla_minutes=60,
    off_reason="set ECHTZEIT_THREADS_USER_ID and ECHTZEIT_THREADS_ACCESS_TOKEN (keyword "
               "search of others' posts needs threads_keyword_search approved in App Review)")
# A developer response to an App Store review: 5,970 characters (docs/networks.md, "App Store
# reviews": Apple's API reference gives `responseBody` no maxLength; the figure is App Store
# Connect's). Reviews are answered within a day (docs/digest.md, "SLA targets").
APPSTORE = NetworkSpec(
    "appstore", reply_limit=5_970, sla_minutes=24 * 60,
    off_reason="set ECHTZEIT_APPSTORE_ISSUER_ID, ECHTZEIT_APPSTORE_KEY_ID, "
               "ECHTZEIT_APPSTORE_PRIVATE_KEY_PATH (or _PRIVATE_KEY) and "
               "ECHTZEIT_APPSTORE_APP_IDS (an App Store Connect API key)")
# E-mail customers expect an answer within a working day (docs/digest.md, "SLA targets").
# No length limit in the protocol; a reply longer than this is a letter, not care.
EMAIL = NetworkSpec(
    "email", reply_limit=50_000, sla_minutes=24 * 60, private=True,
    off_reason="set ECHTZEIT_EMAIL_IMAP_HOST, ECHTZEIT_EMAIL_USERNAME and "
               "ECHTZEIT_EMAIL_PASSWORD or ECHTZEIT_EMAIL_AUTH=oauth2 (and "
               "ECHTZEIT_EMAIL_SMTP_HOST to reply)")
# Android Publisher API, reviews.reply: "Replies of more than approximately 350 characters will
# be rejected"; counted here in code points (docs/networks.md, "Google Play").
GOOGLEPLAY = NetworkSpec(
    "googleplay", reply_limit=350, sla_minutes=24 * 60,
    off_reason="set ECHTZEIT_GOOGLEPLAY_PACKAGES and ECHTZEIT_GOOGLEPLAY_SERVICE_ACCOUNT_KEY "
               "(or _KEY_FILE)")

# The networks with a plug-in, in the order `echtzeit networks` lists them.
PLUGIN_SPECS: tuple[NetworkSpec, ...] = (
    WEBHOOK, MASTODON, BLUESKY, REDDIT, HACKERNEWS, RSS, X, GITHUB, YOUTUBE, FACEBOOK,
    INSTAGRAM, LEMMY, STACKEXCHANGE, THREADS, APPSTORE, GOOGLEPLAY, EMAIL)

# Networks only the signed webhook carries (a relay of Trustpilot or Google reviews): they have
# an SLA target and may be named in a brands file, not in a query.
CARRIED: tuple[NetworkSpec, ...] = (
    NetworkSpec("trustpilot", sla_minutes=24 * 60, queryable=False),
    NetworkSpec("google", sla_minutes=24 * 60, queryable=False),
)

SPECS: tuple[NetworkSpec, ...] = (*PLUGIN_SPECS, *CARRIED)
