"""`echtzeit digest` (a digest in the terminal) and `echtzeit export` (mentions with their
response times as CSV or JSON). Registered on the CLI by echtzeit/cli.py."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

# The CLI imports this module at start: what the commands need is imported when they run.
if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.store import Store

EXPORT_FIELDS = (
    "id", "brand", "network", "url", "author", "created_at", "seen_at", "sentiment",
    "priority", "status", "assignee", "first_reply_at", "response_seconds", "relayed_at",
    "first_action_at", "team_seconds",
)


def export_rows(store: Store, start: datetime, end: datetime, *, batch: int = 5000,
                progress: Callable[[int], None] | None = None) -> Iterator[dict[str, Any]]:
    """Mentions posted in [start, end) with their first reply and first staff action, in id
    order, read in keyset batches so that memory stays flat for any size."""
    from bot.reporting.digest.queries import DigestQueries

    q = DigestQueries(store)
    last = 0
    while True:
        rows = q.export_batch(start, end, after=last, limit=batch)
        for row in rows:
            reply, relay, action = row[11], row[12], row[13]
            yield dict(zip(EXPORT_FIELDS, (
                row[0], row[1], row[2], row[3], row[4], _iso(row[5]), _iso(row[6]), row[7],
                row[8], row[9], row[10], _iso(reply),
                (reply - row[5]).total_seconds() if reply else None, _iso(relay), _iso(action),
                (max(action, relay) - relay).total_seconds() if action and relay else None,
            ), strict=True))
        if progress is not None:
            progress(len(rows))
        if len(rows) < batch:
            return
        last = int(rows[-1][0])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def write_export(rows: Iterator[dict[str, Any]], out: IO[str], fmt: str) -> int:
    """CSV with a header row, or JSON Lines would hide errors: JSON is one array."""
    n = 0
    if fmt == "csv":
        w = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
        w.writeheader()
        for row in rows:
            w.writerow(row)
            n += 1
        return n
    out.write("[")
    for row in rows:
        out.write(("," if n else "") + "\n" + json.dumps(row, ensure_ascii=False))
        n += 1
    out.write("\n]\n")
    return n


def register(app: typer.Typer, *, settings: Callable[[], Settings],
             open_store: Callable[[str], Store]) -> None:
    """Add `digest` and `export` to the CLI."""

    @app.command("digest")
    def digest_cmd(
        channel: Annotated[str, typer.Option(help="The channel, as routed: <platform>:<channel>"
                                                  " or just <channel> on the console.")],
        day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD, today, yesterday or "
                                                        "week; default: the latest due day.")]
        = "",
        chart: Annotated[Path | None, typer.Option(help="Also write the chart to this PNG.")]
        = None,
    ) -> None:
        """Print a channel's digest in the terminal."""
        from rich.console import Console

        from bot.reporting.chart import digest_chart
        from bot.reporting.digest.builder import DigestBuilder
        from bot.reporting.digest.model import Kind
        from bot.reporting.digest.text import digest_lines
        from bot.untrusted import clean

        s = settings()
        store = open_store(s.effective_database_url)
        platform, _, name = channel.rpartition(":")
        platform = platform or "console"
        builder = DigestBuilder(store, timezone=s.timezone, digest_hour=s.digest_hour,
                                business_hours=s.business_hours)
        now = store.now()
        zone = ZoneInfo(builder.prefs(platform, name).timezone)
        kind: Kind = "day"
        when: date | None = None
        if day in ("today", "week"):
            kind = "today" if day == "today" else "week"
            when = now.astimezone(zone).date() - timedelta(days=0 if day == "today" else 1)
        elif day == "yesterday":
            when = now.astimezone(zone).date() - timedelta(days=1)
        elif day:
            try:
                when = date.fromisoformat(day)
            except ValueError:
                raise typer.BadParameter("use YYYY-MM-DD, today, yesterday or week") from None
        d = builder.build(platform, name, now=now, kind=kind, day=when)
        console = Console(highlight=False)
        console.print(d.title, markup=False)
        for line in digest_lines(d, now=now):
            console.print(clean(line), markup=False)
        for o in d.overdue:
            console.print(f"  #{o.mention_id} @{clean(o.author_handle)}: {clean(o.url)}",
                          markup=False)
        if chart is not None:
            chart.write_bytes(digest_chart(d))
            console.print(f"chart written to {chart}", markup=False)

    @app.command("export")
    def export_cmd(
        first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (local).")],
        last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (included).")],
        fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
        out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    ) -> None:
        """Export mentions with their response times (posted from --from to --to)."""
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from bot.reporting.digest.queries import DigestQueries

        if fmt not in ("csv", "json"):
            raise typer.BadParameter("--format is csv or json")
        try:
            d1, d2 = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            raise typer.BadParameter("dates are YYYY-MM-DD") from None
        s = settings()
        store = open_store(s.effective_database_url)
        zone = ZoneInfo(s.timezone)
        start = datetime.combine(d1, time(0), zone)
        end = datetime.combine(d2 + timedelta(days=1), time(0), zone)
        total = DigestQueries(store).count_posted(start, end)
        err = Console(stderr=True)
        target: Any = out.open("w", encoding="utf-8", newline="") if out else nullcontext(
            sys.stdout)
        with target as fh, Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(),
                                    TimeRemainingColumn(), console=err,
                                    disable=total < 10_000 or not err.is_terminal) as bar:
            task = bar.add_task("export", total=total)
            n = write_export(export_rows(store, start, end,
                                         progress=lambda k: bar.advance(task, k)), fh, fmt)
        err.print(f"{n} mentions exported" + (f" to {out}" if out else ""), markup=False)
