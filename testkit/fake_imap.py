"""A small, strict IMAP4rev1 server (RFC 3501) for the e-mail tests, on a loopback port.

It implements what a mail client needs to read a folder and file a sent mail, with the real
response syntax: CAPABILITY, STARTTLS, LOGIN, SELECT / EXAMINE (with UIDVALIDITY, UIDNEXT and
EXISTS), UID SEARCH (UID <set>, HEADER <field> <string>, ALL), UID FETCH (UID, RFC822.SIZE,
FLAGS, BODY[] / BODY.PEEK[], BODY[HEADER] / BODY.PEEK[HEADER] as literals), APPEND with a
synchronising literal, NOOP, LOGOUT. It enforces the protocol's states (nothing but
CAPABILITY, STARTTLS, NOOP, LOGOUT and LOGIN before login; UID commands only with a folder
selected; no LOGIN in clear when TLS is required: LOGINDISABLED / PRIVACYREQUIRED), answers
BAD to what it does not know and NO [AUTHENTICATIONFAILED] to a wrong password, and marks a
mail \\Seen when fetched with BODY[] (not BODY.PEEK[]) from a folder opened read-write.

With `oauth` (a testkit.fake_xoauth2.TokenIssuer) it is a mailbox whose basic auth is off, as
Exchange Online's: CAPABILITY offers AUTH=XOAUTH2, LOGIN is refused, and `AUTHENTICATE XOAUTH2`
(RFC 3501 6.2.2: an empty "+ " continuation, then the base64 of the XOAUTH2 string; an
initial response on the command line is BAD, as SASL-IR is not offered) signs in with a token
the issuer gave for this mailbox and that has not expired. A refused one gets Gmail's error
challenge (`+ ` and the base64 of a JSON error), and after the client's empty answer
`NO [AUTHENTICATIONFAILED]`.

Test controls: `deliver(folder, raw)`, `rebuild(folder)` (a new UIDVALIDITY, UIDs renumbered,
as after a restore), `commands` (every command line received, the LOGIN's password and any
SASL response masked).
"""

from __future__ import annotations

import base64
import re
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testkit.fake_xoauth2 import TokenIssuer

_ATOM = re.compile(rb'\s*("(?:[^"\\]|\\.)*"|\([^)]*\)|\{\d+\}|[^\s()"]+)')


@dataclass
class Stored:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class Folder:
    uidvalidity: int
    next_uid: int = 1
    mails: list[Stored] = field(default_factory=list)


