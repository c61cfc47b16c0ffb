"""HTTP plumbing the parts of the fake Discord share: the request body as Discord takes it
(JSON, or multipart with payload_json and files[n]), and answers shaped like Discord's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "discord"
BODY: web.RequestKey[Any] = web.RequestKey("body", object)  # a JSON value
FILES: web.RequestKey[dict[str, Upload]] = web.RequestKey("files", dict)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Upload:
    """A file sent as multipart/form-data part files[n]."""

    filename: str
    content_type: str
    data: bytes


async def read_body(request: web.Request) -> tuple[Any, dict[str, Upload]]:
    """A JSON body, or a multipart one (payload_json plus files[n]) as Discord takes uploads."""
    if request.content_type == "multipart/form-data":
        form = await request.post()
        files = {name: Upload(part.filename, part.content_type, part.file.read())
                 for name, part in form.items()
                 if isinstance(part, web.FileField) and name != "payload_json"}
        payload = form.get("payload_json")
        if isinstance(payload, web.FileField):
            payload = payload.file.read()
        if isinstance(payload, bytes | bytearray):
            payload = payload.decode("utf-8")
        return (json.loads(payload) if isinstance(payload, str) else None), files
    raw = await request.read()
    if not raw:
        return None, {}
    try:
        return json.loads(raw), {}
    except ValueError:
        return raw.decode("utf-8", "replace"), {}


def json_response(data: Any, *, status: int = 200,
                  headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py compares the header verbatim.
    return web.Response(body=json.dumps(data).encode("utf-8"), status=status,
                        headers={**(headers or {}), "Content-Type": "application/json"})


def error(status: int, code: int, message: str) -> web.Response:
    """Discord's error body: {"message": ..., "code": ...} (opcodes-and-status-codes.mdx)."""
    return json_response({"message": message, "code": code}, status=status)
