"""The networks' settings: one model shared by all of them (`NetworkSettings`, prefix
ECHTZEIT_) and one per network plug-in (prefix ECHTZEIT_<NAME>_), built on the common base of
bot.settings (the environment and `.env`, an empty value meaning the default). Kept light
(pydantic only, no network module), so that the command line loads them (and masks their
secrets in the log) without httpx.

echtzeit/config.py loads them with every other model (`Config.networks`);
`load_network_config` builds them alone, from the environment and given values, for
`echtzeit networks` and tests. A bad value stops with one line naming the variable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from bot.settings import ENV_PREFIX, CommaList, EchtzeitSettings, load_model


def _config(name: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=f"{ENV_PREFIX}{name.upper()}_")


class NetworkSettings(EchtzeitSettings):
    """What several networks share (prefix ECHTZEIT_)."""

    poll_seconds: float = Field(
        default=60.0, ge=1, le=86_400,
        description="Seconds between polls of the polled networks.")
    brand_accounts: CommaList = Field(
        default_factory=list,
        description="The brands' own accounts, for the digest's follower growth: "
                    "Brand=network:handle, comma-separated.")
    webhook_max_bytes: int = Field(
        default=256 * 1024, ge=1024, le=16 * 1024 * 1024,
        description="Largest webhook body accepted, in bytes.")
    webhook_host: str = Field(
        default="127.0.0.1",
        description="Address the webhook server listens on (put a TLS reverse proxy in front of "
                    "it).")
    webhook_port: int = Field(
        default=8787, ge=0, le=65535,
        description="Port of the webhook server (signed webhook at /webhook, Meta webhooks at "
                    "/meta).")
    meta_app_secret: SecretStr | None = Field(
        default=None,
        description="Meta app secret: verifies Facebook/Instagram webhook deliveries "
                    "(X-Hub-Signature-256).")
    meta_verify_token: SecretStr | None = Field(
        default=None,
        description="Token you type into Meta's webhook settings; Echtzeit answers the handshake "
                    "with it.")
    graph_api_url: str = Field(
        default="https://graph.facebook.com/v21.0",
        description="Meta Graph API base URL with version.")


class WebhookSettings(EchtzeitSettings):
    model_config = _config("webhook")

    secret: SecretStr | None = Field(
        default=None,
        description="HMAC-SHA256 key of the signed webhook source; set it to turn the webhook on.")


class MastodonSettings(EchtzeitSettings):
    model_config = _config("mastodon")

    base_url: str | None = Field(
        default=None,
        description="Mastodon instance URL, e.g. https://mastodon.social")
    access_token: SecretStr | None = Field(
        default=None,
        description="Mastodon access token (read, write:statuses).")
    hashtags: CommaList = Field(
        default_factory=list,
        description="Hashtags to follow on Mastodon besides the brands' terms, comma-separated.")
    streaming: bool = Field(
        default=True,
        description="true: hashtags and @mentions arrive live over the instance's streaming API "
                    "(search is polled).")


class BlueskySettings(EchtzeitSettings):
    model_config = _config("bluesky")

    service_url: str = Field(
        default="https://bsky.social",
        description="Bluesky PDS / entryway URL.")
    handle: str | None = Field(
        default=None,
        description="Bluesky handle of the brand account that searches and replies.")
    app_password: SecretStr | None = Field(
        default=None,
        description="Bluesky app password (Settings > App passwords).")
    jetstream_url: str | None = Field(
        default=None,
        description="Jetstream websocket URL for the live firehose, e.g. "
                    "wss://jetstream2.us-east.bsky.network")
    public_api_url: str = Field(
        default="https://public.api.bsky.app",
        description="Public Bluesky AppView: follower counts and handles when no account is "
                    "configured.")


class RedditSettings(EchtzeitSettings):
    model_config = _config("reddit")

    client_id: str | None = Field(
        default=None,
        description="Reddit script app client id.")
    client_secret: SecretStr | None = Field(
        default=None,
        description="Reddit script app client secret.")
    username: str | None = Field(
        default=None,
        description="Reddit account that posts replies.")
    password: SecretStr | None = Field(
        default=None,
        description="Password of that Reddit account.")
    user_agent: str | None = Field(
        default=None,
        description="Reddit user agent as Reddit requires: <platform>:<app id>:<version> (by "
                    "/u/<name>)")
    subreddits: CommaList = Field(
        default_factory=list,
        description="Subreddits whose new comments are watched, comma-separated.")
    api_url: str = Field(
        default="https://oauth.reddit.com",
        description="Reddit OAuth API base URL.")
    auth_url: str = Field(
        default="https://www.reddit.com",
        description="Reddit token endpoint base URL.")


class HackerNewsSettings(EchtzeitSettings):
    model_config = _config("hackernews")

    enabled: bool = Field(
        default=False,
        description="true: search Hacker News (no key needed).")
    api_url: str = Field(
        default="https://hn.algolia.com/api/v1",
        description="Hacker News Algolia API base URL.")


class RssSettings(EchtzeitSettings):
    model_config = _config("rss")

    feeds: CommaList = Field(
        default_factory=list,
        description="RSS/Atom feed URLs (Google Alerts feeds too), comma-separated.")


class XSettings(EchtzeitSettings):
    model_config = _config("x")

    bearer_token: SecretStr | None = Field(
        default=None,
        description="X app-only bearer token (recent search).")
    user_token: SecretStr | None = Field(
        default=None,
        description="X OAuth 2.0 user-context token of the brand account (replies); X lets it "
                    "expire after 2 hours: prefer ECHTZEIT_X_REFRESH_TOKEN.")
    client_id: str | None = Field(
        default=None,
        description="X app's OAuth 2.0 Client ID (Keys and Tokens), needed to renew the user "
                    "token.")
    client_secret: SecretStr | None = Field(
        default=None,
        description="X app's OAuth 2.0 Client Secret (confidential clients: web app, automated app"
                    " or bot).")
    refresh_token: SecretStr | None = Field(
        default=None,
        description="X OAuth 2.0 refresh token of the brand account (scope offline.access): "
                    "replies keep working; X rotates it on every use, the current one is kept in "
                    "the database (docs/networks.md).")
    api_url: str = Field(
        default="https://api.x.com/2",
        description="X API v2 base URL.")


class GitHubSettings(EchtzeitSettings):
    model_config = _config("github")

    token: SecretStr | None = Field(
        default=None,
        description="GitHub token (public_repo to comment).")
    api_url: str = Field(
        default="https://api.github.com",
        description="GitHub REST API base URL.")


class YouTubeSettings(EchtzeitSettings):
    model_config = _config("youtube")

    api_key: SecretStr | None = Field(
        default=None,
        description="YouTube Data API key (reading comments).")
    oauth_token: SecretStr | None = Field(
        default=None,
        description="YouTube OAuth token with youtube.force-ssl (replying).")
    refresh_token: SecretStr | None = Field(
        default=None,
        description="YouTube OAuth refresh token (scope youtube.force-ssl) of the channel owner; "
                    "replaces the token above.")
    client_id: str | None = Field(
        default=None,
        description="OAuth client id the refresh token was issued to.")
    client_secret: SecretStr | None = Field(
        default=None,
        description="OAuth client secret of that client.")
    token_url: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Google OAuth token endpoint.")
    channel_id: str | None = Field(
        default=None,
        description="The brand's YouTube channel id.")
    video_ids: CommaList = Field(
        default_factory=list,
        description="Extra YouTube video ids to watch, comma-separated.")
    api_url: str = Field(
        default="https://www.googleapis.com/youtube/v3",
        description="YouTube Data API base URL.")


class FacebookSettings(EchtzeitSettings):
    model_config = _config("facebook")

    page_id: str | None = Field(
        default=None,
        description="Facebook Page id.")
    page_token: SecretStr | None = Field(
        default=None,
        description="Facebook Page access token (pages_read_engagement, pages_manage_engagement).")


class InstagramSettings(EchtzeitSettings):
    model_config = _config("instagram")

    user_id: str | None = Field(
        default=None,
        description="Instagram business account id.")
    token: SecretStr | None = Field(
        default=None,
        description="Instagram Graph API token (instagram_basic, instagram_manage_comments).")


class LemmySettings(EchtzeitSettings):
    model_config = _config("lemmy")

    base_url: str | None = Field(
        default=None,
        description="Lemmy instance URL, e.g. https://lemmy.world; set it to search that "
                    "instance.")
    username: str | None = Field(
        default=None,
        description="Lemmy account (user name or e-mail) that posts replies.")
    password: SecretStr | None = Field(
        default=None,
        description="Password of that Lemmy account (replies need a login; search works "
                    "anonymously on most instances).")
    communities: CommaList = Field(
        default_factory=list,
        description="Lemmy communities whose new posts and comments are all read, besides the "
                    "brands' terms, comma-separated (name or name@instance).")


class StackExchangeSettings(EchtzeitSettings):
    model_config = _config("stackexchange")

    sites: CommaList = Field(
        default_factory=list,
        description="Stack Exchange sites to search, comma-separated API site names (e.g. "
                    "stackoverflow,superuser,unix); set them to turn Stack Exchange on.")
    key: SecretStr | None = Field(
        default=None,
        description="Stack Apps app key (10,000 requests a day instead of 300 per IP).")
    access_token: SecretStr | None = Field(
        default=None,
        description="Access token of the brand's account with the write_access scope: "
                    "replies as comments; without it replies are link-only.")
    poll_seconds: float = Field(
        default=300.0, ge=60, le=86_400,
        description="Seconds between Stack Exchange polls (each costs 3 requests per site "
                    "plus one per term and site, against the daily quota).")
    base_url: str = Field(
        default="https://api.stackexchange.com/2.3",
        description="Stack Exchange API base URL with version.")


class ThreadsSettings(EchtzeitSettings):
    model_config = _config("threads")

    user_id: str | None = Field(
        default=None,
        description="Threads user id of the brand's profile (GET /me with its token).")
    access_token: SecretStr | None = Field(
        default=None,
        description="Threads long-lived user access token of the brand's profile (threads_basic,"
                    " threads_keyword_search, threads_manage_mentions, threads_read_replies, "
                    "threads_manage_replies, threads_content_publish); it lasts 60 days: "
                    "Echtzeit keeps it in the database and renews it (a new token here "
                    "replaces the stored one).")
    keywords: CommaList = Field(
        default_factory=list,
        description="Keywords searched on Threads besides the brands' terms, comma-separated.")
    search: bool = Field(
        default=True,
        description="true: keyword search (others' posts only once Meta approved "
                    "threads_keyword_search for the app; before, nothing comes back).")
    mentions: bool = Field(
        default=True,
        description="true: read @mentions of the profile (threads_manage_mentions).")
    replies: bool = Field(
        default=True,
        description="true: read replies under the profile's ten newest posts "
                    "(threads_read_replies).")
    search_seconds: float = Field(
        default=300.0, ge=60, le=86_400,
        description="Seconds between keyword-search rounds (one query per term, counted "
                    "against Threads' 2,200 queries a day per user).")
    search_quota: int = Field(
        default=2_200, ge=1, le=100_000,
        description="Keyword-search queries allowed in a rolling 24 hours (Threads counts them "
                    "per user across all apps: lower it when other tools search too).")
    api_url: str = Field(
        default="https://graph.threads.net/v1.0",
        description="Threads API base URL with version.")
class AppStoreSettings(EchtzeitSettings):
    model_config = _config("appstore")

    issuer_id: str | None = Field(
        default=None,
        description="Issuer ID of the App Store Connect API keys (Users and Access > "
                    "Integrations > App Store Connect API).")
    key_id: str | None = Field(
        default=None,
        description="Key ID of a team API key with the Customer Support role (reads reviews, "
                    "writes responses).")
    private_key_path: str | None = Field(
        default=None,
        description="Path of that key's private key file (AuthKey_<key id>.p8, downloadable "
                    "once).")
    private_key: SecretStr | None = Field(
        default=None,
        description="The private key itself (the .p8 file's PEM text), instead of the path, "
                    "e.g. from a secret store.")
    app_ids: CommaList = Field(
        default_factory=list,
        description="App Store ids of the apps whose reviews are read (the number in the "
                    "app's App Store link), comma-separated; set them to turn App Store "
                    "reviews on.")
    poll_seconds: float = Field(
        default=600.0, ge=60, le=86_400,
        description="Seconds between App Store review polls (one request per app and page, "
                    "against the key's hourly limit).")
    base_url: str = Field(
        default="https://api.appstoreconnect.apple.com",
        description="App Store Connect API base URL.")

    @field_validator("app_ids")
    @classmethod
    def _app_ids(cls, value: list[str]) -> list[str]:
        ids = [v.strip() for v in value if v.strip()]
        bad = [v for v in ids if not (v.isascii() and v.isdigit() and len(v) <= 20)]
        if bad:
            raise ValueError(f"App Store ids are numbers (the digits after 'id' in the app's "
                             f"App Store link), not {', '.join(repr(b) for b in bad)}")
        return ids
class EmailSettings(EchtzeitSettings):
    """An IMAP mailbox as a source, SMTP for replies (integrations/networks/email_net.py)."""

    model_config = _config("email")

    imap_host: str | None = Field(
        default=None,
        description="IMAP server of the support mailbox, e.g. imap.gmail.com; set it (with "
                    "the user and password) to read the mailbox.")
    imap_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="IMAP port (default 993 with tls, 143 with starttls or plain).")
    imap_security: Literal["tls", "starttls", "plain"] = Field(
        default="tls",
        description="tls (implicit TLS), starttls, or plain (only to a local bridge on "
                    "127.0.0.1/localhost; refused for any other host).")
    username: str | None = Field(
        default=None,
        description="Mailbox user name (usually the address) for IMAP, and for SMTP unless "
                    "ECHTZEIT_EMAIL_SMTP_USERNAME is set.")
    password: SecretStr | None = Field(
        default=None,
        description="The mailbox's app password (IMAP, and SMTP unless "
                    "ECHTZEIT_EMAIL_SMTP_PASSWORD is set); not used with "
                    "ECHTZEIT_EMAIL_AUTH=oauth2.")
    folder: str = Field(
        default="INBOX",
        description="The IMAP folder read for new mail.")
    sent_folder: str = Field(
        default="Sent",
        description="IMAP folder where sent replies are kept and looked for before a retry "
                    "sends again (empty: no such check; see docs/networks.md).")
    authserv_id: str | None = Field(
        default=None,
        description="The mailbox server's authserv-id in Authentication-Results (e.g. "
                    "mx.google.com): a mail without its dmarc=pass is marked 'sender not "
                    "verified' (unset: not checked).")
    max_bytes: int = Field(
        default=2 * 1024 * 1024, ge=16 * 1024, le=50 * 1024 * 1024,
        description="Largest mail read whole, in bytes; a larger one shows its headers and a "
                    "note.")
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for replies, e.g. smtp.gmail.com (unset: no replies).")
    smtp_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="SMTP port (default 465 with tls, 587 with starttls, 25 with plain).")
    smtp_security: Literal["tls", "starttls", "plain"] = Field(
        default="starttls",
        description="tls (implicit TLS), starttls, or plain (only to 127.0.0.1/localhost).")
    smtp_username: str | None = Field(
        default=None, description="SMTP user name, if other than ECHTZEIT_EMAIL_USERNAME.")
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password, if other than ECHTZEIT_EMAIL_PASSWORD.")
    from_address: str | None = Field(
        default=None,
        description="From address of replies, e.g. Acme Support <support@acme.example> "
                    "(default: the user name when it is an address).")
    auth: Literal["password", "oauth2"] = Field(
        default="password",
        description="How to sign in to IMAP and SMTP: password (LOGIN / AUTH PLAIN with the "
                    "password) or oauth2 (SASL XOAUTH2 with an OAuth 2.0 access token: "
                    "Microsoft 365, which refuses passwords, and Google).")
    oauth_tenant: str | None = Field(
        default=None,
        description="Microsoft 365: the directory (tenant) id or domain; with oauth2 and no "
                    "refresh token the app-only client-credentials grant is used at "
                    "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token.")
    oauth_token_url: str | None = Field(
        default=None,
        description="The token endpoint: needed with a refresh token (Google: "
                    "https://oauth2.googleapis.com/token); with a tenant only to replace "
                    "Microsoft's (another cloud).")
    oauth_client_id: str | None = Field(
        default=None, description="The OAuth app's client (application) id.")
    oauth_client_secret: SecretStr | None = Field(
        default=None, description="The OAuth app's client secret (its value, not its id).")
    oauth_refresh_token: SecretStr | None = Field(
        default=None,
        description="A refresh token granted for the mailbox (Google: scope "
                    "https://mail.google.com/): uses the refresh-token grant.")
    oauth_scope: str | None = Field(
        default=None,
        description="The scope asked for (default with a tenant: "
                    "https://outlook.office365.com/.default; with a refresh token: none, the "
                    "token's own).")

    @field_validator("imap_security", "smtp_security")
    @classmethod
    def _plain_only_to_loopback(cls, value: str, info: ValidationInfo) -> str:
        host = info.data.get("imap_host" if info.field_name == "imap_security" else "smtp_host")
        if value == "plain" and host and not _loopback(str(host)):
            raise ValueError(f"plain sends the password unencrypted: only to a local bridge "
                             f"(127.0.0.1, localhost), not to {host}; use tls or starttls")
        return value

    @field_validator("from_address")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value and "@" not in getaddresses([value])[0][1]:
            raise ValueError("not an e-mail address (e.g. Acme Support <support@acme.example>)")
        return value


def _loopback(host: str) -> bool:
    """localhost or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
