"""E-mail: an IMAP mailbox as a source (new mail in one folder), replies by SMTP in the mail's
thread. The mail itself becomes a Post in integrations/networks/email_mail.py.

The standard library's `imaplib` and `smtplib` (run in a worker thread, one short connection per
poll or reply) speak the protocols: they are kept with CPython, cover TLS, STARTTLS and LOGIN,
and need no dependency; the async clients on PyPI add one for no gain at a poll a minute.

Source: every `interval` seconds, connect (implicit TLS, STARTTLS, or plain only to a local
bridge), LOGIN, EXAMINE the folder (read-only: nothing is marked seen), `UID SEARCH UID n:*`,
and `UID FETCH` each new mail's size, then its bytes (`BODY.PEEK[]`; a mail over the size cap
only its header). The cursor is `{"uidvalidity": V, "uid": last UID read}` (RFC 3501 2.3.1.1:
a UID names the same mail only while the folder's UIDVALIDITY stays): a restart reads after
it, so nothing is skipped or read twice. When UIDVALIDITY changes (the folder was rebuilt or
restored) the UIDs mean nothing any more: this is logged and the folder is read again from
its first UID, 100 mails a round; mail already stored is dropped by its Message-ID. The first
start reads the newest 50 mails. A mail that cannot be read (no From address, nothing to show)
is logged with its UID and skipped: it stays in the mailbox.

Sign-in: LOGIN (IMAP) and AUTH PLAIN (SMTP) with the password, or with ECHTZEIT_EMAIL_AUTH=oauth2
SASL XOAUTH2 with an OAuth 2.0 access token (integrations/networks/email_oauth.py: Microsoft
365's client-credentials grant or a refresh-token grant, the token cached until shortly before
it expires). The token is made ready on the event loop before a worker thread connects.

Responder: a plain-text reply from the configured address to the mail's From address, with
`Subject: Re: ...`, `In-Reply-To` and `References` (RFC 5322 3.6.4), so that the customer's
client threads it. Its Message-ID is derived from the recorded reply's id
(`<echtzeit.r<id>.<hash>@<from domain>>`): before sending, the Sent folder is searched for the
Message-IDs of this reply and of the mention's earlier replies not known as sent; one found
means that reply went out (a crash came between SMTP's 250 and the record), so nothing is sent
again. After sending, the reply is appended to the Sent folder unless the server put it there
(Gmail does). docs/networks.md, "E-mail", names the residual risk.
"""

from __future__ import annotations

import asyncio
import hashlib
import imaplib
import ipaddress
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from bot.clock import utcnow
from bot.domain import Post, ReplyState
from bot.models import Mention
from bot.networks import Batch, PostedReply, ReplyRejected, ReplyUncertain, length_problem
from integrations.networks import email_mail, specs
from integrations.networks.email_oauth import (
    MICROSOFT_ACCESS,
    MICROSOFT_TOKEN_URL,
    MailToken,
    Refused,
    TokenError,
    imap_sign_in,
    smtp_sign_in,
)
from integrations.networks.http_common import Sleep
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import EmailSettings

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

NETWORK = email_mail.NETWORK
FIRST_READ = 50  # the newest mails read on the first start
PER_ROUND = 100  # mails read in one round at most (a backlog takes several)
MAX_REPLY = specs.EMAIL.reply_limit or 50_000
TIMEOUT = 30.0
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_DEFAULT_PORTS = {"imap": {"tls": 993, "starttls": 143, "plain": 143},
                  "smtp": {"tls": 465, "starttls": 587, "plain": 25}}


class MailboxError(Exception):
    """The IMAP or SMTP server refused something (the message names what, never a secret)."""


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    """Where and how to sign in to one server (IMAP or SMTP)."""

    host: str
    port: int
    security: str  # tls | starttls | plain
    username: str
    password: str = field(repr=False)
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    timeout: float = TIMEOUT
    # Set: sign in with SASL XOAUTH2 and this token instead of the password.
    token: MailToken | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.security not in ("tls", "starttls", "plain"):
            raise ValueError(f"unknown security {self.security!r}: tls, starttls or plain")
        if self.security == "plain" and not _loopback(self.host):
            raise ValueError(f"plain (unencrypted) sign-in is only allowed to a local bridge "
                             f"(127.0.0.1, localhost), not to {self.host}: use tls or starttls")

    def context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def bearer(self) -> str:
        """The access token made ready last (in a worker thread, after `ready`)."""
        access = self.token.access if self.token is not None else None
        if access is None:
            raise TokenError("no OAuth access token is at hand (the last one was refused)")
        return access