class FakeImap:
    """The mailboxes and the server; `with FakeImap(...) as server:` listens on a free port."""

    def __init__(self, *, username: str, password: str, tls: ssl.SSLContext | None = None,
                 implicit_tls: bool = False, folders: tuple[str, ...] = ("INBOX", "Sent"),
                 oauth: TokenIssuer | None = None) -> None:
        self.oauth = oauth
        self.username = username
        self.password = password
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.folders = {name: Folder(uidvalidity=1_700_000_000 + i)
                        for i, name in enumerate(folders)}
        self.commands: list[str] = []
        self.logins = 0
        self.lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None

    # --- test controls -----------------------------------------------------------------------

    def deliver(self, folder: str, raw: bytes) -> int:
        with self.lock:
            f = self.folders[folder]
            uid = f.next_uid
            f.next_uid += 1
            f.mails.append(Stored(uid, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")))
            return uid

    def rebuild(self, folder: str) -> None:
        """A new UIDVALIDITY and fresh UIDs for the same mails."""
        with self.lock:
            f = self.folders[folder]
            f.uidvalidity += 1000
            for n, mail in enumerate(f.mails, start=1):
                mail.uid = n
            f.next_uid = len(f.mails) + 1

    def raw(self, folder: str) -> list[bytes]:
        with self.lock:
            return [m.raw for m in self.folders[folder].mails]

    # --- the server ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def __enter__(self) -> FakeImap:
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                _Session(fake, self).run()

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class _Session:
    def __init__(self, fake: FakeImap, handler: socketserver.StreamRequestHandler) -> None:
        self.fake = fake
        self.handler = handler
        self.sock = handler.request
        self.tls_on = False
        self.state = "NONAUTH"
        self.folder: str | None = None
        self.readonly = False
        self.reader: Any = None
        self.writer: Any = None

    def _streams(self) -> None:
        self.reader = self.sock.makefile("rb")
        self.writer = self.sock.makefile("wb")

    def send(self, line: bytes | str) -> None:
        data = line.encode() if isinstance(line, str) else line
        self.writer.write(data + b"\r\n")
        self.writer.flush()

    def run(self) -> None:
        try:
            self._run()
        except (OSError, ssl.SSLError):
            pass  # the client went away
        finally:
            for stream in (self.reader, self.writer):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass
            self.sock.close()

    def _run(self) -> None:
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.fake.implicit_tls:
            assert self.fake.tls is not None
            self.sock = self.fake.tls.wrap_socket(self.sock, server_side=True)
            self.tls_on = True
        self._streams()
        self.send(f"* OK [CAPABILITY {self._caps()}] Fake IMAP ready")
        while True:
            line = self.reader.readline(65536)
            if not line:
                return
            if not line.endswith(b"\r\n"):
                self.send("* BAD line not ended by CRLF")
                return
            if not self.command(line[:-2]):
                return

    def _caps(self) -> str:
        caps = ["IMAP4rev1", "UIDPLUS"]
        if self.fake.tls is not None and not self.tls_on:
            caps += ["STARTTLS", "LOGINDISABLED"]
        else:
            caps.append("AUTH=XOAUTH2" if self.fake.oauth is not None else "AUTH=PLAIN")
        return " ".join(caps)

    def command(self, line: bytes) -> bool:
        parts = line.split(b" ", 2)
        if len(parts) < 2:
            self.send("* BAD missing tag or command")
            return True
        tag, name = parts[0].decode(), parts[1].decode().upper()
        rest = parts[2] if len(parts) > 2 else b""
        shown = f"{tag} LOGIN {rest.split(b' ', 1)[0].decode()} ****" if name == "LOGIN" \
            else f"{tag} AUTHENTICATE {rest.split(b' ', 1)[0].decode()}" \
            if name == "AUTHENTICATE" else line.decode("utf-8", "replace")
        self.fake.commands.append(shown)
        try:
            return self.dispatch(tag, name, rest)
        except _Bad as exc:
            self.send(f"{tag} BAD {exc}")
            return True

    def dispatch(self, tag: str, name: str, rest: bytes) -> bool:
        if name == "CAPABILITY":
            self.send(f"* CAPABILITY {self._caps()}")
            self.send(f"{tag} OK CAPABILITY completed")
        elif name == "NOOP":
            self.send(f"{tag} OK NOOP completed")
        elif name == "LOGOUT":
            self.send("* BYE logging out")
            self.send(f"{tag} OK LOGOUT completed")
            return False
        elif name == "STARTTLS":
            if self.fake.tls is None or self.tls_on:
                raise _Bad("STARTTLS not available")
            self.send(f"{tag} OK Begin TLS negotiation now")
            for stream in (self.reader, self.writer):
                stream.close()
            self.sock = self.fake.tls.wrap_socket(self.sock, server_side=True)
            self.tls_on = True
            self._streams()
        elif name == "LOGIN":
            self.login(tag, rest)
        elif name == "AUTHENTICATE":
            self.authenticate(tag, rest)
        elif self.state == "NONAUTH":
            raise _Bad(f"{name} needs a login first")
        elif name in ("SELECT", "EXAMINE"):
            self.select(tag, name, rest)
        elif name == "APPEND":
            self.append(tag, rest)
        elif name == "UID":
            self.uid(tag, rest)
        else:
            raise _Bad(f"unknown command {name}")
        return True

    def authenticate(self, tag: str, rest: bytes) -> None:
        if self.state != "NONAUTH":
            raise _Bad("already authenticated")
        mechanism, _, initial = rest.partition(b" ")
        if self.fake.oauth is None or mechanism.upper() != b"XOAUTH2":
            self.send(f"{tag} NO [CANNOT] Unsupported authentication mechanism")
            return
        if self.fake.tls is not None and not self.tls_on:
            self.send(f"{tag} NO [PRIVACYREQUIRED] AUTHENTICATE needs TLS first")
            return
        if initial:
            raise _Bad("no SASL-IR: send the response after the continuation")
        self.send("+ ")
        line = self._sasl_line()
        if line is None:
            self.send(f"{tag} BAD AUTHENTICATE aborted")
            return
        try:
            response = base64.b64decode(line, validate=True)
        except ValueError:
            self.send(f"{tag} BAD invalid base64")
            return
        error = self.fake.oauth.check(response, username=self.fake.username)
        if error is not None:
            self.send("+ " + base64.b64encode(error.encode()).decode())
            answer = self._sasl_line()
            if answer is None:
                self.send(f"{tag} BAD AUTHENTICATE aborted")
            elif answer:
                self.send(f"{tag} BAD expected an empty answer to the error challenge")
            else:
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)")
            return
        self.fake.logins += 1
        self.state = "AUTH"
        self.send(f"{tag} OK [CAPABILITY {self._caps()}] {self.fake.username} authenticated "
                  "(Success)")

    def _sasl_line(self) -> bytes | None:
        """A client's SASL response line (without CRLF); None for "*" (abort)."""
        line = self.reader.readline(65536)
        if not line.endswith(b"\r\n"):
            raise OSError("the client went away during AUTHENTICATE")
        line = line[:-2]
        return None if line == b"*" else line

    def login(self, tag: str, rest: bytes) -> None:
        if self.state != "NONAUTH":
            raise _Bad("already logged in")
        if self.fake.tls is not None and not self.tls_on:
            self.send(f"{tag} NO [PRIVACYREQUIRED] LOGIN needs TLS first")
            return
        if self.fake.oauth is not None:  # basic auth off (Exchange Online)
            self.send(f"{tag} NO LOGIN failed.")
            return
        args = _args(rest, self)
        if len(args) != 2:
            raise _Bad("LOGIN takes user and password")
        user, password = (_string(a) for a in args)
        if (user, password) != (self.fake.username, self.fake.password):
            self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)")
            return
        self.fake.logins += 1
        self.state = "AUTH"
        self.send(f"{tag} OK [CAPABILITY {self._caps()}] {user} authenticated (Success)")

    def select(self, tag: str, name: str, rest: bytes) -> None:
        args = _args(rest, self)
        if len(args) != 1:
            raise _Bad(f"{name} takes one folder")
        folder_name = _string(args[0])
        if folder_name.upper() == "INBOX":
            folder_name = "INBOX"
        with self.fake.lock:
            folder = self.fake.folders.get(folder_name)
            if folder is None:
                self.folder = None
                self.state = "AUTH"
                self.send(f"{tag} NO [NONEXISTENT] Unknown Mailbox: {folder_name}")
                return
            self.folder, self.readonly, self.state = folder_name, name == "EXAMINE", "SELECTED"
            self.send(r"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)")
            self.send(f"* {len(folder.mails)} EXISTS")
            self.send("* 0 RECENT")
            self.send(f"* OK [UIDVALIDITY {folder.uidvalidity}] UIDs valid")
            self.send(f"* OK [UIDNEXT {folder.next_uid}] Predicted next UID")
        mode = "READ-ONLY" if self.readonly else "READ-WRITE"
        self.send(f"{tag} OK [{mode}] {name} completed")

    def append(self, tag: str, rest: bytes) -> None:
        args = _args(rest, self, literal_last=True)
        if len(args) < 2 or not isinstance(args[-1], _Literal):
            raise _Bad("APPEND takes a folder, optional flags and date, and a literal")
        folder_name = _string(args[0])
        folder = self.fake.folders.get(folder_name)
        data = args[-1].data
        if folder is None:
            self.send(f"{tag} NO [TRYCREATE] no folder {folder_name}")
            return
        uid = self.fake.deliver(folder_name, data)
        self.send(f"{tag} OK [APPENDUID {folder.uidvalidity} {uid}] APPEND completed")

    def uid(self, tag: str, rest: bytes) -> None:
        if self.state != "SELECTED" or self.folder is None:
            raise _Bad("UID needs a selected folder")
        sub, _, tail = rest.partition(b" ")
        kind = sub.decode().upper()
        with self.fake.lock:
            folder = self.fake.folders[self.folder]
            mails = list(folder.mails)
        if kind == "SEARCH":
            found = self.search(mails, _args(tail, self))
            self.send("* SEARCH" + "".join(f" {m.uid}" for m in found))
            self.send(f"{tag} OK SEARCH completed")
        elif kind == "FETCH":
            uid_set, _, items = tail.partition(b" ")
            self.fetch(mails, uid_set.decode(), items.decode())
            self.send(f"{tag} OK FETCH completed")
        else:
            raise _Bad(f"unknown UID command {kind}")

    def search(self, mails: list[Stored], args: list[Any]) -> list[Stored]:
        if not args:
            raise _Bad("SEARCH needs a key")
        key = _string(args[0]).upper()
        if key == "ALL" and len(args) == 1:
            return mails
        if key == "UID" and len(args) == 2:
            return _in_set(mails, _string(args[1]))
        if key == "HEADER" and len(args) == 3:
            field_name, wanted = _string(args[1]), _string(args[2]).lower()
            out = []
            for m in mails:
                header = BytesHeaderParser().parsebytes(m.raw)
                value = header.get(field_name)
                if value is not None and wanted in str(value).lower():
                    out.append(m)
            return out
        raise _Bad(f"unsupported search {' '.join(map(str, args))[:80]}")

    def fetch(self, mails: list[Stored], uid_set: str, items: str) -> None:
        if not (items.startswith("(") and items.endswith(")")):
            raise _Bad("FETCH items must be a parenthesised list")
        wanted = items[1:-1].upper().split()
        allowed = {"UID", "RFC822.SIZE", "FLAGS", "BODY[]", "BODY.PEEK[]", "BODY[HEADER]",
                   "BODY.PEEK[HEADER]"}
        if not wanted or any(w not in allowed for w in wanted):
            raise _Bad(f"unsupported FETCH items {items}")
        for seq, mail in enumerate(mails, start=1):
            if mail not in _in_set(mails, uid_set):
                continue
            out: list[bytes] = [f"UID {mail.uid}".encode()]
            for w in wanted:
                if w == "RFC822.SIZE":
                    out.append(f"RFC822.SIZE {len(mail.raw)}".encode())
                elif w == "FLAGS":
                    out.append(f"FLAGS ({' '.join(sorted(mail.flags))})".encode())
                elif w.startswith("BODY"):
                    data = mail.raw
                    if "HEADER" in w:
                        end = data.find(b"\r\n\r\n")
                        data = data[: end + 4] if end >= 0 else data
                    if not w.startswith("BODY.PEEK") and not self.readonly:
                        mail.flags.add("\\Seen")
                    shown = w.replace(".PEEK", "")
                    out.append(f"{shown} {{{len(data)}}}\r\n".encode() + data)
            self.writer.write(f"* {seq} FETCH (".encode() + b" ".join(out) + b")\r\n")
            self.writer.flush()