class GooglePlaySettings(EchtzeitSettings):
    model_config = _config("googleplay")

    packages: CommaList = Field(
        default_factory=list,
        description="Android package names whose Google Play reviews are read and answered, "
                    "comma-separated (e.g. com.acme.app); set them and a service-account key "
                    "to turn Google Play on.")
    service_account_key: SecretStr | None = Field(
        default=None,
        description="The Google Cloud service account's JSON key itself (the account needs "
                    "'Reply to reviews' in Play Console); or use _KEY_FILE.")
    service_account_key_file: str | None = Field(
        default=None,
        description="Path of that service account's JSON key file (read at start-up).")
    translation_language: str | None = Field(
        default=None,
        description="Have Google translate reviews into this language (e.g. en, de); empty: "
                    "as written.")
    poll_seconds: float = Field(
        default=900.0, ge=60, le=86_400,
        description="Seconds between Google Play polls (reviews API: 200 list requests an "
                    "hour per app).")
    base_url: str = Field(
        default="https://androidpublisher.googleapis.com/androidpublisher/v3",
        description="Android Publisher API base URL with version.")
    token_url: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Google's OAuth 2.0 token endpoint (the key's token_uri wins if set).")


# One per plug-in, in the order of registry.PLUGINS (tests/integrations/networks/test_plugins.py).
PLUGIN_SETTINGS: tuple[type[EchtzeitSettings], ...] = (
    WebhookSettings, MastodonSettings, BlueskySettings, RedditSettings, HackerNewsSettings,
    RssSettings, XSettings, GitHubSettings, YouTubeSettings, FacebookSettings, InstagramSettings,
    LemmySettings, StackExchangeSettings, ThreadsSettings, AppStoreSettings, GooglePlaySettings,
    EmailSettings)

