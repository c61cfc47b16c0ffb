"""The store's tables, in one module (SQLModel on SQLAlchemy 2).

Every metric is computed from these rows, mostly from the append-only `Event` log. Times are aware
datetimes in UTC; `UTCDateTime` makes SQLite (which keeps no zone) give them back aware.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """Straight to an aware UTC datetime, instead of the DATETIME type's processing and
        then `process_result_value` through the decorator's layers (reports read thousands of
        timestamps per digest): on SQLite the stored text in one C call and one replace, on
        PostgreSQL the value as psycopg gives it."""
        if dialect.name != "sqlite":
            # PostgreSQL: the engine sets the session's TimeZone to UTC (bot.db.make_engine),
            # so psycopg hands out datetimes in `timezone.utc` already: returned as they are.
            def aware(value: datetime | None) -> datetime | None:
                if value is None or value.tzinfo is UTC:
                    return value
                return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

            return aware
        parse = datetime.fromisoformat

        def process(value: str | datetime | None) -> datetime | None:
            if value is None:
                return None
            d = parse(value) if isinstance(value, str) else value
            return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)

        return process


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index)
    )


def _text(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Text(), nullable=nullable))


class Brand(SQLModel, table=True):
    __tablename__ = "brand"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    query: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    # Replies need a second person (migration 0010_approvals): "required" or "none"; when
    # required, only for these networks (comma-separated; empty: every network) and only for
    # mentions at or above `approval_min_priority` (empty: every priority).
    approval: str = Field(default="none", max_length=16)
    approval_networks: str = Field(default="", max_length=500)
    approval_min_priority: str = Field(default="", max_length=16)
    # How the brand sounds, for AI-drafted replies (commands/drafts.py); empty: no guide.
    voice: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))


class Route(SQLModel, table=True):
    """Which chat channel gets which of a brand's mentions."""

    __tablename__ = "route"
    __table_args__ = (sa.UniqueConstraint("brand_id", "platform", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", index=True)
    platform: str = Field(max_length=32)
    channel: str = Field(max_length=200)
    # Comma-separated networks; empty means every network.
    networks: str = Field(default="", max_length=500)
    # Only mentions at or above this priority (low < normal < high < urgent).
    min_priority: str = Field(default="low", max_length=16)
    # Quiet hours (bot.quiet: "22:00-07:00" or "mon-fri 20:00-08:00; sat-sun 00:00-00:00") in
    # `quiet_timezone`: only urgent cards are posted, the rest are held for one catch-up notice
    # at their end (migration 0013_quiet). None: never quiet.
    quiet_hours: str | None = Field(default=None, max_length=300)
    quiet_timezone: str | None = Field(default=None, max_length=64)
    # Only mentions at least this relevant to the brand (0..1); the others are stored, not
    # carded, and counted as noise (0008_triage).
    min_relevance: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})


class Revision(SQLModel, table=True):
    """Counters that running processes poll to notice changes (e.g. brand queries)."""

    __tablename__ = "revision"

    name: str = Field(primary_key=True, max_length=64)
    value: int = 0


class Author(SQLModel, table=True):
    """A person on one network: the start of a per-customer history."""

    __tablename__ = "author"
    __table_args__ = (sa.UniqueConstraint("network", "handle_key"),)

    id: int | None = Field(default=None, primary_key=True)
    network: str = Field(max_length=32)
    handle: str = Field(max_length=300)
    handle_key: str = Field(max_length=300)  # case-folded handle without a leading @
    name: str | None = Field(default=None, max_length=300)
    followers: int | None = None
    first_seen: datetime = _ts()
    mentions_count: int = 0
    answered_count: int = 0
    muted: bool = False
    # The person behind this account across networks (0012_stories); None: not linked.
    identity_id: int | None = Field(default=None, foreign_key="identity.id", index=True)


class Identity(SQLModel, table=True):
    """One person behind authors on several networks (0012_stories). `manual`: made or changed
    by staff (`link`/`unlink`); automatic linking never moves an author into or out of it."""

    __tablename__ = "identity"

    id: int | None = Field(default=None, primary_key=True)
    manual: bool = False
    created_at: datetime = _ts()
    created_by: str = Field(max_length=200)