class _Bad(Exception):
    pass


@dataclass
class _Literal:
    data: bytes


def _args(rest: bytes, session: _Session, *, literal_last: bool = False) -> list[Any]:
    """Atoms, quoted strings, parenthesised lists and one synchronising literal."""
    out: list[Any] = []
    pos = 0
    while pos < len(rest):
        found = _ATOM.match(rest, pos)
        if not found:
            break
        token = found.group(1)
        pos = found.end()
        literal = re.fullmatch(rb"\{(\d+)\}", token)
        if literal:
            if not literal_last or pos != len(rest):
                raise _Bad("unexpected literal")
            session.send("+ Ready for literal data")
            data = session.reader.read(int(literal.group(1)))
            if session.reader.readline(65536) != b"\r\n":
                raise _Bad("literal not followed by CRLF")
            out.append(_Literal(data))
        else:
            out.append(token.decode("utf-8", "replace"))
        if rest[pos:pos + 1] not in (b"", b" "):
            raise _Bad("arguments must be separated by one space")
    return out


def _string(value: Any) -> str:
    if isinstance(value, _Literal):
        return value.data.decode("utf-8", "replace")
    text = str(value)
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _in_set(mails: list[Stored], uid_set: str) -> list[Stored]:
    """The mails whose UID is in an IMAP sequence set ("3", "1,4", "5:*")."""
    if not re.fullmatch(r"(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*", uid_set):
        raise _Bad(f"bad UID set {uid_set!r}")
    top = max((m.uid for m in mails), default=0)
    chosen: set[int] = set()
    for part in uid_set.split(","):
        low, _, high = part.partition(":")
        a = top if low == "*" else int(low)
        b = a if not high else (top if high == "*" else int(high))
        lo, hi = min(a, b), max(a, b)  # "n:*" includes the last mail even below n
        chosen.update(m.uid for m in mails if lo <= m.uid <= hi)
    return [m for m in mails if m.uid in chosen]


def loopback_tls(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context) for a self-signed certificate of 127.0.0.1 and
    localhost, made now (cryptography, which authlib brings) and written into `folder`."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client
