"""E-mail: a real IMAP server fake (testkit/fake_imap.py, over TLS or STARTTLS) and a real SMTP
server (aiosmtpd, STARTTLS and AUTH required) on loopback ports; the plug-in's real imaplib and
smtplib clients; mails from tests/fixtures/email/ (multipart/alternative with attachments,
hostile HTML with a bad charset, a reply thread with References, a mail without From, an
auto-reply)."""

from __future__ import annotations

import json
import logging
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from bot.cards import card_for
from bot.domain import Author as PostAuthor
from bot.domain import Post, ReplyState
from bot.identities import author_keys, link_key
from bot.logs import secret_values
from bot.networks import ReplyRejected
from bot.pipeline import Pipeline
from bot.query import Candidate, evaluate, parse
from bot.settings import SettingsError
from bot.store import Store
from commands.mentions import send_recorded
from integrations.chat.discord.render import card_message as discord_card
from integrations.chat.slack.render import card_message as slack_card
from integrations.networks import email_mail, email_net, email_oauth, registry
from integrations.networks.settings import EmailSettings, load_network_config
from testkit.fake_imap import FakeImap, loopback_tls
from testkit.fake_xoauth2 import TokenIssuer, XOAuth2Smtp, rfc4954_controller
from tests.contracts.oauth2 import check_token_answer
from tests.integrations.networks.conftest import (
    FIXTURES,
    Gate,
    console_reply,
    pump_rounds,
    stored,
    stored_mention,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
USER, PASSWORD = "support@acme.example", "app-pw-s3cr3t-9817"
FROM = "Acme Support <support@acme.example>"


def mail(name: str) -> bytes:
    return (FIXTURES / "email" / name).read_bytes()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return loopback_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def imap(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[FakeImap]:
    with FakeImap(username=USER, password=PASSWORD, tls=tls[0], implicit_tls=True) as server:
        yield server


class Outbox:
    """The SMTP server's handler: what it accepted. `drop` accepts the next message and then
    drops the connection instead of answering 250 (the client cannot tell whether it went)."""

    def __init__(self) -> None:
        self.accepted: list[Envelope] = []
        self.drop = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.accepted.append(envelope)
        if self.drop:
            self.drop = False
            assert server.transport is not None
            server.transport.abort()
        return "250 2.0.0 Ok: queued"


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword)
          and (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode()))
    # handled=False: aiosmtpd answers 535 itself.
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[tuple[Outbox, int]]:
    outbox = Outbox()
    port = _free_port()
    controller = Controller(outbox, hostname="127.0.0.1", port=port, tls_context=tls[0],
                            require_starttls=True, authenticator=_authenticate,
                            auth_require_tls=True, auth_exclude_mechanism=["CRAM-MD5"])
    controller.start()
    try:
        yield outbox, port
    finally:
        controller.stop()


def settings(imap: FakeImap, smtp_port: int | None = None, **more: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "email_imap_host": "127.0.0.1", "email_imap_port": imap.port,
        "email_imap_security": "tls", "email_username": USER, "email_password": PASSWORD,
        "email_from_address": FROM}
    if smtp_port is not None:
        values.update(email_smtp_host="127.0.0.1", email_smtp_port=smtp_port,
                      email_smtp_security="starttls")
    values.update({f"email_{k}": v for k, v in more.items()})
    return load_network_config(values, env_file=None).of(EmailSettings)


def parts(s: EmailSettings, tls: tuple[ssl.SSLContext, ssl.SSLContext],
          store: Store | None = None,
          ) -> tuple[email_net.EmailSource, email_net.EmailResponder | None]:
    source, responder, _ = email_net.components(s, store=store, interval=60.0,
                                                ssl_context=tls[1], now=lambda: NOW)
    return source, responder


# --- one mail as a Post -----------------------------------------------------------------------


def post_of(name: str, **kw: Any) -> Any:
    return email_mail.mail_to_post(mail(name), url="imap://x/INBOX", received=NOW, **kw)


def test_plain_mail_author_threading_and_signature() -> None:
    p = post_of("plain.eml")
    assert p.external_id == "CAF7x9Q1Zk3+vA@mail.example"
    assert (p.author.handle, p.author.name) == ("jane.doe@mail.example", "Jane Doe")
    assert p.created_at == datetime(2026, 11, 20, 8, 57, 58, tzinfo=UTC)
    assert p.text == ("Acme router keeps rebooting\n\nHello,\n\nmy Acme router reboots every "
                      "few minutes since the update. Can you help?\n\nGrüße,\nJane"
                      "\n\n(to: support@acme.example)")
    assert p.in_reply_to is None and p.quotes is None


def test_multipart_alternative_prefers_plain_and_lists_attachments_by_name() -> None:
    p = post_of("alternative.eml")
    assert p.author.name == "Jürgen Müller"
    assert p.text == ("Rechnung für meinen Acme Vertrag\n\nGuten Tag, die Acme Rechnung im "
                      "Anhang ist doppelt abgebucht worden.\n\n"
                      "[attachments: Rechnung 2026-11.pdf, screenshot.png]\n\n"
                      "(to: support@acme.example)")
    assert "JVBER" not in p.text  # the PDF's content is never read


