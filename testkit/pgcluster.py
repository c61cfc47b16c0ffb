"""A throwaway PostgreSQL server, started by the test suite itself.

The tests need a real PostgreSQL (``SKIP LOCKED``, advisory locks, ...), and
they must not depend on a server somebody happened to leave running. This
module starts a private cluster from the installed server binaries:

* the binaries are looked up on ``PATH`` and then in
  ``/usr/lib/postgresql/<version>/bin`` (newest version wins); when none are
  found :meth:`PgCluster.start` raises a :class:`RuntimeError` that says what
  to install -- it never skips silently;
* ``initdb`` (trust auth, UTF8, C locale, ``--no-sync``, superuser
  ``postgres``) runs in a fresh directory ``echtzeit-pg-*`` under ``/tmp``;
* the server listens on a free TCP port on 127.0.0.1 and on a Unix socket
  inside that directory, with durability turned off for speed
  (``fsync``, ``synchronous_commit``, ``full_page_writes``) and
  ``max_connections = 200``;
* PostgreSQL refuses to run as root. When the tests run as root, the
  directory is handed to an unprivileged user (``postgres`` if it exists,
  else ``nobody``) and every binary is started as that user through
  :func:`subprocess.run`'s ``user``/``group``/``extra_groups`` arguments (no
  ``preexec_fn``, so it is safe with threads);
* :meth:`PgCluster.stop` (``pg_ctl stop -m immediate``, then the directory
  is removed) is idempotent and registered with :mod:`atexit`. A run killed
  hard (SIGKILL) cannot clean up after itself, so :meth:`PgCluster.start`
  first reaps clusters in the same parent directory whose owning process is
  gone.

Typical use (the session fixture lives in ``tests/conftest.py``)::

    with PgCluster() as pg:
        url = pg.create_database("echtzeit_test")
        engine = sqlalchemy.create_engine(url)
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote

import psycopg
from psycopg import sql

__all__ = ["PgCluster", "find_bindir", "postgres_available"]

#: Where Debian/Ubuntu install the server binaries, one directory per version.
_POSTGRES_LIB_DIR: Final = Path("/usr/lib/postgresql")
#: The binaries a cluster needs; all must sit in the same directory.
_REQUIRED_BINARIES: Final = ("initdb", "pg_ctl", "postgres")
#: What to tell people when none are found.
_INSTALL_HINT: Final = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH "
    f"nor in {_POSTGRES_LIB_DIR}/*/bin. Install them, e.g. "
    "`apt-get install postgresql-15` (Debian/Ubuntu), or put the directory that "
    "holds initdb on PATH."
)
_DIR_PREFIX: Final = "echtzeit-pg-"
_OWNER_FILE: Final = "owner.json"
_SUPERUSER: Final = "postgres"
_HOST: Final = "127.0.0.1"
#: sizeof(sockaddr_un.sun_path) on Linux, including the trailing NUL.
_UNIX_PATH_MAX: Final = 108
_SERVER_SETTINGS: Final[Mapping[str, str]] = {
    "listen_addresses": _HOST,
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


# --------------------------------------------------------------------------- binaries


def _has_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in _REQUIRED_BINARIES)


def _version_key(bindir: Path) -> tuple[int, ...]:
    """Sort key for ``/usr/lib/postgresql/<version>/bin``: ``15`` > ``9.6``."""
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))


def find_bindir() -> Path | None:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``.

    ``PATH`` is searched first (symlinks such as ``/usr/local/bin/initdb`` are
    followed to the real directory, so ``pg_ctl`` and ``postgres`` are taken
    from the same installation), then the newest
    ``/usr/lib/postgresql/*/bin``.
    """
    initdb = shutil.which("initdb")
    if initdb is not None:
        for candidate in (Path(initdb).parent, Path(initdb).resolve().parent):
            if _has_binaries(candidate):
                return candidate
    versioned = [d for d in _POSTGRES_LIB_DIR.glob("*/bin") if _has_binaries(d)]
    if versioned:
        return max(versioned, key=_version_key)
    return None


def postgres_available() -> bool:
    """True when the server binaries are installed (see :func:`find_bindir`)."""
    return find_bindir() is not None


# --------------------------------------------------------------------------- privileges


def _run_as_kwargs(uid: int, gid: int) -> dict[str, Any]:
    """:func:`subprocess.run` arguments that drop to ``uid``/``gid`` if we are root."""
    if os.geteuid() != 0:
        return {}
    return {"user": uid, "group": gid, "extra_groups": []}


def _unprivileged_user() -> pwd.struct_passwd:
    """The account the server runs as when we are root: ``postgres``, else ``nobody``."""
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(
        "running as root, but neither a 'postgres' nor a 'nobody' user exists; "
        "PostgreSQL refuses to run as root (create one with `useradd -r postgres`)"
    )