class AuthorKey(SQLModel, table=True):
    """What an author is known by or proved to control (0012_stories): its own account
    ("acct:bluesky:jane.example"), a domain its handle lives on, or a verified link from its
    profile. Two authors sharing a key are one person (bot.identities)."""

    __tablename__ = "author_key"
    __table_args__ = (sa.UniqueConstraint("author_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="author.id", index=True)
    key: str = Field(max_length=400, index=True)
    # own: the account itself; proof: a link the network verified (rel=me, a domain handle)
    kind: str = Field(max_length=16)


class Story(SQLModel, table=True):
    """Posts of one brand about one thing: a shared link, quotes and reposts of each other,
    near-duplicate texts (0012_stories, bot.stories)."""

    __tablename__ = "story"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", index=True)
    created_at: datetime = _ts()
    last_at: datetime = _ts()
    # Why the first two joined: link | reference | text
    reason: str = Field(max_length=16)


class StoryKey(SQLModel, table=True):
    """A key a mention can be found by for clustering (a link target, a SimHash band), kept
    for the stories' window (0012_stories)."""

    __tablename__ = "story_key"
    __table_args__ = (sa.Index("ix_story_key_brand_key_at", "brand_id", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    key: str = Field(max_length=400)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    at: datetime = _ts()


class Mention(SQLModel, table=True):
    __tablename__ = "mention"
    __table_args__ = (
        sa.UniqueConstraint("brand_id", "network", "external_id"),
        sa.Index("ix_mention_brand_texthash", "brand_id", "text_hash"),
        # Covering for the digest's window scans (rows, arrivals, top authors): every column
        # they read after (brand_id, created_at), so that no row is looked up in the table
        # (0007_digest_cover; it replaced the (brand_id, created_at) index of 0001).
        sa.Index("ix_mention_brand_created_cover", "brand_id", "created_at", "muted", "network",
                 "status", "sentiment", "likes", "reposts", "author_id", "id"),
        # The digest's rating trend reads only rated mentions (app-store reviews), a few among
        # many: a partial index holds just them, with every column it reads (0015_rated).
        sa.Index("ix_mention_rated", "brand_id", "created_at", "muted", "network", "app",
                 "rating", sqlite_where=sa.text("rating IS NOT NULL"),
                 postgresql_where=sa.text("rating IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    network: str = Field(max_length=32)
    external_id: str = Field(max_length=500)
    url: str = _text()
    canonical_url: str = Field(max_length=1000, index=True)
    author_id: int = Field(foreign_key="author.id", index=True)
    text: str = _text()
    text_hash: str = Field(max_length=64)
    language: str | None = Field(default=None, max_length=8)
    sentiment: str = Field(default="neutral", max_length=16)
    sentiment_score: float = 0.0
    priority: str = Field(default="normal", max_length=16)
    # bot.triage: how much it calls for an answer, how surely it is about the brand (0..1;
    # None for mentions stored before 0008_triage).
    needs_reply: float | None = None
    relevance: float | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    in_reply_to: str | None = Field(default=None, max_length=500)
    echoes: int = 0  # reposts of the same text that were folded into this mention
    created_at: datetime = _ts()  # on the network
    seen_at: datetime = _ts(index=True)  # by us
    status: str = Field(default="new", max_length=16, index=True)
    assignee: str | None = Field(default=None, max_length=200)
    muted: bool = False  # stored but not relayed: its author is muted
    # The story it belongs to (0012_stories); None: alone so far.
    story_id: int | None = Field(default=None, foreign_key="story.id", index=True)
    # The network said the post was deleted (its SLA clock stops, replies are refused) or
    # edited (the text above is the new one); migration 0011_publish.
    deleted_at: datetime | None = _ts(nullable=True)
    edited_at: datetime | None = _ts(nullable=True)
    # Who corrected the sentiment (`sentiment <id> negative|neutral|positive`; 0009_feedback);
    # None: the model's own label.
    sentiment_by: str | None = Field(default=None, max_length=200)
    # App-store reviews (0014_rating): the stars given (1..5) and the app reviewed (a package
    # name, an App Store id); None for every other network.
    rating: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger(),
                                                                 nullable=True))
    app: str | None = Field(default=None, max_length=200)


class Delivery(SQLModel, table=True):
    """The outbox: one mention to one chat channel."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint("mention_id", "platform", "channel"),
        sa.Index("ix_delivery_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id")
    platform: str = Field(max_length=32)
    channel: str = Field(max_length=200)
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    lease_until: datetime | None = _ts(nullable=True)
    last_error: str | None = _text(nullable=True)
    message_ref: str | None = Field(default=None, max_length=300)
    needs_update: bool = Field(default=False, index=True)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    # Set when a worker may have handed the card to the chat and not yet recorded the answer
    # (a crash, a timeout): the next attempt asks the chat first (migration 0004_faults).
    sending_at: datetime | None = _ts(nullable=True)
    # The catch-up notice that lists this card instead of posting it (state caught_up).
    catch_up_id: int | None = Field(default=None, foreign_key="catch_up.id", index=True)


class CatchUp(SQLModel, table=True):
    """One notice that lists a channel's held cards (the end of its quiet hours) or a backlog
    (many cards due at once after an outage) instead of posting them one by one (0013_quiet).

    Written with its text, in the same transaction that marks its deliveries `caught_up`,
    BEFORE it is sent; the relay sends it once (again only after a refusal that certainly did
    not post it: a rate limit)."""

    __tablename__ = "catch_up"
    __table_args__ = (sa.Index("ix_catch_up_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    channel: str = Field(max_length=200)
    reason: str = Field(max_length=16)  # quiet | backlog
    count: int
    text: str = _text()
    lines: str = _text()  # JSON list of the notice's detail lines
    state: str = Field(default="pending", max_length=16)  # pending -> sent | failed
    attempts: int = 0
    created_at: datetime = _ts()
    next_attempt_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    message_ref: str | None = Field(default=None, max_length=300)
    error: str | None = _text(nullable=True)


class StatusBoard(SQLModel, table=True):
    """A channel's pinned queue status (bot.reporting.queue, the channel's view): asked for by
    `queue pin`, posted, pinned and then edited in place by the chat adapter that keeps boards
    (Discord), dropped by `queue unpin` (migration 0013_quiet)."""

    __tablename__ = "status_board"

    platform: str = Field(primary_key=True, max_length=32)
    channel: str = Field(primary_key=True, max_length=200)
    state: str = Field(default="wanted", max_length=16)  # wanted -> posted; removing
    message_ref: str | None = Field(default=None, max_length=300)
    pinned: bool = False
    marker: int = -1  # the store's newest event id the message shows
    requested_by: str = Field(max_length=200)
    updated_at: datetime = _ts()
    error: str | None = _text(nullable=True)


class Reply(SQLModel, table=True):
    """An answer to a mention; recorded before it is sent, never sent twice."""

    __tablename__ = "reply"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    text: str = _text()
    by: str = Field(max_length=200)
    state: str = Field(default="pending", max_length=16)
    network_reply_id: str | None = Field(default=None, max_length=500)
    url: str | None = _text(nullable=True)
    error: str | None = _text(nullable=True)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)


class Draft(SQLModel, table=True):
    """A reply that is not sent yet (migration 0010_approvals): one awaiting a second person's
    approval, or one an AI endpoint suggested and nobody has taken up. At most one open draft
    (suggested or awaiting) per mention; an approval turns it into a `Reply` (recorded before it
    is sent) in the same transaction."""

    __tablename__ = "draft"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    text: str = _text()
    # suggested (AI, nobody took it yet) | awaiting (approval) | approved | rejected | dropped
    state: str = Field(default="awaiting", max_length=16)
    origin: str = Field(default="person", max_length=16)  # person | ai
    # Who wrote it (their name as cards show it) and, to tell them of a rejection, their
    # platform and user id there.
    by: str = Field(max_length=200)
    by_platform: str = Field(default="", max_length=32)
    by_user: str = Field(default="", max_length=200)
    # The last person who changed the text (None: unchanged since `by` wrote it), by name and
    # as "<platform>:<user id>" (who may not approve it).
    edited_by: str | None = Field(default=None, max_length=200)
    edited_by_user: str | None = Field(default=None, max_length=240)
    decided_by: str | None = Field(default=None, max_length=200)
    reason: str | None = _text(nullable=True)  # why it was rejected
    reply_id: int | None = Field(default=None, foreign_key="reply.id")
    created_at: datetime = _ts()  # when it started to wait (awaiting) or was suggested
    decided_at: datetime | None = _ts(nullable=True)


class Template(SQLModel, table=True):
    __tablename__ = "template"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    text: str = _text()
    created_by: str = Field(max_length=200)
    created_at: datetime = _ts()


class Event(SQLModel, table=True):
    """Append-only log of everything that happened; every metric is computed from it."""

    __tablename__ = "event"
    __table_args__ = (sa.Index("ix_event_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    mention_id: int | None = Field(default=None, foreign_key="mention.id", index=True)
    brand_id: int | None = Field(default=None, foreign_key="brand.id")
    actor: str = Field(max_length=200)
    at: datetime = _ts()
    detail: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))


class SourceCursor(SQLModel, table=True):
    """Where a source left off, so that a restart neither skips nor repeats."""

    __tablename__ = "source_cursor"

    source: str = Field(primary_key=True, max_length=200)
    cursor: str = _text()
    updated_at: datetime = _ts()



class SeenEvent(SQLModel, table=True):
    """An inbound chat event already taken (Slack's `event_id`; migration 0005_seen_events).
    Slack delivers an event again when it did not hear the answer in time, and the retry may
    reach another replica: the row, not a process's memory, makes the second one lose."""

    __tablename__ = "seen_event"

    key: str = Field(primary_key=True, max_length=200)
    seen_at: datetime = _ts(index=True)


class Credential(SQLModel, table=True):
    """A credential the bot renews itself (migration 0006_credentials): an OAuth refresh token
    that the network rotates on every use (X), with the access token it last bought; or a
    long-lived token that is refreshed before it runs out (Threads: `secret` is the token,
    `expires_at` its end, `updated_at` when it was stored).

    The row, not a process, holds the one refresh token that still works: every replica reads
    it, and one at a time renews it under a short lease (`lease_holder` until `lease_until`).
    `origin` is the SHA-256 of the configured token the chain started from, so a new
    authorization in the settings replaces the chain while the old, spent seed does not."""

    __tablename__ = "credential"

    name: str = Field(primary_key=True, max_length=100)
    secret: str = _text()
    access: str | None = _text(nullable=True)
    expires_at: datetime | None = _ts(nullable=True)
    origin: str = Field(max_length=64)
    lease_holder: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = _ts(nullable=True)
    updated_at: datetime = _ts()


# --- Learning from the team (migration 0009_feedback) ----------------------------------------


class Feedback(SQLModel, table=True):
    """A labelled example from the team: a button or command ("not about us", "no reply
    needed", a sentiment correction) or what staff did anyway (replied, ignored, resolved).
    One row per mention and target; an explicit label replaces an implicit one, never the
    other way round (bot/triage/feedback.py)."""

    __tablename__ = "feedback"
    __table_args__ = (
        sa.UniqueConstraint("mention_id", "target"),
        sa.Index("ix_feedback_brand_target_at", "brand_id", "target", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    mention_id: int = Field(foreign_key="mention.id")
    target: str = Field(max_length=16)  # relevance | needs_reply | sentiment
    label: str = Field(max_length=16)  # "1"/"0" for relevance and needs_reply; a sentiment
    source: str = Field(max_length=16)  # notus | noreply | sentiment | replied | ignored | ...
    explicit: bool = False  # said by a person (a button or command), not inferred
    # The base model's score when the label was given (relevance, needs_reply): what the
    # team model learnt to correct; None: unknown (0.5 assumed).
    base: float | None = None
    actor: str = Field(max_length=200)
    at: datetime = _ts()


class TeamModel(SQLModel, table=True):
    """A brand's learnt correction of one score (relevance or needs_reply): sparse logistic
    weights on hashed tokens, added in logit space to the base score (bot/triage/learn.py).
    Updated in the transaction that records the feedback, so every replica reads the same
    weights; `version` counts the updates, so readers reload only what changed."""

    __tablename__ = "team_model"

    brand_id: int = Field(foreign_key="brand.id", primary_key=True)
    target: str = Field(primary_key=True, max_length=16)
    version: int = 0
    examples: int = 0
    weights: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    updated_at: datetime = _ts()


# --- Digest, SLA clocks, spike alerts (migration 0002_digest) --------------------------------


class ChannelSetting(SQLModel, table=True):
    """A chat channel's own digest time, time zone and business hours; absent: the defaults."""

    __tablename__ = "channel_setting"

    platform: str = Field(primary_key=True, max_length=32)
    channel: str = Field(primary_key=True, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    digest_hour: int | None = None
    # e.g. "mon-fri 09:00-18:00"; None: calendar hours (see bot.reporting.sla.hours.BusinessHours)
    business_hours: str | None = Field(default=None, max_length=300)
    digest_enabled: bool = True
    updated_at: datetime = _ts()


class DigestRun(SQLModel, table=True):
    """One channel's digest of one local day. The row is inserted BEFORE the digest is sent; the
    unique constraint makes a second runner (a retry, a restart, another process) lose."""

    __tablename__ = "digest_run"
    __table_args__ = (sa.UniqueConstraint("platform", "channel", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    channel: str = Field(max_length=200)
    day: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))
    state: str = Field(default="sending", max_length=16)  # sending -> sent | failed
    attempts: int = 1
    started_at: datetime = _ts()
    posted_at: datetime | None = _ts(nullable=True)
    message_ref: str | None = Field(default=None, max_length=300)
    error: str | None = _text(nullable=True)


class SlaTarget(SQLModel, table=True):
    """A brand's own first-response target on one network (overrides bot.reporting.sla defaults)."""

    __tablename__ = "sla_target"
    __table_args__ = (sa.UniqueConstraint("brand_id", "network"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    network: str = Field(max_length=32)
    minutes: int
    set_by: str = Field(max_length=200)
    updated_at: datetime = _ts()


class SpikeAlert(SQLModel, table=True):
    """A spike alert for one brand in one channel; inserted before it is sent (once)."""

    __tablename__ = "spike_alert"
    __table_args__ = (
        sa.UniqueConstraint("brand_id", "platform", "channel", "window_end"),
        sa.Index("ix_spike_alert_brand_detected", "brand_id", "detected_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    platform: str = Field(max_length=32)
    channel: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # volume | negative | both
    window_start: datetime = _ts()
    window_end: datetime = _ts()
    count: int
    negative: int
    expected: float
    threshold: float
    negative_share: float
    negative_threshold: float
    detected_at: datetime = _ts()
    state: str = Field(default="sending", max_length=16)  # sending -> sent | failed | retry
    message_ref: str | None = Field(default=None, max_length=300)
    error: str | None = _text(nullable=True)


class BrandAccountFollowers(SQLModel, table=True):
    """Follower count of one of the brand's own accounts on one day (filled by the networks)."""

    __tablename__ = "brand_account_followers"
    __table_args__ = (sa.UniqueConstraint("brand_id", "network", "handle", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    network: str = Field(max_length=32)
    handle: str = Field(max_length=300)
    day: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))
    followers: int
    recorded_at: datetime = _ts()


# --- Prepared posts, publishing, on-call rota and escalation (migration 0011_publish) -------


class PreparedPost(SQLModel, table=True):
    """A post prepared for one outcome of an expected event, for one network of the brand's
    own accounts; its length was checked against the network's rule when it was prepared."""

    __tablename__ = "prepared_post"
    __table_args__ = (sa.UniqueConstraint("brand_id", "event", "outcome", "network"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    event: str = Field(max_length=100)
    outcome: str = Field(max_length=100)
    network: str = Field(max_length=32)
    text: str = _text()
    created_by: str = Field(max_length=200)
    updated_at: datetime = _ts()


class Publication(SQLModel, table=True):
    """One prepared post sent to its network: recorded (pending) before it is sent, then sent,
    failed (certainly not posted) or unknown (maybe posted); never sent twice."""

    __tablename__ = "publication"
    __table_args__ = (sa.Index("ix_publication_prepared_state", "prepared_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    prepared_id: int = Field(foreign_key="prepared_post.id")
    brand_id: int = Field(foreign_key="brand.id")
    network: str = Field(max_length=32)
    text: str = _text()
    by: str = Field(max_length=200)
    state: str = Field(default="pending", max_length=16)
    network_post_id: str | None = Field(default=None, max_length=500)
    url: str | None = _text(nullable=True)
    error: str | None = _text(nullable=True)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)


class PublishJob(SQLModel, table=True):
    """A scheduled `publish <event> <outcome> at HH:MM`: run by the scheduler leader once due.
    `lease_until` lets another leader take over a job whose runner died; the publications'
    records keep the take-over from posting anything twice."""

    __tablename__ = "publish_job"
    __table_args__ = (sa.Index("ix_publish_job_state_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    event: str = Field(max_length=100)
    outcome: str = Field(max_length=100)
    due_at: datetime = _ts()
    state: str = Field(default="scheduled", max_length=16)  # scheduled|running|done|cancelled
    created_by: str = Field(max_length=200)
    platform: str = Field(max_length=32)
    channel: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()
    lease_until: datetime | None = _ts(nullable=True)
    finished_at: datetime | None = _ts(nullable=True)
    result: str | None = _text(nullable=True)


class OnCall(SQLModel, table=True):
    """One person on one level of a brand's escalation ladder (1 is pinged first), during
    their business hours in their time zone (None: any time)."""

    __tablename__ = "oncall"
    __table_args__ = (sa.UniqueConstraint("brand_id", "level", "platform", "person"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id")
    level: int
    platform: str = Field(max_length=32)
    person: str = Field(max_length=200)  # the chat platform's user id (console: a name)
    hours: str | None = Field(default=None, max_length=300)  # e.g. "mon-fri 09:00-18:00"
    timezone: str = Field(default="UTC", max_length=64)
    set_by: str = Field(max_length=200)
    updated_at: datetime = _ts()


class EscalationPing(SQLModel, table=True):
    """A ping of the on-call about an unclaimed mention, recorded before it is sent; the unique
    step makes a restart or a second leader send nothing twice."""

    __tablename__ = "escalation_ping"
    __table_args__ = (sa.UniqueConstraint("mention_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id")
    brand_id: int = Field(foreign_key="brand.id")
    step: int  # 0: at the warning share of the SLA, 1: at the breach, 2...: each target later
    level: int
    people: str = _text()  # platform:person, comma-separated
    at: datetime = _ts()
    state: str = Field(default="sending", max_length=16)  # sending -> sent | failed
    error: str | None = _text(nullable=True)


# Indexes the digest, the SLA clocks and the flood gate need on the core tables (0002_digest).
_t = SQLModel.metadata.tables
# Covering where the digest reads many rows per window (docs/digest.md, "Benchmark").
sa.Index("ix_reply_sent_at", _t["reply"].c.sent_at, _t["reply"].c.state,
         _t["reply"].c.mention_id, _t["reply"].c.by)
sa.Index("ix_event_brand_kind_at", _t["event"].c.brand_id, _t["event"].c.kind,
         _t["event"].c.at, _t["event"].c.mention_id, _t["event"].c.actor)
# Open mentions (the digest's overdue list, the SLA monitor): every column their filters read,
# so that only the shown rows are looked up in the table (0007_digest_cover replaced 0002's
# (brand_id, status, created_at)).
# 0011_publish added deleted_at: a deleted post's SLA clock stops; the filter stays in it.
sa.Index("ix_mention_brand_status_created_cover", _t["mention"].c.brand_id,
         _t["mention"].c.status, _t["mention"].c.created_at, _t["mention"].c.muted,
         _t["mention"].c.network, _t["mention"].c.id, _t["mention"].c.deleted_at)
sa.Index("ix_event_mention_kind_at", _t["event"].c.mention_id, _t["event"].c.kind,
         _t["event"].c.at)
sa.Index("ix_mention_brand_seen", _t["mention"].c.brand_id, _t["mention"].c.seen_at)
# A message in a card's thread finds its mention through (platform, message_ref) (0003_slack).
sa.Index("ix_delivery_platform_ref", _t["delivery"].c.platform, _t["delivery"].c.message_ref)

metadata = SQLModel.metadata


def table(model: type[SQLModel]) -> sa.Table:
    """The Core table of a model, typed, for the store's bulk statements."""
    return metadata.tables[str(model.__tablename__)]
