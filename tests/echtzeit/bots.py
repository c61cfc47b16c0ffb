"""Real `echtzeit run` processes for the tests, as a deployment starts them: the installed
entry point, standard input closed, configured only through the environment (and a brands
file), output to log files. Always cleaned up, even when a test fails."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def entry_point() -> list[str]:
    """The `echtzeit` script of this environment (what a unit file or a container runs)."""
    script = Path(sys.executable).parent / "echtzeit"
    if script.exists():
        return [str(script)]
    found = shutil.which("echtzeit")
    return [found] if found else [sys.executable, "-m", "echtzeit"]


def clean_env(**settings: str) -> dict[str, str]:
    """The test process's environment without any ECHTZEIT_ setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECHTZEIT_")}
    env.update({f"ECHTZEIT_{k.upper()}": v for k, v in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Bot:
    proc: asyncio.subprocess.Process
    out: Path
    err: Path
    http_port: int | None = None
    started: float = field(default_factory=time.monotonic)

    def logs(self) -> str:
        return (self.out.read_text(errors="replace") + self.err.read_text(errors="replace"))

    async def health(self) -> tuple[int, dict[str, object]] | None:
        assert self.http_port is not None
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                got = await client.get(f"http://127.0.0.1:{self.http_port}/healthz")
        except httpx.HTTPError:
            return None
        return got.status_code, got.json()

    async def healthy(self, within: float = 60.0) -> dict[str, object]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise AssertionError(f"the bot exited ({self.proc.returncode}):\n{self.logs()}")
            answer = await self.health()
            if answer is not None and answer[0] == 200:
                return answer[1]
            await asyncio.sleep(0.1)
        raise AssertionError(f"/healthz never answered 200:\n{self.logs()}")

    async def stop(self, sig: int = signal.SIGTERM, within: float = 15.0) -> tuple[int, float]:
        """Send `sig`; the exit status and how long the process took to end."""
        sent = time.monotonic()
        self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), within)
        return code, time.monotonic() - sent


class Bots:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Bot] = []

    async def start(self, env: dict[str, str], *, name: str = "bot") -> Bot:
        out = self.log_dir / f"{name}.out"
        err = self.log_dir / f"{name}.err"
        with out.open("wb") as o, err.open("wb") as e:
            proc = await asyncio.create_subprocess_exec(
                *entry_point(), "run", cwd=self.log_dir, env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=o, stderr=e)
        port = env.get("ECHTZEIT_HTTP_PORT")
        bot = Bot(proc, out, err, http_port=int(port) if port else None)
        self.running.append(bot)
        return bot

    async def kill_all(self) -> None:
        for bot in self.running:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await bot.proc.wait()


@asynccontextmanager
async def bots(log_dir: Path) -> AsyncIterator[Bots]:
    running = Bots(log_dir)
    try:
        yield running
    finally:
        await running.kill_all()
