"""Administration from the shell: `echtzeit cmd '<command line>'` and `echtzeit apply FILE`.

`run_line` runs any chat command (`brand add "Acme" acme`, `sla set ...`, `list`, `help`)
through `commands.dispatch`, as the person at the shell: platform "shell", actor
"<user>@shell", with the responder and admin roles (whoever can reach the database from a
shell may change anything anyway). The event log therefore names the shell as the origin.

A brands file (YAML, `echtzeit.brands_file`) declares brands, queries, routes, templates and
SLA targets; `load_plan` validates all of it before anything is written and `apply_plan`
brings the database to it, idempotently. `echtzeit run` applies ECHTZEIT_BRANDS_FILE at start.

Start-up time: this module imports only typer and the standard library at module level;
`echtzeit cmd help` answers from `commands.COMMANDS` without loading the settings or opening
the database.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from echtzeit.errors import SetupError

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.store import Store
    from commands import Deps, Invocation, Result
    from echtzeit.brands_file import Plan

SHELL = "shell"
# Answers of these commands need no database: they are run without opening it.
_LIGHT = frozenset({"help"})


# --- one command line --------------------------------------------------------------------------


def shell_invocation(user: str) -> Invocation:
    """The person at the shell: may answer and administer; named "<user>@shell" in events,
    cards and answers, so that the event log says where a change came from."""
    from commands import Invocation, Role

    actor = user if user.endswith(f"@{SHELL}") else f"{user}@{SHELL}"
    return Invocation(user=actor, platform=SHELL, display_name=actor,
                      roles=frozenset({Role.RESPONDER, Role.ADMIN}))


def _shell_refusal(name: str, args: str, deps: Deps) -> str | None:
    """What the shell cannot do that a chat can: it has no channel of its own (the digest
    needs `<platform>:<channel>`), and it has no network connection to post replies."""
    from commands.base import UsageError, first_token

    if name == "reply" and not deps.responders:
        return ("reply: the shell posts no replies (it has no network connection); "
                "answer from the chat")
    if name != "digest":
        return None
    try:
        word, rest = first_token(args)
        channel = first_token(rest)[0] if word == "set" else rest
    except UsageError:
        return None  # the command itself says what is wrong
    if word == "set" and ("=" in channel or channel in ("on", "off")):
        channel = ""
    if ":" not in channel:
        example = ("digest set slack:C0123 hour=8" if word == "set"
                   else "digest [today|yesterday|week|YYYY-MM-DD] slack:C0123")
        return f"digest: the shell has no channel; name one with its platform: {example}"
    return None


def run_line(line: str, deps: Deps, *, user: str = "admin",
             files_dir: Path | None = None) -> tuple[str, int]:
    """Run one chat command line (with or without a leading /) as `user` at the shell.

    Returns the answer as plain text (no colours; network text cleaned of controls) and the
    exit code: 0 when the command succeeded, 2 for a usage error or a refused command, with
    its one-line message as the text. Attachments (the digest's chart) are saved in
    `files_dir` and their paths listed; without `files_dir` they are only named.

    Runs its own event loop: call it from synchronous code, not from a running loop (there,
    await `commands.dispatch` with `shell_invocation(user)`)."""
    import asyncio

    from commands import dispatch, parse_line
    from commands.base import UsageError

    if not line.strip().lstrip("/!").strip():
        return "expected a command line, e.g. 'brand list'; try: help", 2
    try:
        name, args = parse_line(line)
    except UsageError as exc:
        return str(exc), 2
    refusal = _shell_refusal(name, args, deps)
    if refusal is not None:
        return refusal, 2
    result = asyncio.run(dispatch(line, shell_invocation(user), deps))
    return render(result, deps, files_dir=files_dir), 0 if result.ok else 2


def render(result: Result, deps: Deps, *, files_dir: Path | None = None) -> str:
    """A result as terminal text: the console renderer for cards and history, the text and
    lines alone otherwise (which keeps `help` from importing the card renderer)."""
    from bot.untrusted import clean

    if not result.ok:
        return clean(result.text)
    if result.cards or result.history:
        from integrations.chat.console.render import render_result

        out = [render_result(result, deps.now())]
    else:
        out = [clean(result.text), *(clean(line) for line in result.lines)]
    for a in result.attachments:
        label = clean(a.alt or a.filename)
        if files_dir is None:
            out.append(f"[{label}] not saved ({a.filename}, {len(a.data)} bytes)")
            continue
        files_dir.mkdir(parents=True, exist_ok=True)
        path = files_dir / re.sub(r"[^\w.-]", "_", a.filename)
        path.write_bytes(a.data)
        out.append(f"[{label}] saved to {path}")
    return "\n".join(out)


class _NoDatabase:
    """The store of a command that needs none (help): touching it is a bug, said loudly."""

    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError(f"this command was run without a database (store.{name})")


def light_deps() -> Deps:
    """Deps for the commands that answer without a database (`help`)."""
    from typing import cast

    from commands import Deps

    return Deps(store=cast("Store", _NoDatabase()))


def needs_database(line: str) -> bool:
    """False for `help [command]` and for lines that name no command: they are answered
    from `commands.COMMANDS` alone."""
    from commands import BY_NAME, parse_line
    from commands.base import UsageError

    try:
        name, _ = parse_line(line)
    except UsageError:
        return False
    return name in BY_NAME and name not in _LIGHT


# --- brands files ------------------------------------------------------------------------------


def load_plan(path: Path) -> Plan:
    """Read and validate a brands file; raises SetupError (one line) for any problem.
    See `echtzeit.brands_file.load_plan`."""
    from echtzeit.brands_file import load_plan

    return load_plan(path)


def apply_plan(store: Store, plan: Plan, *, actor: str, dry_run: bool = False) -> list[str]:
    """Bring the database to `plan`; the lines say what changed, or "nothing to change".
    See `echtzeit.brands_apply.apply_plan`."""
    from echtzeit.brands_apply import apply_plan

    return apply_plan(store, plan, actor=actor, dry_run=dry_run)


def apply_file(store: Store, path: Path, *, actor: str, dry_run: bool = False) -> list[str]:
    """`load_plan` then `apply_plan`: what `echtzeit run` does with ECHTZEIT_BRANDS_FILE."""
    return apply_plan(store, load_plan(path), actor=actor, dry_run=dry_run)


# --- the CLI -----------------------------------------------------------------------------------


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _default_user() -> str:
    try:
        return getpass.getuser() or "admin"
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "admin"


def _joined(words: list[str]) -> str:
    """The command line from the shell's words: one quoted argument as it is; several plain
    words joined by spaces. Several words of which one holds a space or a double quote are
    refused: the shell removed the quotes that told where a name ends."""
    if len(words) == 1:
        return words[0]
    if any(not w or '"' in w or any(c.isspace() for c in w) for w in words):
        raise _fail("quote the whole command line as one argument, e.g. "
                    "echtzeit cmd 'brand add \"Acme Rockets\" acme'")
    return " ".join(words)


def _database_error(exc: Exception) -> typer.Exit:
    from commands.base import one_line

    return _fail(f"database error: {one_line(str(exc), 300)}", 1)


def register(app: typer.Typer, *, settings: Callable[[], Settings],
             open_store: Callable[[str], Store]) -> None:
    """Add `echtzeit cmd` and `echtzeit apply` to the CLI. `settings` loads the settings (and
    exits with their one-line error); `open_store` migrates and opens the database."""

    @app.command("cmd", context_settings={"ignore_unknown_options": True})
    def cmd(
        words: Annotated[list[str], typer.Argument(
            help="A chat command line, quoted as one argument: 'brand add \"Acme\" acme'. "
                 "Plain words may also be given one by one: echtzeit cmd brand list.",
            metavar="LINE", show_default=False)],
        user: Annotated[str, typer.Option(
            help="Who you are in the event log, as <user>@shell (default: your login).")] = "",
    ) -> None:
        """Run one chat command (brand, template, sla, list, show, claim, ..., help) from the
        shell, as an admin. The answer goes to standard output; a usage error or a refusal to
        standard error, exit 2."""
        line = _joined(words)
        who = user or _default_user()
        if not needs_database(line):
            text, code = run_line(line, light_deps(), user=who)
        else:
            from sqlalchemy.exc import SQLAlchemyError

            from commands import Deps, parse_line

            s = settings()
            try:
                store = open_store(s.effective_database_url)
            except (SQLAlchemyError, OSError) as exc:  # OSError: SQLite's directory
                raise _database_error(exc) from None
            try:
                digest = None
                if parse_line(line)[0] == "digest":
                    from bot.reporting.digest.builder import DigestBuilder

                    digest = DigestBuilder(store, timezone=s.timezone,
                                           digest_hour=s.digest_hour,
                                           business_hours=s.business_hours)
                text, code = run_line(line, Deps(store=store, digest=digest), user=who,
                                      files_dir=s.data_dir / "files")
            except SQLAlchemyError as exc:
                raise _database_error(exc) from None
            finally:
                store.close()
        if code:
            raise _fail(text, code)
        typer.echo(text)

    @app.command("apply")
    def apply(
        file: Annotated[Path, typer.Argument(
            help="The brands file (YAML): brands, queries, routes, templates, SLA targets.",
            metavar="FILE", show_default=False)],
        check: Annotated[bool, typer.Option(
            "--check", help="Validate and show what would change; write nothing.")] = False,
        user: Annotated[str, typer.Option(
            help="Who you are in the event log, as <user>@shell (default: your login).")] = "",
    ) -> None:
        """Apply a brands file: add missing brands, routes, templates and SLA targets, change
        what differs, delete nothing (unless the file says `prune: true`, which removes the
        routes and SLA targets of its brands that it does not list). Prints each change, or
        "nothing to change"; a bad file stops with one line naming the entry, exit 2, before
        anything is written."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            plan = load_plan(file)
        except SetupError as exc:
            raise _fail(str(exc)) from None
        s = settings()
        try:
            store = open_store(s.effective_database_url)
        except (SQLAlchemyError, OSError) as exc:
            raise _database_error(exc) from None
        try:
            lines = apply_plan(store, plan, actor=shell_invocation(user or _default_user()).actor,
                               dry_run=check)
        except SetupError as exc:
            raise _fail(str(exc)) from None
        except SQLAlchemyError as exc:
            raise _database_error(exc) from None
        finally:
            store.close()
        for line in lines:
            typer.echo(line)
        if check:
            typer.echo("(--check: nothing was written)", err=True)


__all__ = ["SHELL", "SetupError", "apply_file", "apply_plan", "light_deps", "load_plan",
           "needs_database", "register", "render", "run_line", "shell_invocation"]