def test_a_query_naming_the_support_address_takes_mail_that_never_names_the_brand() -> None:
    # A shared mailbox: each brand's query names its own support address (To, Cc or
    # Delivered-To), so mail reaches the brand even when it never says "Acme".
    raw = (b"From: Kim <kim@mail.example>\r\nTo: help@nordlicht.example, "
           b"Support <SUPPORT@acme.example>\r\nCc: kim@mail.example\r\n"
           b"Subject: order 4411\r\nMessage-ID: <o4411@mail.example>\r\n\r\n"
           b"Where is my parcel?\r\n")
    p = email_mail.mail_to_post(raw, url="imap://x/INBOX", received=NOW)
    assert p.text.endswith("(to: help@nordlicht.example, support@acme.example, "
                           "kim@mail.example)")
    acme, nordlicht = parse('"support@acme.example"'), parse('"help@nordlicht.example"')
    assert evaluate(acme, Candidate(p.text, network="email"))
    assert evaluate(nordlicht, Candidate(p.text, network="email"))
    assert not evaluate(parse('"sales@acme.example"'), Candidate(p.text, network="email"))
    # Broken or absent recipient headers give no line, never an error.
    bare = raw.replace(b"To: help@nordlicht.example, Support <SUPPORT@acme.example>\r\n"
                       b"Cc: kim@mail.example\r\n", b"To: <<<\r\n")
    assert "(to:" not in email_mail.mail_to_post(bare, url="imap://x", received=NOW).text


def test_hostile_html_becomes_safe_text() -> None:
    p = post_of("hostile.eml")
    # A display name that looks like an address is a disguise: not shown.
    assert (p.author.handle, p.author.name) == ("mallory@evil.example", None)
    for gone in ("fetch(", "document.cookie", "display:none", "invisible text", "hidden",
                 "javascript:", "data:text", "<script", "<p>"):
        assert gone not in p.text, gone
    # A link shows its real target next to the text that pretended to be another.
    assert "https://acme.example/login (https://evil.example/phish)" in p.text
    assert "Click here" in p.text
    # The undecodable bytes are replaced and the card says so.
    assert "Caf\ufffd cr\ufffdme from acme" in p.text
    assert p.text.endswith("[charset utf-8 did not fit: some characters replaced]")


def test_html_links_images_and_comments() -> None:
    text = email_mail.html_to_text(
        '<p>See <a href="https://acme.example/faq">our FAQ</a> or '
        '<a href="https://acme.example/faq">https://acme.example/faq</a> or '
        '<a href="mailto:help@acme.example?subject=x">write</a></p><img alt="logo">'
        '<!-- secret --><noscript>nojs</noscript>')
    assert text == ("See our FAQ (https://acme.example/faq) or https://acme.example/faq or "
                    "write (help@acme.example)\n[image: logo]")


def test_a_reply_folds_into_its_thread_and_quotes_are_trimmed() -> None:
    p = post_of("reply.eml")
    assert p.in_reply_to == "echtzeit.r1.0123456789abcdef@acme.example"  # our reply
    assert p.quotes == "CAF7x9Q1Zk3+vA@mail.example"  # the thread's first mail
    assert p.text == ("Re: Acme router keeps rebooting\n\nThanks, the acme firmware 2.1 fixed "
                      "it.\n\n(to: support@acme.example)")


def test_bad_mail_is_a_clear_error_and_sizes_are_capped() -> None:
    with pytest.raises(ValueError, match="no From address"):
        post_of("no_from.eml")
    with pytest.raises(ValueError, match="neither subject nor text"):
        email_mail.mail_to_post(b"From: a@b.example\r\n\r\n", url="x", received=NOW)
    huge = mail("plain.eml").replace(b"Can you help?", b"acme " * 10_000)
    p = email_mail.mail_to_post(huge, url="x", received=NOW, max_chars=1000)
    assert len(p.text) < 1200 and "[body cut at 1000 characters]" in p.text
    # No Message-ID: a stable id from the bytes.
    bare = b"From: a@b.example\r\nSubject: acme\r\n\r\nhi\r\n"
    a = email_mail.mail_to_post(bare, url="x", received=NOW)
    assert a.external_id == email_mail.mail_to_post(bare, url="y", received=NOW).external_id
    assert a.external_id.endswith("@no-message-id.invalid")
    assert a.created_at == NOW  # no Date: when the mailbox got it


def test_the_address_is_the_author_key_and_a_mailto_proof_links_it() -> None:
    keys = author_keys("email", "jane.doe@mail.example")
    assert keys == (("own", "acct:email:jane.doe@mail.example"),)
    # A profile elsewhere that proves the address (a verified mailto: link) shares that key.
    assert link_key("mailto:Jane.Doe@Mail.Example") == "acct:email:jane.doe@mail.example"
    assert link_key("mailto:not-an-address") is None


# --- the source ---------------------------------------------------------------------------------