# (section title in .env.example, model): echtzeit/config.py appends them to its MODELS.
SECTIONS: tuple[tuple[str, type[EchtzeitSettings]], ...] = (
    ("Networks: shared (a network without credentials is off)", NetworkSettings),
    ("Signed webhook", WebhookSettings),
    ("Mastodon", MastodonSettings),
    ("Bluesky", BlueskySettings),
    ("Reddit", RedditSettings),
    ("Hacker News", HackerNewsSettings),
    ("RSS / Atom", RssSettings),
    ("X", XSettings),
    ("GitHub", GitHubSettings),
    ("YouTube", YouTubeSettings),
    ("Facebook", FacebookSettings),
    ("Instagram", InstagramSettings),
    ("Lemmy", LemmySettings),
    ("Stack Exchange", StackExchangeSettings),
    ("Threads", ThreadsSettings),
    ("App Store reviews", AppStoreSettings),
    ("Google Play", GooglePlaySettings),
    ("E-mail (IMAP and SMTP)", EmailSettings),
)

S = TypeVar("S", bound=EchtzeitSettings)


@dataclass(frozen=True)
class NetworkConfig:
    """The shared network settings and each plug-in's own."""

    shared: NetworkSettings
    plugins: Mapping[type[EchtzeitSettings], EchtzeitSettings]

    def of(self, model: type[S]) -> S:
        value = self.plugins[model]
        assert isinstance(value, model)
        return value

    def models(self) -> Iterator[EchtzeitSettings]:
        yield self.shared
        yield from self.plugins.values()


