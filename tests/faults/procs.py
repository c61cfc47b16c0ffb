"""Real bot processes for the fault tests, always cleaned up (even when a test fails)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Procs:
    """Starts `python -m tests.faults.harness ...` processes; kills what is left at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[asyncio.subprocess.Process] = []
        self.count = 0

    async def start(self, *args: str, env: dict[str, str] | None = None,
                    ) -> asyncio.subprocess.Process:
        self.count += 1
        stderr = (self.log_dir / f"proc{self.count}.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.faults.harness", *args, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=stderr,
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"})
        stderr.close()
        self.running.append(proc)
        return proc

    def log(self, index: int) -> str:
        return (self.log_dir / f"proc{index}.log").read_text(errors="replace")

    async def kill_all(self) -> None:
        for proc in self.running:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


@asynccontextmanager
async def processes(log_dir: Path) -> AsyncIterator[Procs]:
    procs = Procs(log_dir)
    try:
        yield procs
    finally:
        await procs.kill_all()


async def read_lines(proc: asyncio.subprocess.Process, into: list[str],
                     changed: asyncio.Event) -> None:
    """Collect a process's stdout lines (LEADER ..., DIGEST ...) as they come."""
    assert proc.stdout is not None
    async for raw in proc.stdout:
        into.append(raw.decode().strip())
        changed.set()


def argv(*pairs: Sequence[str]) -> list[str]:
    return [item for pair in pairs for item in pair]
