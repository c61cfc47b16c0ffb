"""The `.env.example` text of the network fields that are still fields of the core Settings.

Every other setting carries its description itself (`Field(description=...)`); the network
fields move into per-network settings models with their own descriptions (issue 13 point 4),
and until then echtzeit/envfile.py takes their text from here. When a field leaves the core
Settings its entry here goes too (tests/echtzeit/test_config.py fails on an entry that names no
core field, or a field that has a description of its own).
"""

from __future__ import annotations

# The .env.example section that starts at the first network field.
SECTION = ("mastodon_base_url", "Networks (a network without credentials is off)")

HELP: dict[str, str] = {
    "mastodon_base_url": "Mastodon instance URL, e.g. https://mastodon.social",
    "mastodon_access_token": "Mastodon access token (read, write:statuses).",
    "mastodon_hashtags": "Hashtags to follow on Mastodon besides the brands' terms, "
                         "comma-separated.",
    "mastodon_streaming": "true: hashtags and @mentions arrive live over the instance's "
                          "streaming API (search is polled).",
    "bluesky_service_url": "Bluesky PDS / entryway URL.",
    "bluesky_handle": "Bluesky handle of the brand account that searches and replies.",
    "bluesky_app_password": "Bluesky app password (Settings > App passwords).",
    "bluesky_jetstream_url": "Jetstream websocket URL for the live firehose, e.g. "
                             "wss://jetstream2.us-east.bsky.network",
    "bluesky_public_api_url": "Public Bluesky AppView: follower counts and handles when no "
                              "account is configured.",
    "reddit_client_id": "Reddit script app client id.",
    "reddit_client_secret": "Reddit script app client secret.",
    "reddit_username": "Reddit account that posts replies.",
    "reddit_password": "Password of that Reddit account.",
    "reddit_user_agent": "Reddit user agent as Reddit requires: <platform>:<app id>:<version> "
                         "(by /u/<name>)",
    "reddit_subreddits": "Subreddits whose new comments are watched, comma-separated.",
    "reddit_api_url": "Reddit OAuth API base URL.",
    "reddit_auth_url": "Reddit token endpoint base URL.",
    "hackernews_enabled": "true: search Hacker News (no key needed).",
    "hackernews_api_url": "Hacker News Algolia API base URL.",
    "rss_feeds": "RSS/Atom feed URLs (Google Alerts feeds too), comma-separated.",
    "x_bearer_token": "X app-only bearer token (recent search).",
    "x_user_token": "X OAuth 2.0 user-context token of the brand account (replies); X lets it "
                    "expire after 2 hours: prefer ECHTZEIT_X_REFRESH_TOKEN.",
    "x_client_id": "X app's OAuth 2.0 Client ID (Keys and Tokens), needed to renew the user "
                   "token.",
    "x_client_secret": "X app's OAuth 2.0 Client Secret (confidential clients: web app, "
                       "automated app or bot).",
    "x_refresh_token": "X OAuth 2.0 refresh token of the brand account (scope offline.access): "
                       "replies keep working; X rotates it on every use, the current one is "
                       "kept in the database (docs/networks.md).",
    "x_api_url": "X API v2 base URL.",
    "facebook_page_id": "Facebook Page id.",
    "facebook_page_token": "Facebook Page access token (pages_read_engagement, "
                           "pages_manage_engagement).",
    "instagram_user_id": "Instagram business account id.",
    "instagram_token": "Instagram Graph API token (instagram_basic, instagram_manage_comments).",
    "graph_api_url": "Meta Graph API base URL with version.",
    "github_token": "GitHub token (public_repo to comment).",
    "github_api_url": "GitHub REST API base URL.",
    "youtube_api_key": "YouTube Data API key (reading comments).",
    "youtube_oauth_token": "YouTube OAuth token with youtube.force-ssl (replying).",
    "youtube_refresh_token": "YouTube OAuth refresh token (scope youtube.force-ssl) of the "
                             "channel owner; replaces the token above.",
    "youtube_client_id": "OAuth client id the refresh token was issued to.",
    "youtube_client_secret": "OAuth client secret of that client.",
    "youtube_token_url": "Google OAuth token endpoint.",
    "youtube_channel_id": "The brand's YouTube channel id.",
    "youtube_video_ids": "Extra YouTube video ids to watch, comma-separated.",
    "youtube_api_url": "YouTube Data API base URL.",
    "webhook_secret": "HMAC-SHA256 key of the signed webhook source; set it to turn the "
                      "webhook on.",
    "webhook_max_bytes": "Largest webhook body accepted, in bytes.",
    "webhook_host": "Address the webhook server listens on (put a TLS reverse proxy in front "
                    "of it).",
    "webhook_port": "Port of the webhook server (signed webhook at /webhook, Meta webhooks at "
                    "/meta).",
    "meta_app_secret": "Meta app secret: verifies Facebook/Instagram webhook deliveries "
                       "(X-Hub-Signature-256).",
    "meta_verify_token": "Token you type into Meta's webhook settings; Echtzeit answers the "
                         "handshake with it.",
    "poll_seconds": "Seconds between polls of the polled networks.",
    "brand_accounts": "The brands' own accounts, for the digest's follower growth: "
                      "Brand=network:handle, comma-separated.",
}