def _route(key: str) -> tuple[type[EchtzeitSettings], str]:
    if key in NetworkSettings.model_fields:
        return NetworkSettings, key
    for model in PLUGIN_SETTINGS:
        prefix = str(model.model_config.get("env_prefix", "")).removeprefix(ENV_PREFIX).lower()
        if key.startswith(prefix) and key[len(prefix):] in model.model_fields:
            return model, key[len(prefix):]
    raise TypeError(f"no network setting {ENV_PREFIX}{key.upper()}")


def load_network_config(values: Mapping[str, Any] | None = None, *,
                        env_file: str | None = ".env") -> NetworkConfig:
    """Every network model from the environment and `env_file`, with `values` (named as the
    variables without ECHTZEIT_, e.g. mastodon_base_url) taking precedence. Raises
    bot.settings.SettingsError naming the bad variable."""
    given: dict[type[EchtzeitSettings], dict[str, Any]] = {}
    for key, value in (values or {}).items():
        model, field = _route(key)
        given.setdefault(model, {})[field] = value
    models: tuple[type[EchtzeitSettings], ...] = PLUGIN_SETTINGS
    shared = load_model(NetworkSettings, _env_file=env_file, **given.get(NetworkSettings, {}))
    plugins = {m: load_model(m, _env_file=env_file, **given.get(m, {})) for m in models}
    return NetworkConfig(shared=shared, plugins=plugins)