def _check_traversable(path: Path, user: pwd.struct_passwd) -> None:
    """Raise unless ``user`` can reach ``path`` (search permission on every parent)."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for directory in [*reversed(path.resolve().parents), path.resolve()]:
        st = directory.stat()
        if st.st_uid == user.pw_uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid in groups:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            raise RuntimeError(
                f"user {user.pw_name!r} cannot traverse {directory} "
                f"(mode {st.st_mode & 0o777:o}); pass a base_dir it can reach, e.g. /tmp"
            )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------- the cluster


class PgCluster:
    """A private PostgreSQL cluster in a temporary directory.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    While running, :attr:`url` is the SQLAlchemy URL of the ``postgres``
    database and :meth:`create_database` makes more.

    :param base_dir: parent of the cluster's temporary directory. Defaults
        to ``/tmp`` when running as root (the unprivileged server user must be
        able to traverse every parent, so a root-only ``$TMPDIR`` will not do),
        else :func:`tempfile.gettempdir`.
    :param start_timeout: seconds to wait for ``initdb`` and for the server to
        accept connections before giving up.
    """

    def __init__(self, *, base_dir: Path | None = None, start_timeout: float = 30.0) -> None:
        if base_dir is None:
            base_dir = Path("/tmp") if os.geteuid() == 0 else Path(tempfile.gettempdir())
        self._base_dir = base_dir
        self._start_timeout = start_timeout
        self._bindir: Path | None = None
        self._dir: Path | None = None
        self._port: int | None = None
        self._running = False
        self._uid = os.geteuid()
        self._gid = os.getegid()

    # ----------------------------------------------------------------- properties

    @property
    def port(self) -> int:
        """TCP port on 127.0.0.1 the server listens on."""
        if self._port is None or not self._running:
            raise RuntimeError("PgCluster is not running; call start() first")
        return self._port

    @property
    def host(self) -> str:
        return _HOST

    @property
    def user(self) -> str:
        """Name of the superuser (trust auth, no password)."""
        return _SUPERUSER

    @property
    def directory(self) -> Path:
        """The temporary directory holding ``data/``, ``socket/`` and ``server.log``."""
        if self._dir is None:
            raise RuntimeError("PgCluster is not running; call start() first")
        return self._dir

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        return self.directory / "socket"

    @property
    def log_file(self) -> Path:
        return self.directory / "server.log"

    @property
    def running(self) -> bool:
        return self._running

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the default ``postgres`` database."""
        return self.url_for("postgres")

    def url_for(self, name: str) -> str:
        """SQLAlchemy URL (``postgresql+psycopg://...``) of database ``name``."""
        return f"postgresql+psycopg://{_SUPERUSER}@{_HOST}:{self.port}/{quote(name, safe='')}"

    def conninfo(self, name: str = "postgres") -> str:
        """libpq connection string for plain :func:`psycopg.connect`."""
        return psycopg.conninfo.make_conninfo(
            host=_HOST, port=self.port, user=_SUPERUSER, dbname=name
        )

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> PgCluster:
        if not self._running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """initdb a fresh cluster and start it; returns once it accepts connections.

        :raises RuntimeError: binaries missing (names the package to install),
            ``initdb`` or the server failing (with the server log), or timeout.
        """
        if self._running:
            raise RuntimeError("PgCluster already started")
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError(_INSTALL_HINT)
        self._bindir = bindir

        self._base_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: hand everything to an ordinary user.
            account = _unprivileged_user()
            _check_traversable(self._base_dir, account)
            self._uid, self._gid = account.pw_uid, account.pw_gid
        self._reap_orphans()
        self._dir = Path(tempfile.mkdtemp(prefix=_DIR_PREFIX, dir=self._base_dir))
        atexit.register(self.stop)
        try:
            self._prepare_directory()
            self._initdb()
            self._start_server()
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m immediate``) and delete its directory.

        Safe to call more than once, and after a failed :meth:`start`.
        """
        atexit.unregister(self.stop)
        directory, self._dir = self._dir, None
        self._running = False
        if directory is None:
            return
        _shutdown(directory, self._bindir, self._uid, self._gid)
        shutil.rmtree(directory, ignore_errors=True)

    def restart(self) -> None:
        """Stop the server (``-m fast``) and start it again on the same port and data
        directory: shared buffers start empty (the OS page cache is not dropped)."""
        if not self._running:
            raise RuntimeError("PgCluster is not running")
        result = self._run(
            "pg_ctl",
            "restart",
            f"--pgdata={self.data_dir}",
            f"--log={self.log_file}",
            f"--options=-p {self._port}",
            "-m",
            "fast",
            "--wait",
            f"--timeout={int(self._start_timeout)}",
            timeout=self._start_timeout + 10,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"pg_ctl restart failed (exit {result.returncode}):\n{_output(result)}\n"
                f"--- {self.log_file} ---\n{self._log_tail()}"
            )
        self._wait_until_ready()

    def create_database(self, name: str) -> str:
        """``CREATE DATABASE name`` and return its SQLAlchemy URL.

        :raises psycopg.errors.DuplicateDatabase: if it already exists.
        """
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    # ----------------------------------------------------------------- internals

    def _prepare_directory(self) -> None:
        directory = self.directory
        self.socket_dir.mkdir()
        socket_path = self.socket_dir / ".s.PGSQL.65535"
        if len(os.fsencode(socket_path)) >= _UNIX_PATH_MAX:
            raise RuntimeError(
                f"socket path {socket_path} is too long for a Unix socket; use a shorter base_dir"
            )
        (directory / _OWNER_FILE).write_text(
            json.dumps({"pid": os.getpid(), "host": socket.gethostname()}), encoding="utf-8"
        )
        # mkdtemp makes the directory 0700; the server user needs to get in.
        directory.chmod(0o755)
        if os.geteuid() == 0:
            for path in (directory, self.socket_dir):
                os.chown(path, self._uid, self._gid)

    def _run(self, *argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL binary (as the unprivileged user if we are root)."""
        assert self._bindir is not None
        return _run(
            self._bindir, argv, cwd=self.directory, uid=self._uid, gid=self._gid, timeout=timeout
        )

    def _initdb(self) -> None:
        result = self._run(
            "initdb",
            f"--pgdata={self.data_dir}",
            f"--username={_SUPERUSER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
            timeout=max(self._start_timeout, 60.0),
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed (exit {result.returncode}):\n{_output(result)}")
        settings = {**_SERVER_SETTINGS, "unix_socket_directories": str(self.socket_dir)}
        lines = [f"{key} = {_quote_setting(value)}" for key, value in settings.items()]
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# --- testkit/pgcluster.py ---\n" + "\n".join(lines) + "\n")

    def _start_server(self) -> None:
        """``pg_ctl start`` on a free port; retries if the port is taken meanwhile."""
        last: subprocess.CompletedProcess[str] | None = None
        for _attempt in range(5):
            port = _free_port()
            result = self._run(
                "pg_ctl",
                "start",
                f"--pgdata={self.data_dir}",
                f"--log={self.log_file}",
                f"--options=-p {port}",
                "--wait",
                f"--timeout={int(self._start_timeout)}",
                timeout=self._start_timeout + 10,
            )
            if result.returncode == 0:
                self._port = port
                self._running = True
                return
            last = result
            if "could not bind" not in self._log_tail():
                break
        assert last is not None
        raise RuntimeError(
            f"pg_ctl start failed (exit {last.returncode}):\n{_output(last)}\n"
            f"--- {self.log_file} ---\n{self._log_tail()}"
        )

    def _wait_until_ready(self) -> None:
        """Connect over TCP until it works (pg_ctl --wait only proves the socket)."""
        deadline = time.monotonic() + self._start_timeout
        while True:
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL on {_HOST}:{self._port} not ready after "
                        f"{self._start_timeout:.0f}s: {exc}\n"
                        f"--- {self.log_file} ---\n{self._log_tail()}"
                    ) from exc
                time.sleep(0.05)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def _reap_orphans(self) -> None:
        """Stop and delete clusters left behind by test runs that were killed hard."""
        hostname = socket.gethostname()
        for directory in self._base_dir.glob(f"{_DIR_PREFIX}*"):
            try:
                owner = json.loads((directory / _OWNER_FILE).read_text(encoding="utf-8"))
                pid, host = int(owner["pid"]), str(owner["host"])
                st = directory.stat()
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if host != hostname or _pid_alive(pid):
                continue
            if os.geteuid() != 0 and st.st_uid != os.geteuid():
                continue
            _shutdown(directory, find_bindir(), st.st_uid, st.st_gid)
            shutil.rmtree(directory, ignore_errors=True)


