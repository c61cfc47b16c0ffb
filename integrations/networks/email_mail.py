"""One e-mail as a Post: the pure part of the e-mail plug-in (integrations/networks/email_net.py).

Parsed by the standard library (`email`, policy=default: RFC 5322 headers, MIME, RFC 2047
encoded words, charsets). Everything in a mail is untrusted:

- the author is the From *address*, lower-cased (the display name is shown as the name, never
  trusted for identity; the address itself can be forged: with the mailbox server's
  authserv-id configured, a mail without its `dmarc=pass` says "sender not verified";
  docs/networks.md says what that means for linking people);
- the text is the Subject and the body: text/plain preferred, else HTML reduced to text by
  BeautifulSoup (scripts, styles and other non-content removed; a link shows its real target
  next to its text, and only http(s)/mailto targets are shown at all, so a link is never
  disguised); quoted replies and signatures trimmed; attachments listed by file name only;
- a body over `max_chars` is cut; an undecodable charset is read with replacement characters
  (and says so), never an exception;
- threading: `external_id` is the Message-ID (without <>; a mail without one gets a stable id
  from a hash of its bytes), `in_reply_to` the In-Reply-To (else the last References entry),
  `quotes` the thread's root (the first References entry), so that a customer's follow-up to
  our reply (whose Message-ID is not a stored mention) still joins the story of the first mail.

A mail that cannot be made a Post raises ValueError with a clear message; the source logs it and
goes on (docs/networks.md).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import Any

from bs4 import BeautifulSoup, Comment

from bot.domain import Author, Post

NETWORK = "email"
MAX_CHARS = 20_000  # body characters kept on a card (the rest is in the mailbox)
MAX_ATTACHMENTS = 20  # file names listed
MAX_RECIPIENTS = 5  # addresses shown after "to:"
_ID = re.compile(r"<([^<>\s]+)>")
_WS = re.compile(r"[ \t\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")
# Lines that start the quoted earlier mail (Gmail, Apple Mail, Thunderbird, Outlook; English
# and German), and the RFC 3676 signature separator.
_QUOTE_HEADERS = (
    re.compile(r"^On .{1,200}wrote:\s*$"),
    re.compile(r"^Am .{1,200}schrieb.{0,200}:\s*$"),
    re.compile(r"^-{2,}\s*(Original Message|Ursprüngliche Nachricht)\s*-{2,}\s*$", re.I),
    re.compile(r"^_{20,}\s*$"),  # Outlook's line above it
)
# Outlook's quoted header block: "From: ..." with "Sent: ..." (or Date) within the next lines.
_OUTLOOK_FROM = re.compile(r"^(From|Von):\s.+$")
_OUTLOOK_SENT = re.compile(r"^(Sent|Gesendet|Date|Datum):\s.+$")
_SIGNATURE = "-- "
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SHOWN_SCHEMES = ("http://", "https://", "mailto:")
_DROPPED = ("script", "style", "head", "title", "noscript", "template", "iframe", "object",
            "embed", "svg", "math", "form", "button", "select", "textarea", "meta", "link")
_BLOCKS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
           "pre", "table", "ul", "ol", "section", "article", "header", "footer", "hr")


def parse(raw: bytes) -> EmailMessage:
    """The mail as the standard library reads it (it never raises on malformed input; the
    problems are collected as `defects`)."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def message_id(value: str | None) -> str | None:
    """A Message-ID as stored and compared: the first <...> without the brackets."""
    if not value:
        return None
    found = _ID.search(value)
    if found:
        return found.group(1)
    bare = value.strip()
    return bare if bare and " " not in bare and "@" in bare else None


def references(msg: Message) -> list[str]:
    """The References header's ids, oldest first."""
    return [m.group(1) for m in _ID.finditer(_header(msg, "References") or "")]


def _header(msg: Message, name: str) -> str | None:
    """A header as text; a header the parser cannot read is None (never an exception)."""
    try:
        value = msg.get(name)
    except Exception:  # the stdlib's header parser fails in many ways on broken headers
        return None
    if value is None:
        return None
    return str(value)


def sender(msg: Message) -> tuple[str, str | None]:
    """(address lower-cased, display name) of the From header. ValueError without one."""
    try:
        header: Any = msg.get("From")
        addresses: tuple[Address, ...] = tuple(getattr(header, "addresses", ()) or ())
    except Exception as exc:  # the stdlib's header parser fails in many ways on broken headers
        raise ValueError(f"unreadable From header: {type(exc).__name__}") from exc
    for a in addresses:
        address = (a.addr_spec or "").strip().lower()
        if address and "@" in address and " " not in address:
            name = " ".join((a.display_name or "").split()) or None
            if name and "@" in name:
                name = None  # "Acme Support <support@acme.example>" <x@evil>: a disguise
            name = name[:100] if name else None
            return address, name
    raise ValueError("no From address")