async def test_source_reads_new_mail_by_uid_and_resumes(
    imap: FakeImap, tls: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("plain.eml", "alternative.eml", "hostile.eml", "no_from.eml",
                 "auto_reply.eml"):
        imap.deliver("INBOX", mail(name))
    source, _ = parts(settings(imap), tls)
    batch = await source.poll_once(None)
    assert [p.external_id for p in batch.posts] == [
        "CAF7x9Q1Zk3+vA@mail.example", "20261120100500.GA1234@beispiel.example",
        "hostile-1@evil.example"]
    validity = imap.folders["INBOX"].uidvalidity
    assert json.loads(batch.cursor or "") == {"uid": 5, "uidvalidity": validity}
    assert batch.posts[0].url == (f"imap://support%40acme.example@127.0.0.1/INBOX"
                                  f";UIDVALIDITY={validity}/;UID=1")
    assert "UID 4 in INBOX cannot be read (no From address); skipped" in caplog.text
    assert "UID 5 in INBOX is an automatic mail" in caplog.text
    # Read-only and peeking: nothing is marked seen.
    assert any(" EXAMINE " in c for c in imap.commands)
    assert all(not m.flags for m in imap.folders["INBOX"].mails)
    # A new mail: only it; then nothing, and the cursor stays.
    imap.deliver("INBOX", mail("reply.eml"))
    again = await source.poll_once(batch.cursor)
    assert [p.external_id for p in again.posts] == ["CAF7x9Q2Lm8+wB@mail.example"]
    assert json.loads(again.cursor or "")["uid"] == 6
    idle = await source.poll_once(again.cursor)
    assert idle.posts == [] and idle.cursor == again.cursor
    # The password never shows: not in the logs, not on the wire in clear (TLS), not in repr.
    assert PASSWORD not in caplog.text
    assert PASSWORD not in repr(source.mailbox.endpoint)
    assert all(PASSWORD not in c for c in imap.commands)


async def test_a_new_uidvalidity_is_logged_and_the_folder_read_again(
    imap: FakeImap, tls: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    imap.deliver("INBOX", mail("plain.eml"))
    imap.deliver("INBOX", mail("alternative.eml"))
    source, _ = parts(settings(imap), tls)
    first = await source.poll_once(None)
    old = imap.folders["INBOX"].uidvalidity
    imap.rebuild("INBOX")
    imap.deliver("INBOX", mail("reply.eml"))
    with caplog.at_level(logging.WARNING):
        after = await source.poll_once(first.cursor)
    assert f"UIDVALIDITY of INBOX changed from {old} to {old + 1000}" in caplog.text
    # All three again (the pipeline drops the two it has by their Message-ID).
    assert len(after.posts) == 3
    assert json.loads(after.cursor or "") == {"uid": 3, "uidvalidity": old + 1000}


async def test_first_start_reads_the_newest_and_a_backlog_goes_in_rounds(
    imap: FakeImap, tls: Any,
) -> None:
    raw = mail("plain.eml")
    for n in range(120):
        imap.deliver("INBOX", raw.replace(b"CAF7x9Q1Zk3", f"m{n}".encode()))
    source, _ = parts(settings(imap), tls)
    first = await source.poll_once(None)
    assert len(first.posts) == email_net.FIRST_READ
    assert first.posts[0].external_id == "m70+vA@mail.example"
    for n in range(120, 330):
        imap.deliver("INBOX", raw.replace(b"CAF7x9Q1Zk3", f"m{n}".encode()))
    second = await source.poll_once(first.cursor)
    third = await source.poll_once(second.cursor)
    fourth = await source.poll_once(third.cursor)
    assert [len(b.posts) for b in (second, third, fourth)] == [100, 100, 10]
    assert fourth.posts[-1].external_id == "m329+vA@mail.example"


async def test_an_oversized_mail_shows_its_header_and_a_note(imap: FakeImap, tls: Any) -> None:
    big = mail("plain.eml").replace(b"Can you help?", b"acme " * 8_000)
    imap.deliver("INBOX", big)
    source, _ = parts(settings(imap, max_bytes=16 * 1024), tls)
    (post,) = (await source.poll_once(None)).posts
    assert post.text.startswith("Acme router keeps rebooting\n\n(to: support@acme.example)"
                                "\n\n[mail of ")
    assert "is over the 16384-byte cap: its body was not read" in post.text
    assert any("BODY.PEEK[HEADER]" in c for c in imap.commands)


async def test_starttls_wrong_password_and_plain_to_a_remote_host(
    tls: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    with FakeImap(username=USER, password=PASSWORD, tls=tls[0]) as server:
        server.deliver("INBOX", mail("plain.eml"))
        source, _ = parts(settings(server, imap_security="starttls"), tls)
        assert len((await source.poll_once(None)).posts) == 1
        assert [c.split(" ", 1)[1] for c in server.commands[:2]] == ["CAPABILITY", "STARTTLS"]
        wrong = settings(server, imap_security="starttls", password="nope")
        source, _ = parts(wrong, tls)
        with pytest.raises(email_net.MailboxError, match=r"login as support@acme\.example "
                                                         r"refused: .*AUTHENTICATIONFAILED"):
            await source.poll_once(None)
    # Plain sign-in to a remote host is a configuration error naming the variable.
    with pytest.raises(SettingsError, match="ECHTZEIT_EMAIL_IMAP_SECURITY: plain sends the "
                                            "password unencrypted"):
        settings(server, imap_security="plain", imap_host="imap.acme.example")
    with pytest.raises(ValueError, match="only allowed to a local bridge"):
        email_net.Endpoint("imap.acme.example", 143, "plain", USER, PASSWORD)
    assert PASSWORD not in caplog.text


# --- end to end ---------------------------------------------------------------------------------


async def test_mail_to_card_and_reply_threaded_exactly_once(
    imap: FakeImap, smtp: tuple[Outbox, int], tls: Any, pipeline: Pipeline,
    sqlite_store: Store, gate: Gate,
) -> None:
    outbox, port = smtp
    for name in ("plain.eml", "alternative.eml", "hostile.eml"):
        imap.deliver("INBOX", mail(name))
    s = settings(imap, port)
    source, responder = parts(s, tls, sqlite_store)
    assert responder is not None
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v for v in stored(sqlite_store)}
    assert set(views) == {"CAF7x9Q1Zk3+vA@mail.example",
                          "20261120100500.GA1234@beispiel.example", "hostile-1@evil.example"}
    first = views["CAF7x9Q1Zk3+vA@mail.example"]
    assert (first.mention.network, first.author.handle) == ("email", "jane.doe@mail.example")
    assert sqlite_store.cursor(source=source.name) is not None

    # The hostile mail's card pings nobody on Slack or Discord.
    hostile = card_for(views["hostile-1@evil.example"])
    slack = json.dumps(slack_card(hostile, NOW))
    assert "<!everyone>" not in slack and "<!here>" not in slack and "<@123>" not in slack
    discord = discord_card(hostile)
    assert discord["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in json.dumps(discord).replace("@\\u200beveryone", "")

    # /reply: a threaded plain-text reply from the brand's address.
    result = await console_reply(sqlite_store, {"email": responder}, first.mention.id or 0,
                                 "Please update to firmware 2.1.")
    assert result.ok, result.text
    (envelope,) = outbox.accepted
    assert envelope.mail_from == "support@acme.example"
    assert envelope.rcpt_tos == ["jane.doe@mail.example"]
    sent = message_from_bytes(envelope.original_content or b"", policy=policy.default)
    (reply,) = sqlite_store.view(first.mention.id or 0).replies
    assert reply.state == ReplyState.SENT
    assert sent["Subject"] == "Re: Acme router keeps rebooting"
    assert sent["From"] == FROM and sent["To"] == "jane.doe@mail.example"
    assert sent["In-Reply-To"] == "<CAF7x9Q1Zk3+vA@mail.example>"
    assert sent["References"] == "<CAF7x9Q1Zk3+vA@mail.example>"
    assert sent["Message-ID"] == f"<{reply.network_reply_id}>"
    assert (reply.network_reply_id or "").startswith(f"echtzeit.r{reply.id}.")
    assert sent.get_content_type() == "text/plain"
    assert sent.get_content().strip() == "Please update to firmware 2.1."
    # Filed in Sent once.
    assert len(imap.raw("Sent")) == 1

    # The customer's answer to our reply joins the first mail's story (its References).
    imap.deliver("INBOX", mail("reply.eml").replace(
        b"echtzeit.r1.0123456789abcdef@acme.example", (reply.network_reply_id or "").encode()))
    again, _ = parts(s, tls, sqlite_store)
    again.sleep = gate
    await pump_rounds(again, pipeline, gate)
    follow = next(v for v in stored(sqlite_store)
                  if v.mention.external_id == "CAF7x9Q2Lm8+wB@mail.example")
    assert follow.mention.story_id is not None
    assert follow.mention.story_id == sqlite_store.view(first.mention.id or 0).mention.story_id
    assert len(stored(sqlite_store)) == 4  # nothing read twice after the restart


async def test_a_retry_after_a_crash_sends_nothing_twice(
    imap: FakeImap, smtp: tuple[Outbox, int], tls: Any, pipeline: Pipeline,
    sqlite_store: Store, gate: Gate, caplog: pytest.LogCaptureFixture,
) -> None:
    outbox, port = smtp
    imap.deliver("INBOX", mail("plain.eml"))
    s = settings(imap, port)
    source, responder = parts(s, tls, sqlite_store)
    assert responder is not None
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    (view,) = stored(sqlite_store)
    mid = view.mention.id or 0
    # Recorded, sent, then the process dies before the outcome is written.
    record = sqlite_store.record_reply(mention_id=mid, text="On it!", by="ana")
    await responder.reply(mention=sqlite_store.view(mid).mention, text="On it!")
    assert len(outbox.accepted) == 1
    assert sqlite_store.view(mid).replies[0].state == ReplyState.PENDING

    # After the restart the same recorded reply is sent again: found in Sent, not re-sent.
    _, restarted = parts(s, tls, sqlite_store)
    assert restarted is not None
    with caplog.at_level(logging.WARNING):
        result = await send_recorded(sqlite_store.view(mid), record, restarted,
                                     _deps(sqlite_store, restarted))
    assert result.ok, result.text
    assert "already in Sent (sent before a crash): not sent again" in caplog.text
    assert len(outbox.accepted) == 1 and len(imap.raw("Sent")) == 1
    assert sqlite_store.view(mid).replies[0].state == ReplyState.SENT


async def test_a_settled_failed_reply_that_went_out_blocks_a_second(
    imap: FakeImap, smtp: tuple[Outbox, int], tls: Any, sqlite_store: Store,
    pipeline: Pipeline, gate: Gate,
) -> None:
    outbox, port = smtp
    imap.deliver("INBOX", mail("plain.eml"))
    s = settings(imap, port)
    source, responder = parts(s, tls, sqlite_store)
    assert responder is not None
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    mid = stored(sqlite_store)[0].mention.id or 0
    record = sqlite_store.record_reply(mention_id=mid, text="On it!", by="ana")
    await responder.reply(mention=sqlite_store.view(mid).mention, text="On it!")
    # Somebody settles it as failed without looking, and replies again.
    sqlite_store.reply_failed(reply_id=record.id or 0, error="settled", unknown=False)
    result = await console_reply(sqlite_store, {"email": responder}, mid, "On it!")
    assert not result.ok
    assert f"reply {record.id} to this mail is in Sent, so it did go out" in result.text
    assert len(outbox.accepted) == 1


async def test_smtp_refusals_are_rejections(
    imap: FakeImap, smtp: tuple[Outbox, int], tls: Any, sqlite_store: Store,
    pipeline: Pipeline, gate: Gate,
) -> None:
    outbox, port = smtp
    imap.deliver("INBOX", mail("plain.eml"))
    source, _ = parts(settings(imap, port), tls, sqlite_store)
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    mention = stored(sqlite_store)[0].mention
    _, wrong = parts(settings(imap, port, smtp_password="nope"), tls, sqlite_store)
    assert wrong is not None
    with pytest.raises(ReplyRejected, match=r"SMTP login as support@acme\.example refused: 535"):
        await wrong.reply(mention=mention, text="hi")
    _, closed = parts(settings(imap, _free_port()), tls, sqlite_store)
    assert closed is not None
    with pytest.raises(ReplyRejected, match="cannot reach SMTP server"):
        await closed.reply(mention=mention, text="hi")
    assert outbox.accepted == []
    assert closed.check("x" * 50_001) == "email allows 50000 characters, this reply has 50001"


async def test_networks_report_lists_email(imap: FakeImap, smtp: tuple[Outbox, int],
                                          tls: Any) -> None:
    # The report uses the system's trust store: the fake's self-signed certificate fails it,
    # which is what a bad certificate must do.
    config = load_network_config({}, env_file=None)
    off = {s.network: s for s in await registry.report(config)}["email"]
    assert (off.on, off.detail) == (False, "set ECHTZEIT_EMAIL_IMAP_HOST, "
                                           "ECHTZEIT_EMAIL_USERNAME and ECHTZEIT_EMAIL_PASSWORD "
                                           "or ECHTZEIT_EMAIL_AUTH=oauth2 (and "
                                           "ECHTZEIT_EMAIL_SMTP_HOST to reply)")
    on = load_network_config({
        "email_imap_host": "127.0.0.1", "email_imap_port": imap.port, "email_username": USER,
        "email_password": PASSWORD, "email_smtp_host": "127.0.0.1",
        "email_smtp_port": smtp[1]}, env_file=None)
    status = {s.network: s for s in await registry.report(on)}["email"]
    assert status.on and status.ok is False
    assert status.detail.startswith("credentials do not work: cannot reach IMAP server")
    assert "CERTIFICATE_VERIFY_FAILED" in status.detail and PASSWORD not in status.detail
    nets = registry.build(on, None)
    assert nets.checks["email"][0] == (
        "new mail in INBOX of support@acme.example on 127.0.0.1 (tls); replies from "
        "support@acme.example via 127.0.0.1")
    await nets.client.aclose()
    # With the certificate trusted, the check signs in to both servers.
    s = settings(imap, smtp[1])
    _, responder, mailbox = email_net.components(s, store=None, interval=60,
                                                 ssl_context=tls[1])
    assert await email_net.verify(mailbox, responder) == USER
    _, wrong, mailbox = email_net.components(settings(imap, smtp[1], smtp_password="x"),
                                             store=None, interval=60, ssl_context=tls[1])
    with pytest.raises(email_net.MailboxError, match="IMAP works, SMTP does not: SMTP login"):
        await email_net.verify(mailbox, wrong)


def _deps(store: Store, responder: Any) -> Any:
    from commands.base import Deps

    return Deps(store=store, responders={"email": responder})


async def test_a_connection_lost_after_data_leaves_the_reply_uncertain(
    imap: FakeImap, smtp: tuple[Outbox, int], tls: Any, sqlite_store: Store,
    pipeline: Pipeline, gate: Gate,
) -> None:
    outbox, port = smtp
    imap.deliver("INBOX", mail("plain.eml"))
    source, responder = parts(settings(imap, port), tls, sqlite_store)
    assert responder is not None
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    mid = stored(sqlite_store)[0].mention.id or 0
    outbox.drop = True
    result = await console_reply(sqlite_store, {"email": responder}, mid, "On it!")
    assert not result.ok and "It is unclear whether email posted reply" in result.text
    assert sqlite_store.view(mid).replies[0].state == ReplyState.UNKNOWN
    assert len(outbox.accepted) == 1 and imap.raw("Sent") == []


async def test_the_same_customer_by_mail_and_on_mastodon_is_one_person(
    imap: FakeImap, tls: Any, pipeline: Pipeline, sqlite_store: Store, gate: Gate,
) -> None:
    """Jane's Mastodon profile proves her address (a verified `mailto:` link among its proofs):
    her mail and her post meet in one person's history."""
    imap.deliver("INBOX", mail("plain.eml"))
    source, _ = parts(settings(imap), tls, sqlite_store)
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    toot = Post(network="mastodon", external_id="109", url="https://social.example/@jane/109",
                author=PostAuthor(handle="jane@social.example", name="Jane",
                                  proofs=("mailto:Jane.Doe@mail.example",)),
                text="acme router still rebooting, mailed them this morning",
                created_at=NOW, lang="en")
    pipeline.ingest([toot])
    views = {v.mention.network: v for v in stored(sqlite_store)}
    by_mail, on_mastodon = views["email"], views["mastodon"]
    assert by_mail.person is not None and on_mastodon.person is not None
    assert by_mail.person.identity_id == on_mastodon.person.identity_id
    assert set(on_mastodon.person.accounts) == {("email", "jane.doe@mail.example"),
                                                ("mastodon", "jane@social.example")}
    history = sqlite_store.person_history(author_id=by_mail.author.id or 0)
    assert history is not None and dict(history.per_network) == {"email": 1, "mastodon": 1}


def test_a_sender_is_verified_only_by_the_mailbox_servers_dmarc_pass() -> None:
    def with_results(*headers: str) -> bytes:
        lines = "".join(f"Authentication-Results: {h}\r\n" for h in headers)
        return lines.encode() + mail("plain.eml")

    passed = with_results("mx.acme.example; dkim=pass header.i=@mail.example; spf=pass "
                          "smtp.mailfrom=mail.example; dmarc=pass (p=REJECT) "
                          "header.from=mail.example")
    p = email_mail.mail_to_post(passed, url="x", received=NOW, authserv_id="mx.acme.example")
    assert p.extra["sender_verified"] == "yes" and "not verified" not in p.text
    # Another server's pass (or one the sender wrote further down) proves nothing.
    forged = with_results("mx.acme.example; spf=softfail; dmarc=fail header.from=mail.example",
                          "mx.acme.example; dmarc=pass", "evil.example; dmarc=pass")
    p = email_mail.mail_to_post(forged, url="x", received=NOW, authserv_id="mx.acme.example")
    assert p.extra["sender_verified"] == "no"
    assert p.text.endswith("[sender not verified: mx.acme.example found no DMARC pass for "
                           "mail.example]")
    unchecked = email_mail.mail_to_post(forged, url="x", received=NOW)
    assert "sender_verified" not in unchecked.extra


def test_quote_trimming_keeps_what_only_looks_like_a_quote() -> None:
    outlook = ("Still broken.\n\n________________________________\nFrom: Acme Support "
               "<support@acme.example>\nSent: Friday, 20 November 2026 10:15\nSubject: Re: x\n\n"
               "Please update.")
    assert email_mail.trim_quoted(outlook) == "Still broken."
    assert email_mail.trim_quoted("Hi,\nFrom: my phone, sorry for typos\nthe acme app crashes") \
        == "Hi,\nFrom: my phone, sorry for typos\nthe acme app crashes"
    assert email_mail.trim_quoted("> quoted only\nmine\n-- \nsig") == "mine"


# --- OAuth 2.0 (SASL XOAUTH2) -------------------------------------------------------------------

CLIENT_ID, CLIENT_SECRET = "6731de76-14a6-49ae-97bc-6eba6914391e", "Qx~8Q~client.s3cr3t-4711"
REFRESH = "1//0gOAUTH-refresh-t0ken-s3cr3t"
TOKEN_ENDPOINT = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"


@pytest.fixture
def issuer(clock: Any) -> TokenIssuer:
    """Microsoft 365: the identity platform's client-credentials grant for one mailbox."""
    return TokenIssuer("microsoft", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                       mailbox=USER, clock=clock.seconds)


@pytest.fixture
def google(clock: Any) -> TokenIssuer:
    return TokenIssuer("google", client_id="1234-abc.apps.googleusercontent.com",
                       client_secret=CLIENT_SECRET, mailbox=USER, clock=clock.seconds,
                       refresh_token=REFRESH)


class OAuthOutbox(Outbox, XOAuth2Smtp):
    """The SMTP server of a mailbox whose basic auth is off: AUTH XOAUTH2 only."""

    def __init__(self, issuer: TokenIssuer) -> None:
        super().__init__()
        self.issuer = issuer
        self.smtp_user = USER


@pytest.fixture
def oauth_servers(tls: Any, issuer: TokenIssuer) -> Iterator[tuple[FakeImap, OAuthOutbox, int]]:
    outbox = OAuthOutbox(issuer)
    port = _free_port()
    controller = rfc4954_controller(outbox, hostname="127.0.0.1", port=port,
                                    tls_context=tls[0], require_starttls=True,
                                    authenticator=_authenticate, auth_require_tls=True,
                                    auth_exclude_mechanism=["CRAM-MD5", "PLAIN", "LOGIN"])
    controller.start()
    try:
        with FakeImap(username=USER, password="", tls=tls[0], implicit_tls=True,
                      oauth=issuer) as server:
            yield server, outbox, port
    finally:
        controller.stop()


def oauth_settings(imap: FakeImap, issuer: TokenIssuer, smtp_port: int | None = None,
                   **more: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "email_imap_host": "127.0.0.1", "email_imap_port": imap.port, "email_username": USER,
        "email_from_address": FROM, "email_auth": "oauth2",
        "email_oauth_client_id": issuer.client_id, "email_oauth_client_secret": CLIENT_SECRET}
    if issuer.kind == "microsoft":
        values["email_oauth_tenant"] = issuer.tenant
    else:
        values.update(email_oauth_token_url=issuer.url, email_oauth_refresh_token=REFRESH)
    if smtp_port is not None:
        values.update(email_smtp_host="127.0.0.1", email_smtp_port=smtp_port,
                      email_smtp_security="starttls")
    values.update({f"email_{k}": v for k, v in more.items()})
    return load_network_config(values, env_file=None).of(EmailSettings)


@pytest.fixture
async def token_client(issuer: TokenIssuer, google: TokenIssuer,
                       ) -> Any:
    def route(request: httpx.Request) -> httpx.Response:
        fake = google if request.url.host == "oauth2.googleapis.com" else issuer
        return fake.handler(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(route)) as client:
        yield client


def oauth_parts(s: EmailSettings, tls: Any, client: httpx.AsyncClient, clock: Any,
                store: Store | None = None,
                ) -> tuple[email_net.EmailSource, email_net.EmailResponder | None,
                           email_net.Mailbox]:
    return email_net.components(s, store=store, interval=60.0, ssl_context=tls[1],
                                now=lambda: NOW, client=client, clock=clock.seconds)


def no_secrets(text: str, *issuers: TokenIssuer) -> None:
    assert CLIENT_SECRET not in text and REFRESH not in text
    for fake in issuers:
        for token in fake.issued:
            assert token not in text and token.split(".", 1)[1] not in text


async def test_oauth2_microsoft_365_reads_mail_and_sends_a_threaded_reply(
    oauth_servers: tuple[FakeImap, OAuthOutbox, int], issuer: TokenIssuer, tls: Any,
    token_client: httpx.AsyncClient, clock: Any, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    imap, outbox, port = oauth_servers
    imap.deliver("INBOX", mail("plain.eml"))
    # A password sign-in is refused, as by Exchange Online with basic auth off.
    source, _ = parts(settings(imap, port, password="app-pw"), tls)
    with pytest.raises(email_net.MailboxError, match=r"IMAP login as support@acme\.example "
                                                     r"refused: .*LOGIN failed"):
        await source.poll_once(None)

    s = oauth_settings(imap, issuer, port)
    source, responder, mailbox = oauth_parts(s, tls, token_client, clock, sqlite_store)
    assert responder is not None
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    (view,) = stored(sqlite_store)
    assert view.mention.external_id == "CAF7x9Q1Zk3+vA@mail.example"
    result = await console_reply(sqlite_store, {"email": responder}, view.mention.id or 0,
                                 "Please update to firmware 2.1.")
    assert result.ok, result.text
    (envelope,) = outbox.accepted
    sent = message_from_bytes(envelope.original_content or b"", policy=policy.default)
    assert envelope.rcpt_tos == ["jane.doe@mail.example"]
    assert sent["In-Reply-To"] == "<CAF7x9Q1Zk3+vA@mail.example>"
    assert sent["Subject"] == "Re: Acme router keeps rebooting"
    assert sqlite_store.view(view.mention.id or 0).replies[0].state == ReplyState.SENT
    assert len(imap.raw("Sent")) == 1
    assert await email_net.verify(mailbox, responder) == USER

    # One token (the grant's exact form) served every IMAP and SMTP sign-in.
    assert issuer.forms == [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                             "scope": "https://outlook.office365.com/.default",
                             "grant_type": "client_credentials"}]
    assert issuer.accepted >= 6 and issuer.refused == 0
    assert any(c.endswith(" AUTHENTICATE XOAUTH2") for c in imap.commands)
    # Never a secret or token in the logs, the IMAP command log, a repr or the report line.
    no_secrets(caplog.text + "\n".join(imap.commands) + repr(mailbox.endpoint)
               + repr(responder.smtp) + repr(mailbox.endpoint.token), issuer)
    nets = registry.build(load_network_config({
        "email_imap_host": "imap.outlook.office365.com", "email_username": USER,
        "email_auth": "oauth2", "email_oauth_tenant": issuer.tenant,
        "email_oauth_client_id": CLIENT_ID, "email_oauth_client_secret": CLIENT_SECRET},
        env_file=None), None)
    assert nets.checks["email"][0] == (
        "new mail in INBOX of support@acme.example on imap.outlook.office365.com (tls, "
        "OAuth 2.0 client_credentials grant)")
    await nets.client.aclose()


async def test_the_token_is_reused_until_shortly_before_it_expires(
    tls: Any, google: TokenIssuer, token_client: httpx.AsyncClient, clock: Any,
) -> None:
    with FakeImap(username=USER, password="", tls=tls[0], implicit_tls=True,
                  oauth=google) as imap:
        imap.deliver("INBOX", mail("plain.eml"))
        source, _, _ = oauth_parts(oauth_settings(imap, google), tls, token_client, clock)
        first = await source.poll_once(None)
        assert len(first.posts) == 1
        assert google.forms == [{"grant_type": "refresh_token", "refresh_token": REFRESH,
                                 "client_id": google.client_id,
                                 "client_secret": CLIENT_SECRET}]
        (token,) = google.issued
        # Polls within the token's hour (less the five minutes' margin) reuse it.
        for _ in range(3):
            clock.advance(seconds=1000)
            await source.poll_once(first.cursor)
        assert len(google.forms) == 1 and google.accepted == 4
        # 3000 s + 299: inside the margin, so a new one is fetched before signing in.
        clock.advance(seconds=299)
        imap.deliver("INBOX", mail("alternative.eml"))
        second = await source.poll_once(first.cursor)
        assert len(second.posts) == 1 and len(google.forms) == 2
        assert set(google.issued) - {token}
        # The old token has expired by now: the server would refuse it.
        clock.advance(seconds=400)
        refused = google.check(email_oauth.xoauth2(USER, token).encode(), username=USER)
        assert refused is not None and json.loads(refused)["status"] == "401"


async def test_a_refused_token_is_a_clear_error_naming_what_to_fix(
    oauth_servers: tuple[FakeImap, OAuthOutbox, int], issuer: TokenIssuer, tls: Any,
    token_client: httpx.AsyncClient, clock: Any, sqlite_store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    imap, outbox, port = oauth_servers
    imap.deliver("INBOX", mail("plain.eml"))
    s = oauth_settings(imap, issuer, port, sent_folder="")
    source, responder, _ = oauth_parts(s, tls, token_client, clock, sqlite_store)
    assert responder is not None
    first = await source.poll_once(None)
    # The mailbox no longer lets the app in (its access was removed): the server's error
    # challenge and NO, and what to check.
    issuer.revoke()
    with pytest.raises(email_net.MailboxError) as refused:
        await source.poll_once(first.cursor)
    message = str(refused.value)
    assert message.startswith("IMAP sign-in (XOAUTH2) as support@acme.example refused: ")
    assert "AUTHENTICATIONFAILED" in message and "status 401, schemes bearer" in message
    assert "IMAP.AccessAsApp" in message and "Add-MailboxPermission" in message
    # The refused token is dropped: the next poll fetches a new one and signs in.
    await source.poll_once(first.cursor)
    assert len(issuer.forms) == 2
    # SMTP likewise (the app was not granted SMTP.SendAsApp): 535 after the error challenge.
    (post,) = first.posts
    mid = stored_mention(sqlite_store, "email", post.external_id)
    mention = sqlite_store.view(mid).mention
    issuer.denied.add("smtp")
    with pytest.raises(ReplyRejected, match=r"SMTP sign-in \(XOAUTH2\) as support@acme\.example "
                                            r"refused: 535 5\.7\.3 Authentication unsuccessful "
                                            r"\(status 401.*SMTP\.SendAsApp"):
        await responder.reply(mention=mention, text="hi")
    assert outbox.accepted == []

    # The token endpoint refuses the app: nothing is sent, the error names the settings.
    wrong = oauth_settings(imap, issuer, port, oauth_client_secret="Qx~8Q~old-secret")
    source, responder, _ = oauth_parts(wrong, tls, token_client, clock, sqlite_store)
    assert responder is not None
    with pytest.raises(email_net.MailboxError, match=(
            f"no OAuth access token for support@acme.example: the token endpoint "
            f"{TOKEN_ENDPOINT} refused the client_credentials grant \\(invalid_client: "
            f"AADSTS7000215: Invalid client secret provided.*check "
            f"ECHTZEIT_EMAIL_OAUTH_CLIENT_ID and ECHTZEIT_EMAIL_OAUTH_CLIENT_SECRET")):
        await source.poll_once(None)
    with pytest.raises(ReplyRejected, match=r"no OAuth access token, so nothing was sent: "
                                            r".*invalid_client"):
        await responder.reply(mention=mention, text="hi")
    # A delegated scope in the client-credentials grant: Microsoft wants the resource's
    # /.default.
    scoped = oauth_settings(imap, issuer, port,
                            oauth_scope="https://outlook.office365.com/IMAP.AccessAsApp")
    source, _, _ = oauth_parts(scoped, tls, token_client, clock, sqlite_store)
    with pytest.raises(email_net.MailboxError, match=r"\(invalid_scope: AADSTS1002012: .*\): "
                                                     r"check ECHTZEIT_EMAIL_OAUTH_SCOPE"):
        await source.poll_once(None)
    assert outbox.accepted == []
    no_secrets(caplog.text, issuer)


async def test_google_refresh_token_refusal_and_missing_settings(
    tls: Any, google: TokenIssuer, token_client: httpx.AsyncClient, clock: Any,
) -> None:
    with FakeImap(username=USER, password="", tls=tls[0], implicit_tls=True,
                  oauth=google) as imap:
        revoked = oauth_settings(imap, google, oauth_refresh_token="1//0g-revoked")
        source, _, _ = oauth_parts(revoked, tls, token_client, clock)
        with pytest.raises(email_net.MailboxError, match=(
                r"refused the refresh_token grant \(invalid_grant: Token has been expired or "
                r"revoked\.\): the refresh token was revoked or has expired; authorize the "
                r"mailbox again and put the new one in ECHTZEIT_EMAIL_OAUTH_REFRESH_TOKEN")):
            await source.poll_once(None)
        with pytest.raises(ValueError, match="ECHTZEIT_EMAIL_AUTH=oauth2 needs "
                                             "ECHTZEIT_EMAIL_OAUTH_TOKEN_URL"):
            oauth_parts(oauth_settings(imap, google, oauth_token_url=None), tls,
                        token_client, clock)
        # The client secret and refresh token are SecretStr settings: bot/logs.py masks them.
        assert {CLIENT_SECRET, REFRESH} <= set(secret_values(oauth_settings(imap, google)))
        bare = load_network_config({"email_imap_host": "127.0.0.1", "email_username": USER,
                                    "email_auth": "oauth2"}, env_file=None).of(EmailSettings)
        with pytest.raises(ValueError, match="needs ECHTZEIT_EMAIL_OAUTH_CLIENT_ID, "
                                             "ECHTZEIT_EMAIL_OAUTH_CLIENT_SECRET, "
                                             "ECHTZEIT_EMAIL_OAUTH_TENANT"):
            oauth_parts(bare, tls, token_client, clock)


async def test_the_fake_token_endpoints_answer_as_rfc_6749_has_it(
    issuer: TokenIssuer, google: TokenIssuer, clock: Any,
) -> None:
    """Each answer the fake gives the real client (tokens and refusals) is a §5.1 or §5.2
    answer, and each request was a form-encoded POST with nothing in the query."""
    answers: list[tuple[int, Any]] = []

    def route(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and not request.url.query
        fake = google if request.url.host == "oauth2.googleapis.com" else issuer
        response = fake.handler(request)
        answers.append((response.status_code, json.loads(response.content)))
        return response

    async with httpx.AsyncClient(transport=httpx.MockTransport(route)) as client:
        for fake, wrong in ((issuer, {}), (issuer, {"client_secret": "wrong"}),
                            (issuer, {"client_id": "0000-unknown"}),
                            (issuer, {"scope": "https://outlook.office365.com/SMTP.Send"}),
                            (google, {}), (google, {"refresh_token": "1//revoked"}),
                            (google, {"client_secret": "wrong"})):
            token = email_oauth.MailToken(
                client, token_url=fake.url, client_id=wrong.get("client_id", fake.client_id),
                client_secret=wrong.get("client_secret", CLIENT_SECRET),
                refresh_token=wrong.get("refresh_token", REFRESH) if fake is google else None,
                scope=wrong.get("scope"), clock=clock.seconds)
            if wrong:
                with pytest.raises(email_oauth.TokenError):
                    await token.ready()
            else:
                assert await token.ready() in fake.issued
    assert [status for status, _ in answers] == [200, 401, 400, 400, 200, 400, 401]
    problems = [p for status, body in answers
                for p in check_token_answer("email", status, body, "token answer")]
    assert problems == []