# --------------------------------------------------------------------------- helpers


def _run(
    bindir: Path,
    argv: Sequence[str],
    *,
    cwd: Path,
    uid: int,
    gid: int,
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    # A clean environment: PG* variables (PGDATA, PGPORT, ...) must not leak in,
    # and an uninstalled $LANG must not break initdb.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_", "LANG"))}
    env["LC_ALL"] = "C"
    return subprocess.run(
        [str(bindir / argv[0]), *argv[1:]],
        cwd=cwd,  # the server user may not be able to enter our cwd (e.g. /root)
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **_run_as_kwargs(uid, gid),
    )


def _shutdown(directory: Path, bindir: Path | None, uid: int, gid: int) -> None:
    """Stop the server whose data directory is ``directory/data``, if it runs."""
    data = directory / "data"
    pidfile = data / "postmaster.pid"
    if not pidfile.exists():
        return
    if bindir is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            _run(
                bindir,
                [
                    "pg_ctl",
                    "stop",
                    f"--pgdata={data}",
                    "--mode=immediate",
                    "--wait",
                    "--timeout=30",
                ],
                cwd=directory,
                uid=uid,
                gid=gid,
                timeout=40,
            )
    # pg_ctl missing or failed: kill the postmaster named in the pid file, but
    # only if that pid really is a postgres serving this data directory (the
    # file may be stale and the pid reused).
    try:
        pid = int(pidfile.read_text(encoding="utf-8").splitlines()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        return
    if os.fsencode(data) in cmdline:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _quote_setting(value: str) -> str:
    """A postgresql.conf string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return "\n".join(part.strip() for part in (result.stdout, result.stderr) if part.strip())