def recipients(msg: Message, *, limit: int = MAX_RECIPIENTS) -> list[str]:
    """The addresses the mail was sent to (Delivered-To, To, Cc), lower-cased, each once, at
    most `limit`: a brand's query can name its support address to take all mail to it (a
    shared mailbox with an address per brand routes by them). Unreadable headers give none."""
    found: list[str] = []
    for name in ("Delivered-To", "To", "Cc"):
        try:
            values = msg.get_all(name) or []
            addresses = [a for v in values for a in (getattr(v, "addresses", ()) or ())]
        except Exception:  # the stdlib's header parser fails in many ways on broken headers
            continue
        for a in addresses:
            address = (getattr(a, "addr_spec", "") or "").strip().lower()
            if ("@" in address and " " not in address and len(address) <= 254
                    and address not in found):
                found.append(address)
    return found[:limit]


def sent_at(msg: Message, fallback: datetime) -> datetime:
    """The Date header in UTC; `fallback` (when the mailbox received it) without a valid one."""
    value = _header(msg, "Date")
    try:
        at = parsedate_to_datetime(value) if value else None
    except (ValueError, TypeError, IndexError):
        at = None
    if at is None or at.tzinfo is None:
        return fallback
    return at.astimezone(UTC)


def _decoded(part: Message) -> tuple[str, bool]:
    """A text part's text, and whether its charset was wrong (read with replacements)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return "", False
    charset = part.get_content_charset() or "us-ascii"
    try:
        return payload.decode(charset), False
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace"), True
    except UnicodeDecodeError:
        return payload.decode(charset, errors="replace"), True


def html_to_text(html: str) -> str:
    """HTML as plain text: no scripts, styles or comments; each link shown as `text (target)`
    with its real target (only http, https and mailto targets are shown; a javascript: or
    data: link keeps its text only); images by their alt text."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    for hidden in soup.find_all(style=_HIDDEN):
        hidden.decompose()  # text the sender hid from the reader is not shown either
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for img in soup.find_all("img"):
        alt = str(img.get("alt") or "").strip()
        img.replace_with(f"[image: {alt}]" if alt else "")
    for a in soup.find_all("a"):
        href = str(a.get("href") or "").strip()
        text = a.get_text(" ", strip=True)
        shown = href if href.lower().startswith(_SHOWN_SCHEMES) else ""
        if shown.lower().startswith("mailto:"):
            shown = shown[len("mailto:"):].split("?", 1)[0]
        if shown and text and text != shown:
            a.replace_with(f"{text} ({shown})")
        else:
            a.replace_with(text or shown)
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text("")
    lines = [_WS.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def trim_quoted(text: str) -> str:
    """The new part of a reply: without quoted lines (">"), the quoted mail after "On ... wrote:"
    and its kin, and the signature after "-- "."""
    kept: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    for n, line in enumerate(lines):
        starts_quote = line == _SIGNATURE or any(p.match(line.strip()) for p in _QUOTE_HEADERS)
        if not starts_quote and _OUTLOOK_FROM.match(line.strip()):
            starts_quote = any(_OUTLOOK_SENT.match(x.strip()) for x in lines[n + 1:n + 4])
        if starts_quote and any(k.strip() for k in kept):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return _BLANKS.sub("\n\n", "\n".join(kept)).strip()


def attachments(msg: EmailMessage) -> list[str]:
    """File names of the attachments (their content is never read)."""
    names: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            name = part.get_filename()
        except (ValueError, TypeError, IndexError, LookupError):
            name = None
        if name or part.get_content_disposition() == "attachment":
            names.append(_WS.sub(" ", (name or "unnamed").replace("\n", " ")).strip()[:120])
    return names


def body(msg: EmailMessage) -> tuple[str, list[str]]:
    """The body's text (text/plain preferred, else HTML reduced) and notes on problems."""
    notes: list[str] = []
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except (ValueError, TypeError, IndexError, LookupError, AttributeError):
        part = None
    if part is None:
        return "", notes
    text, bad = _decoded(part)
    if bad:
        notes.append(f"charset {part.get_content_charset() or '?'} did not fit: "
                     "some characters replaced")
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return trim_quoted(text), notes


def raw_id(raw: bytes) -> str:
    """A stable id for a mail without a Message-ID: a hash of its bytes."""
    return f"sha256-{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id.invalid"


def mail_to_post(raw: bytes, *, url: str, received: datetime, max_chars: int = MAX_CHARS,
                 note: str | None = None, authserv_id: str | None = None) -> Post:
    """One mail (its RFC 5322 bytes) as a Post; ValueError with a clear message when it cannot
    be one (no From address, nothing to show, MIME the standard library cannot walk)."""
    try:
        return _mail_to_post(raw, url=url, received=received, max_chars=max_chars, note=note,
                             authserv_id=authserv_id)
    except ValueError:
        raise
    except (AttributeError, TypeError, IndexError, KeyError, LookupError, AssertionError,
            RecursionError) as exc:
        # The stdlib parser reads anything; its lazy header and MIME accessors do not.
        raise ValueError(f"malformed mail ({type(exc).__name__} in the MIME structure)") from exc


def _mail_to_post(raw: bytes, *, url: str, received: datetime, max_chars: int,
                  note: str | None, authserv_id: str | None) -> Post:
    msg = parse(raw)
    address, name = sender(msg)
    mid = message_id(_header(msg, "Message-ID")) or raw_id(raw)
    refs = references(msg)
    parent = message_id(_header(msg, "In-Reply-To")) or (refs[-1] if refs else None)
    root = refs[0] if refs else None
    subject = _WS.sub(" ", (_header(msg, "Subject") or "").replace("\n", " ")).strip()
    text, notes = body(msg)
    if len(text) > max_chars:
        notes.append(f"body cut at {max_chars} characters")
        text = text[:max_chars].rstrip() + "…"
    if note:
        notes.append(note)
    verified = sender_verified(msg, authserv_id) if authserv_id else None
    if verified is False:
        notes.append(f"sender not verified: {authserv_id} found no DMARC pass for "
                     f"{address.rsplit('@', 1)[1]}")
    files = attachments(msg)
    parts = [subject, text]
    if files:
        listed = ", ".join(files[:MAX_ATTACHMENTS])
        more = len(files) - MAX_ATTACHMENTS
        parts.append(f"[attachments: {listed}{f' and {more} more' if more > 0 else ''}]")
    if not "".join(parts).strip():
        raise ValueError("neither subject nor text")
    to = recipients(msg)
    if to:  # as an App Store review carries its app's name: a query may name the address
        parts.append(f"(to: {', '.join(to)})")
    if notes:
        parts.append(f"[{'; '.join(notes)}]")
    shown = "\n\n".join(p for p in parts if p).strip()
    extra = {"subject": subject[:300]}
    if verified is not None:
        extra["sender_verified"] = "yes" if verified else "no"
    if refs:
        extra["references"] = " ".join(f"<{r}>" for r in refs[-20:])[:2000]
    return Post(
        network=NETWORK, external_id=mid, url=url,
        author=Author(handle=address, name=name, followers=None, url=f"mailto:{address}"),
        text=shown, created_at=sent_at(msg, received), in_reply_to=parent,
        quotes=root if root and root != parent else None, extra=extra)


def sender_verified(msg: Message, authserv_id: str) -> bool:
    """Whether the mailbox's own receiving server (`authserv_id`, e.g. mx.google.com) found
    the From domain aligned and authenticated: `dmarc=pass` in the topmost
    Authentication-Results header (RFC 8601) that names it. Headers further down, or of other
    servers, may come from the sender and are not trusted."""
    try:
        headers = msg.get_all("Authentication-Results") or []
    except Exception:  # the stdlib's header parser fails in many ways on broken headers
        return False
    wanted = authserv_id.strip().lower()
    for header in headers:
        first, _, rest = str(header).partition(";")
        if first.strip().split(" ")[0].lower() != wanted:
            continue
        results = {m.group(1).lower(): m.group(2).lower()
                   for m in re.finditer(r"(?:^|;)\s*([a-z-]+)\s*=\s*([a-z]+)", rest, re.I)}
        return results.get("dmarc") == "pass"
    return False


def automatic(msg: Message) -> bool:
    """An automatic mail (RFC 3834 Auto-Submitted, a bounce, a list's bulk mail): never a
    mention, never answered, so that two robots cannot answer each other forever."""
    auto = (_header(msg, "Auto-Submitted") or "no").strip().lower()
    precedence = (_header(msg, "Precedence") or "").strip().lower()
    return (auto != "no" or precedence in ("bulk", "junk", "auto_reply")
            or (_header(msg, "Content-Type") or "").startswith("multipart/report"))