async def ready_tokens(*endpoints: Endpoint | None) -> None:
    """Fetch the endpoints' OAuth access token if it is missing or about to expire (on the
    event loop, before a worker thread signs in with it); raises TokenError."""
    for e in endpoints:
        if e is not None and e.token is not None:
            await e.token.ready()


def _quoted(mailbox: str) -> str:
    """A folder name as an IMAP quoted string (names with spaces, "Sent Items")."""
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: Any) -> str:
    parts = data if isinstance(data, list) else [data]
    return " ".join(p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p)
                    for p in parts if p is not None)[:300]


@dataclass(frozen=True, slots=True)
class Fetched:
    """One mail read from the folder: its UID and bytes (`whole` False: header only)."""

    uid: int
    raw: bytes
    size: int
    whole: bool


class Mailbox:
    """Blocking IMAP work (called in a worker thread): one connection per call."""

    def __init__(self, endpoint: Endpoint, *, max_bytes: int) -> None:
        self.endpoint = endpoint
        self.max_bytes = max_bytes

    def _open(self) -> imaplib.IMAP4:
        e = self.endpoint
        try:
            if e.security == "tls":
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(e.host, e.port, ssl_context=e.context(),
                                                        timeout=e.timeout)
            else:
                imap = imaplib.IMAP4(e.host, e.port, timeout=e.timeout)
                if e.security == "starttls":
                    imap.starttls(ssl_context=e.context())
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"cannot reach IMAP server {e.host}:{e.port}: {exc}") from exc
        try:
            if e.token is not None:
                imap_sign_in(imap, e.username, e.bearer())
            else:
                imap.login(e.username, e.password)
        except Refused as exc:
            _close(imap)
            assert e.token is not None
            e.token.forget()
            raise MailboxError(f"IMAP sign-in (XOAUTH2) as {e.username} refused: {exc}; "
                               f"{MICROSOFT_ACCESS}") from None
        except TokenError as exc:
            _close(imap)
            raise MailboxError(f"IMAP sign-in as {e.username}: {exc}") from None
        except imaplib.IMAP4.error as exc:
            _close(imap)
            raise MailboxError(f"IMAP login as {e.username} refused: {exc}") from exc
        return imap

    async def ready(self) -> None:
        """The OAuth token for the next connections (MailboxError when none can be had)."""
        try:
            await ready_tokens(self.endpoint)
        except TokenError as exc:
            raise MailboxError(f"no OAuth access token for {self.endpoint.username}: "
                               f"{exc}") from None

    def check(self) -> str:
        """Sign in and log out: the account's name."""
        imap = self._open()
        _close(imap)
        return self.endpoint.username

    def _select(self, imap: imaplib.IMAP4, folder: str, *, readonly: bool) -> int:
        typ, data = imap.select(_quoted(folder), readonly=readonly)
        if typ != "OK":
            raise MailboxError(f"cannot open IMAP folder {folder!r}: {_text(data)}")
        _, values = imap.response("UIDVALIDITY")
        try:
            return int(values[0])
        except (TypeError, ValueError, IndexError) as exc:
            raise MailboxError(f"IMAP folder {folder!r} has no UIDVALIDITY") from exc

    def read_new(self, folder: str, state: dict[str, Any],
                 ) -> tuple[int, list[Fetched], int]:
        """The folder's UIDVALIDITY, the mails after the cursor `state` (at most PER_ROUND),
        and the last UID read."""
        imap = self._open()
        try:
            validity = self._select(imap, folder, readonly=True)
            known = state.get("uidvalidity")
            last = state.get("uid")
            first_start = not isinstance(known, int) or not isinstance(last, int)
            if not first_start and known != validity:
                log.warning("email: UIDVALIDITY of %s changed from %s to %s (the folder was "
                            "rebuilt): reading it again from its first mail; mail already "
                            "stored is dropped by its Message-ID", folder, known, validity)
                last = 0
            start = 1 if first_start else int(last or 0) + 1
            typ, data = imap.uid("SEARCH", "UID", f"{start}:*")
            if typ != "OK":
                raise MailboxError(f"IMAP search in {folder!r} failed: {_text(data)}")
            uids = sorted(int(u) for u in b" ".join(d for d in data if d).split() if u.isdigit())
            # "n:*" names the last mail even when its UID is below n (RFC 3501 6.4.8).
            uids = [u for u in uids if u >= start]
            if first_start:
                uids = uids[-FIRST_READ:]
            uids = uids[:PER_ROUND]
            if not uids:
                return validity, [], (start - 1 if not first_start else 0)
            sizes = self._sizes(imap, uids)
            fetched = [self._fetch(imap, uid, sizes.get(uid, 0)) for uid in uids]
            return validity, [f for f in fetched if f is not None], uids[-1]
        finally:
            _close(imap)

    def _sizes(self, imap: imaplib.IMAP4, uids: Sequence[int]) -> dict[int, int]:
        typ, data = imap.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
        if typ != "OK":
            raise MailboxError(f"IMAP fetch failed: {_text(data)}")
        sizes: dict[int, int] = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def _fetch(self, imap: imaplib.IMAP4, uid: int, size: int) -> Fetched | None:
        whole = size <= self.max_bytes
        what = "BODY.PEEK[]" if whole else "BODY.PEEK[HEADER]"
        typ, data = imap.uid("FETCH", str(uid), f"(UID {what})")
        if typ != "OK":
            raise MailboxError(f"IMAP fetch of UID {uid} failed: {_text(data)}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return Fetched(uid=uid, raw=item[1], size=size, whole=whole)
        log.error("email: UID %s is gone from the folder (expunged while reading); skipped",
                  uid)
        return None

    # --- the Sent folder (the responder) ------------------------------------------------------

    def find(self, folder: str, message_ids: Sequence[str]) -> set[str]:
        """Which of `message_ids` (without <>) a mail in `folder` carries."""
        if not message_ids:
            return set()
        imap = self._open()
        try:
            self._select(imap, folder, readonly=True)
            found = set()
            for mid in message_ids:
                typ, data = imap.uid("SEARCH", "HEADER", "Message-ID", _quoted(f"<{mid}>"))
                if typ != "OK":
                    raise MailboxError(f"IMAP search in {folder!r} failed: {_text(data)}")
                if any(d.split() for d in data if d):
                    found.add(mid)
            return found
        finally:
            _close(imap)

    def original(self, folder: str, mid: str) -> bytes | None:
        """The header of the mail `mid` in `folder`, or None when it is not there."""
        imap = self._open()
        try:
            self._select(imap, folder, readonly=True)
            typ, data = imap.uid("SEARCH", "HEADER", "Message-ID", _quoted(f"<{mid}>"))
            uids = b" ".join(d for d in data if d).split() if typ == "OK" else []
            if not uids:
                return None
            typ, data = imap.uid("FETCH", uids[0].decode(), "(UID BODY.PEEK[HEADER])")
            for item in data if typ == "OK" else []:
                if isinstance(item, tuple) and isinstance(item[1], bytes):
                    return item[1]
            return None
        finally:
            _close(imap)

    def append(self, folder: str, raw: bytes) -> None:
        imap = self._open()
        try:
            typ, data = imap.append(_quoted(folder), r"(\Seen)",
                                    imaplib.Time2Internaldate(time.time()), raw)
            if typ != "OK":
                raise MailboxError(f"IMAP append to {folder!r} failed: {_text(data)}")
        finally:
            _close(imap)


def _close_smtp(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


def _close(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


# --- the source ---------------------------------------------------------------------------------


class EmailSource(PollingSource):
    """New mail in one IMAP folder."""

    def __init__(self, mailbox: Mailbox, *, folder: str, own: str | None, interval: float,
                 authserv_id: str | None = None, sleep: Sleep = asyncio.sleep,
                 now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.mailbox = mailbox
        self.authserv_id = authserv_id
        self.folder = folder
        self.own = (own or "").lower() or None
        self.now = now
        e = mailbox.endpoint
        self.name = f"email:{e.username}@{e.host}/{folder}"

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor)
        await self.mailbox.ready()
        validity, fetched, last = await asyncio.to_thread(
            self.mailbox.read_new, self.folder, state)
        posts = [p for p in (self._post(f, validity) for f in fetched) if p is not None]
        return Batch(posts=posts, cursor=dump_cursor({"uidvalidity": validity, "uid": last}))

    def url(self, validity: int, uid: int) -> str:
        """The mail's IMAP URL (RFC 5092), which mail clients open."""
        e = self.mailbox.endpoint
        return (f"imap://{quote(e.username, safe='')}@{e.host}/{quote(self.folder)}"
                f";UIDVALIDITY={validity}/;UID={uid}")

    def _post(self, mail: Fetched, validity: int) -> Post | None:
        note = None if mail.whole else (
            f"mail of {mail.size} bytes is over the {self.mailbox.max_bytes}-byte cap: its body "
            "was not read; open it in the mailbox")
        try:
            msg = email_mail.parse(mail.raw)
            if email_mail.automatic(msg):
                log.info("email: UID %s in %s is an automatic mail (auto-reply, bounce, bulk): "
                         "not a mention", mail.uid, self.folder)
                return None
            post = email_mail.mail_to_post(mail.raw, url=self.url(validity, mail.uid),
                                           received=self.now(), note=note,
                                           authserv_id=self.authserv_id)
        except Exception as exc:  # one bad mail must never stop the source (nor loop on it)
            log.error("email: UID %s in %s cannot be read (%s); skipped, it stays in the "
                      "mailbox", mail.uid, self.folder, exc)
            return None
        if self.own and post.author.handle == self.own:
            return None  # our own replies (a Sent copy filed into the folder) are not mentions
        return post


# --- the responder ------------------------------------------------------------------------------


def reply_message_id(key: str, original: str, domain: str) -> str:
    """The reply's Message-ID (without <>): the same for the same recorded reply, so a retry
    can find it in the Sent folder."""
    digest = hashlib.sha256(f"{key}\n{original}".encode()).hexdigest()[:16]
    return f"echtzeit.{key}.{digest}@{domain}"


@dataclass(frozen=True, slots=True)
class Thread:
    """What a reply needs of the mail it answers."""

    to: str
    subject: str
    message_id: str
    references: tuple[str, ...]


def reply_subject(subject: str) -> str:
    subject = " ".join(subject.split())
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


class EmailResponder:
    """Plain-text replies by SMTP, threaded, never sent twice (see the module's docstring)."""

    network = NETWORK
    max_chars = MAX_REPLY

    def __init__(self, smtp: Endpoint, *, from_address: str, mailbox: Mailbox | None,
                 folder: str, sent_folder: str | None, store: Store | None,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.smtp = smtp
        self.from_address = from_address
        pairs = getaddresses([from_address])
        self.from_addr = pairs[0][1].lower() if pairs else ""
        if "@" not in self.from_addr:
            raise ValueError(f"the From address {from_address!r} is not an address")
        self.domain = self.from_addr.rsplit("@", 1)[1]
        self.mailbox = mailbox
        self.folder = folder
        self.sent_folder = sent_folder or None
        self.store = store
        self.now = now
        self.sent = 0  # messages handed to SMTP by this process (tests, metrics)

    def check(self, text: str) -> str | None:
        return length_problem(NETWORK, text, MAX_REPLY)

    def _records(self, mention: Mention) -> tuple[str | None, list[int], str | None,
                                                  str | None]:
        """(key of the reply being sent, earlier unsettled reply ids, the author's address,
        the mention's first line) from the store."""
        if self.store is None or mention.id is None:
            return None, [], None, None
        view = self.store.view(mention.id)
        open_ = [r.id for r in view.replies
                 if r.state in (ReplyState.PENDING.value, ReplyState.UNKNOWN.value)
                 and r.id is not None]
        current = max(open_) if open_ else None
        earlier = [r.id for r in view.replies if r.id is not None and r.id != current
                   and r.state in (ReplyState.UNKNOWN.value, ReplyState.FAILED.value,
                                   ReplyState.PENDING.value)]
        first_line = mention.text.split("\n", 1)[0]
        return (f"r{current}" if current is not None else None, earlier,
                view.author.handle, first_line)

    def _thread(self, mention: Mention, author: str | None, first_line: str | None) -> Thread:
        header = None
        if self.mailbox is not None:
            try:
                header = self.mailbox.original(self.folder, mention.external_id)
            except MailboxError as exc:
                log.warning("email: the original of %s is not readable (%s); replying from "
                            "what is stored", mention.external_id, exc)
        if header is not None:
            msg = email_mail.parse(header)
            to, _ = email_mail.sender(msg)
            subject = str(msg.get("Subject") or "")
            refs = email_mail.references(msg)
        else:
            if not author or "@" not in author:
                raise ReplyRejected(f"the mail {mention.external_id} is not in {self.folder} "
                                    "and its sender is unknown")
            to, subject = author, first_line or ""
            refs = [mention.in_reply_to] if mention.in_reply_to else []
        return Thread(to=to, subject=subject, message_id=mention.external_id,
                      references=tuple(r for r in refs if r != mention.external_id))

    def compose(self, thread: Thread, text: str, message_id: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.from_address
        msg["To"] = thread.to
        msg["Subject"] = reply_subject(thread.subject)
        msg["Date"] = format_datetime(self.now())
        msg["Message-ID"] = f"<{message_id}>"
        msg["In-Reply-To"] = f"<{thread.message_id}>"
        refs = [*thread.references[-19:], thread.message_id]
        msg["References"] = " ".join(f"<{r}>" for r in refs)
        msg["Auto-Submitted"] = "no"
        msg.set_content(text)  # text/plain; utf-8, quoted-printable or 8bit as needed
        return msg

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        if mention.network != NETWORK or "@" not in mention.external_id:
            raise ReplyRejected(f"not a mail: {mention.external_id}")
        try:
            await ready_tokens(self.smtp, self.mailbox.endpoint if self.mailbox else None)
        except TokenError as exc:
            raise ReplyRejected(f"no OAuth access token, so nothing was sent: {exc}") from None
        key, earlier, author, first_line = await asyncio.to_thread(self._records, mention)
        if key is None:
            key = "m" + hashlib.sha256(f"{mention.id}\n{text}".encode()).hexdigest()[:12]
        mid = reply_message_id(key, mention.external_id, self.domain)
        thread = await asyncio.to_thread(self._thread, mention, author, first_line)
        if self.mailbox is not None and self.sent_folder:
            wanted = {reply_message_id(f"r{r}", mention.external_id, self.domain): r
                      for r in earlier}
            try:
                found = await asyncio.to_thread(self.mailbox.find, self.sent_folder,
                                                [mid, *wanted])
            except MailboxError as exc:
                raise ReplyRejected(f"the Sent folder could not be checked for an earlier "
                                    f"copy, so nothing was sent: {exc}") from exc
            if mid in found:
                log.warning("email: reply %s is already in %s (sent before a crash): not sent "
                            "again", mid, self.sent_folder)
                return PostedReply(id=mid, url=None)
            for other, rid in wanted.items():
                if other in found:
                    raise ReplyRejected(
                        f"reply {rid} to this mail is in {self.sent_folder}, so it did go out; "
                        f"say `settle {rid} posted` instead of sending another")
        msg = self.compose(thread, text, mid)
        await asyncio.to_thread(self._send, msg)
        if self.mailbox is not None and self.sent_folder:
            try:
                await asyncio.to_thread(self._file_sent, msg, mid)
            except MailboxError as exc:
                log.warning("email: reply %s was sent but not filed in %s: %s", mid,
                            self.sent_folder, exc)
        return PostedReply(id=mid, url=None)

    def _file_sent(self, msg: EmailMessage, mid: str) -> None:
        assert self.mailbox is not None and self.sent_folder
        if mid not in self.mailbox.find(self.sent_folder, [mid]):
            self.mailbox.append(self.sent_folder, bytes(msg))

    def _connect(self) -> smtplib.SMTP:
        e = self.smtp
        smtp: smtplib.SMTP | None = None
        try:
            if e.security == "tls":
                smtp = smtplib.SMTP_SSL(e.host, e.port, timeout=e.timeout, context=e.context())
            else:
                smtp = smtplib.SMTP(e.host, e.port, timeout=e.timeout)
                if e.security == "starttls":
                    smtp.starttls(context=e.context())
            if e.token is not None:
                try:
                    smtp_sign_in(smtp, e.username, e.bearer())
                except Refused as exc:
                    e.token.forget()
                    raise ReplyRejected(f"SMTP sign-in (XOAUTH2) as {e.username} refused: "
                                        f"{exc}; {MICROSOFT_ACCESS}") from None
                except TokenError as exc:
                    raise ReplyRejected(f"SMTP sign-in as {e.username}: {exc}") from None
            elif e.username:
                smtp.ehlo_or_helo_if_needed()
                if "PLAIN" in smtp.esmtp_features.get("auth", "").upper().split():
                    # One round trip, and no second try with another mechanism after a
                    # refusal (smtplib's login() walks through them all).
                    smtp.user, smtp.password = e.username, e.password
                    smtp.auth("PLAIN", smtp.auth_plain)
                else:
                    smtp.login(e.username, e.password)
        except ReplyRejected:
            _close_smtp(smtp)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _close_smtp(smtp)
            raise ReplyRejected(f"SMTP login as {e.username} refused: {exc.smtp_code} "
                                f"{_text(exc.smtp_error)}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            _close_smtp(smtp)
            raise ReplyRejected(f"cannot reach SMTP server {e.host}:{e.port}: {exc}") from exc
        return smtp

    def _send(self, msg: EmailMessage) -> None:
        smtp = self._connect()
        try:
            refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ReplyRejected(f"the SMTP server refused the recipient: "
                                f"{_text(list(map(str, exc.recipients.values())))}") from exc
        except smtplib.SMTPResponseException as exc:
            # The server answered with an error: the mail was not accepted.
            raise ReplyRejected(f"the SMTP server refused the mail: {exc.smtp_code} "
                                f"{_text(exc.smtp_error)}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            # The connection broke: the server may or may not have taken it.
            raise ReplyUncertain(f"SMTP connection lost while sending: {exc}") from exc
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        if refused:
            raise ReplyRejected(f"the SMTP server refused {', '.join(refused)}")
        self.sent += 1


# --- the plug-in --------------------------------------------------------------------------------


def configured(s: EmailSettings) -> bool:
    """The settings name a mailbox and a way to sign in to it."""
    return bool(s.imap_host and s.username and (s.password or s.auth == "oauth2"))


def mail_token(s: EmailSettings, client: httpx.AsyncClient | None, *,
               sleep: Sleep = asyncio.sleep,
               clock: Callable[[], float] = time.monotonic) -> MailToken:
    """The OAuth token of ECHTZEIT_EMAIL_AUTH=oauth2; ValueError naming what is missing."""
    missing = [name for name, value in (("CLIENT_ID", s.oauth_client_id),
                                        ("CLIENT_SECRET", s.oauth_client_secret)) if not value]
    refresh = secret(s.oauth_refresh_token)
    if refresh and not s.oauth_token_url:
        missing.append("TOKEN_URL")
    if not refresh and not (s.oauth_tenant or s.oauth_token_url):
        missing.append("TENANT (Microsoft 365) or _REFRESH_TOKEN and _TOKEN_URL (Google)")
    if missing:
        raise ValueError("ECHTZEIT_EMAIL_AUTH=oauth2 needs " + ", ".join(
            f"ECHTZEIT_EMAIL_OAUTH_{m}" for m in missing))
    if client is None:
        raise ValueError("ECHTZEIT_EMAIL_AUTH=oauth2 needs the HTTP client")
    url = s.oauth_token_url or MICROSOFT_TOKEN_URL.format(
        tenant=quote(s.oauth_tenant or "", safe=""))
    return MailToken(client, token_url=url, client_id=s.oauth_client_id or "",
                     client_secret=secret(s.oauth_client_secret), refresh_token=refresh or None,
                     scope=s.oauth_scope or None, sleep=sleep, clock=clock)


def components(s: EmailSettings, *, store: Store | None, interval: float,
               ssl_context: ssl.SSLContext | None = None, sleep: Sleep = asyncio.sleep,
               now: Callable[[], datetime] = utcnow, client: httpx.AsyncClient | None = None,
               clock: Callable[[], float] = time.monotonic,
               ) -> tuple[EmailSource, EmailResponder | None, Mailbox]:
    """The source, the responder (only with an SMTP host) and the mailbox they share. Raises
    ValueError for settings that cannot work (plain to a remote host, no From address, OAuth
    settings missing). `client` is the shared httpx client (the token endpoint, with oauth2);
    `clock` the monotonic clock of the token's lifetime."""
    if not (s.imap_host and s.username and configured(s)):
        raise ValueError("set ECHTZEIT_EMAIL_IMAP_HOST, ECHTZEIT_EMAIL_USERNAME and "
                         "ECHTZEIT_EMAIL_PASSWORD (or ECHTZEIT_EMAIL_AUTH=oauth2)")
    token = mail_token(s, client, sleep=sleep, clock=clock) if s.auth == "oauth2" else None
    imap = Endpoint(s.imap_host, s.imap_port or _DEFAULT_PORTS["imap"][s.imap_security],
                    s.imap_security, s.username, secret(s.password), ssl_context,
                    token=token)
    mailbox = Mailbox(imap, max_bytes=s.max_bytes)
    from_address = s.from_address or (s.username if "@" in s.username else None)
    own = getaddresses([from_address])[0][1] if from_address else None
    source = EmailSource(mailbox, folder=s.folder, own=own, interval=interval,
                         authserv_id=s.authserv_id, sleep=sleep, now=now)
    responder = None
    if s.smtp_host:
        if not from_address:
            raise ValueError("set ECHTZEIT_EMAIL_FROM_ADDRESS (the user name is no address)")
        smtp = Endpoint(s.smtp_host, s.smtp_port or _DEFAULT_PORTS["smtp"][s.smtp_security],
                        s.smtp_security, s.smtp_username or s.username,
                        secret(s.smtp_password) or secret(s.password), ssl_context,
                        token=token)
        responder = EmailResponder(smtp, from_address=from_address, mailbox=mailbox,
                                   folder=s.folder, sent_folder=s.sent_folder or None,
                                   store=store, now=now)
    return source, responder, mailbox


async def verify(mailbox: Mailbox, responder: EmailResponder | None) -> str:
    """Sign in to IMAP (and SMTP): the account."""
    try:
        await mailbox.ready()
        who = await asyncio.to_thread(mailbox.check)
    except MailboxError as exc:
        raise MailboxError(str(exc)) from None
    if responder is not None:
        def smtp_check() -> None:
            responder._connect().quit()

        try:
            await ready_tokens(responder.smtp)
            await asyncio.to_thread(smtp_check)
        except (ReplyRejected, TokenError, OSError, smtplib.SMTPException) as exc:
            raise MailboxError(f"IMAP works, SMTP does not: {exc}") from None
    return who


def build(ctx: BuildContext[EmailSettings]) -> Parts | None:
    s = ctx.settings
    if not configured(s):
        return None
    try:
        source, responder, mailbox = components(s, store=ctx.store,
                                                interval=ctx.shared.poll_seconds,
                                                client=ctx.client)
    except ValueError as exc:
        log.error("e-mail is off: %s", exc)
        return None
    what = f"new mail in {s.folder} of {s.username} on {s.imap_host} ({s.imap_security}"
    what += f", OAuth 2.0 {mailbox.endpoint.token.grant} grant)" \
        if mailbox.endpoint.token is not None else ")"
    if responder is not None:
        what += f"; replies from {responder.from_addr} via {s.smtp_host}"
    return Parts(sources=[source], responder=responder,
                 check=(what, lambda: verify(mailbox, responder)))


PLUGIN = Plugin(spec=specs.EMAIL, settings=EmailSettings, build=build)
