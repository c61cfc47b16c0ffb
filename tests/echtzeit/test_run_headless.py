"""Issue 12, points 1 and 2: `echtzeit run` as systemd, a container or nohup start it.

Standard input is not a terminal: the bot still starts every part (before, it waited for the
sources to end and so never relayed a polled post), relays the bundled replay to the console
(stdout), answers /healthz with each part's state, and stops on SIGTERM with exit 0 within
10 s, also while a client holds a request open. A second signal exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bot.store import Store
from tests.echtzeit.bots import Bot, bots, clean_env, free_port

SECRET = "webhook-secret-of-the-tests"


async def _cards(bot: Bot, at_least: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while bot.out.read_text(errors="replace").count("\n#") < at_least:
        assert bot.proc.returncode is None, bot.logs()
        assert time.monotonic() < deadline, f"too few cards:\n{bot.logs()}"
        await asyncio.sleep(0.2)


async def test_a_headless_run_relays_the_replay_and_stops_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = clean_env(data_dir=str(data), replay_speed="0", http_port=str(free_port()))
    async with bots(tmp_path) as running:
        bot = await running.start(env)
        report = await bot.healthy()
        services = report["services"]
        assert isinstance(services, dict)
        assert services["relay"]["state"] == "running"
        assert services["ops"]["state"] == "running"
        assert any(name.startswith("source:replay:") for name in services)
        await _cards(bot, 100)
        # The replay is played: done, not restarted, and the process is still healthy.
        deadline = time.monotonic() + 60
        while True:
            report = await bot.healthy()
            services = report["services"]
            assert isinstance(services, dict)
            [replay] = [s for n, s in services.items() if n.startswith("source:replay:")]
            if replay["state"] == "done" and report["outbox"] == 0:
                break
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        code, took = await bot.stop(signal.SIGTERM)
        assert code == 0, bot.logs()
        assert took < 10.0
        assert "Traceback" not in bot.logs()
    store = Store.from_url(f"sqlite:///{data / 'echtzeit.db'}")
    try:
        assert store.count_mentions() > 200  # 360+ posts; duplicates and reposts folded
        assert store.outbox_depth() == 0  # every card reached the console
    finally:
        store.close()


async def _hold_a_request_open(port: int) -> asyncio.StreamWriter:
    """A client that sends the headers of a webhook request and then stalls."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1000\r\n\r\n{\"id\":")
    await writer.drain()
    return writer


@contextlib.asynccontextmanager
async def _busy_bot(tmp_path: Path) -> AsyncIterator[Bot]:
    """A healthy headless bot with a webhook request held open by a stalled client."""
    webhook = free_port()
    env = clean_env(data_dir=str(tmp_path / "data"), replay_speed="0",
                    http_port=str(free_port()), webhook_secret=SECRET,
                    webhook_port=str(webhook))
    async with bots(tmp_path) as running:
        bot = await running.start(env)
        await bot.healthy()
        writer = await _hold_a_request_open(webhook)
        await asyncio.sleep(0.3)
        try:
            yield bot
        finally:
            writer.close()


async def test_sigterm_ends_within_10_s_although_a_client_holds_a_request_open(
        tmp_path: Path) -> None:
    async with _busy_bot(tmp_path) as bot:
        code, took = await bot.stop(signal.SIGTERM)
        assert code == 0, bot.logs()
        assert took < 10.0


async def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    async with _busy_bot(tmp_path) as bot:  # the held request keeps the first stop busy
        bot.proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        assert bot.proc.returncode is None  # still finishing what is in flight
        code, took = await bot.stop(signal.SIGINT, within=5)
        assert code == 130
        assert took < 1.0


def test_at_a_terminal_it_reads_commands_and_quit_ends_it(tmp_path: Path) -> None:
    """The same process at a terminal: the console reads commands; /quit stops it (exit 0)."""
    import os
    import pty
    import select
    import subprocess

    from tests.echtzeit.bots import entry_point

    env = clean_env(data_dir=str(tmp_path / "data"), replay_speed="0")
    env.update(TERM="dumb", COLUMNS="200")
    master, slave = pty.openpty()
    proc = subprocess.Popen([*entry_point(), "run", "--user", "ana"], stdin=slave, stdout=slave,
                            stderr=slave, env=env, cwd=tmp_path, close_fds=True)
    os.close(slave)
    seen = b""

    def read_until(marker: bytes, within: float) -> None:
        nonlocal seen
        deadline = time.monotonic() + within
        while marker not in seen:
            left = deadline - time.monotonic()
            assert left > 0, seen[-2000:].decode(errors="replace")
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:  # the process closed the terminal
                    break

    try:
        read_until(b"Type /help for commands", 60)
        read_until(b"\n#", 60)  # cards arrive on the terminal
        os.write(master, b"/claim 3\n")
        read_until(b"#3 is yours, ana.", 30)
        os.write(master, b"/quit\n")
        deadline = time.monotonic() + 15
        while proc.poll() is None:  # keep reading: a full terminal would block its writes
            assert time.monotonic() < deadline, seen[-2000:].decode(errors="replace")
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                with contextlib.suppress(OSError):
                    seen += os.read(master, 65536)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
