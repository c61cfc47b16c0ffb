"""A local stand-in for an OpenAI-compatible chat-completions endpoint (the OpenAI API, vLLM,
Ollama's /v1): POST /v1/chat/completions, on 127.0.0.1 with an ephemeral port, in the test's own
event loop (or alone: `python -m testkit.fake_openai --port 8799` for a console session).

It speaks the documented shapes (platform.openai.com/docs/api-reference/chat/object): a
`chat.completion` with `id`, `object`, `created`, `model`, `choices[]` (`index`, `message`
{`role`, `content`, `refusal`}, `finish_reason`) and `usage`; errors as
`{"error": {"message", "type", "param", "code"}}`; 429 with `Retry-After`. It enforces what the
API enforces: a JSON body with a known `model` and a non-empty `messages` list of
{role, content}, a `max_tokens` that is a positive integer, and (when `key` is set) the
`Authorization: Bearer <key>` header (401 `invalid_api_key` otherwise). Every request is
recorded in `requests`.

Answers: the next of `replies` (text, or a scripted `Fault`), else a default reply that quotes
the first words of the post. Faults: "http500", "429", "malformed" (not JSON), "no_choices",
"content_filter", "refusal", "empty", "length", "hang" (no answer for `hang_seconds`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FAULTS = frozenset({"http500", "429", "malformed", "no_choices", "content_filter", "refusal",
                    "empty", "length", "hang"})


@dataclass(frozen=True)
class Fault:
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}")


def _error(status: int, message: str, kind: str, code: str | None,
           headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "param": None,
                                        "code": code}}, status=status, headers=headers)


@dataclass
class FakeChatCompletions:
    models: tuple[str, ...] = ("fake-care-1",)
    key: str | None = None
    hang_seconds: float = 30.0
    replies: deque[str | Fault] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        return app

    async def start(self, port: int = 0) -> FakeChatCompletions:
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        self.headers.append(dict(request.headers))
        if self.key is not None and request.headers.get("Authorization") != f"Bearer {self.key}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error",
                          "invalid_api_key")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "We could not parse the JSON body of your request.",
                          "invalid_request_error", None)
        self.requests.append(body)
        problem = self._problem(body)
        if problem:
            return problem
        reply = self.replies.popleft() if self.replies else self._default(body)
        if isinstance(reply, Fault):
            return await self._fault(reply.kind, body)
        return web.json_response(self._completion(body, reply, "stop"))

    def _problem(self, body: Any) -> web.Response | None:
        if not isinstance(body, dict):
            return _error(400, "The body must be a JSON object.", "invalid_request_error", None)
        if body.get("model") not in self.models:
            return _error(404, f"The model `{body.get('model')}` does not exist.",
                          "invalid_request_error", "model_not_found")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(
                isinstance(m, dict) and m.get("role") in ("system", "user", "assistant")
                and isinstance(m.get("content"), str) for m in messages):
            return _error(400, "'messages' must be a non-empty array of {role, content}.",
                          "invalid_request_error", None)
        max_tokens = body.get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            return _error(400, "'max_tokens' must be a positive integer.",
                          "invalid_request_error", None)
        return None

    @staticmethod
    def _default(body: dict[str, Any]) -> str:
        post = body["messages"][-1]["content"].rpartition("<<<\n")[2].partition("\n>>>")[0]
        return f"Sorry to hear that! We are looking into \"{post[:40]}\" right now."

    def _completion(self, body: dict[str, Any], content: str | None, finish: str, *,
                    refusal: str | None = None) -> dict[str, Any]:
        prompt = sum(len(m["content"]) for m in body["messages"]) // 4
        done = len(content or "") // 4
        return {
            "id": f"chatcmpl-fake{next(self._ids)}", "object": "chat.completion",
            "created": int(time.time()), "model": body["model"], "system_fingerprint": None,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                 "refusal": refusal},
                         "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": done,
                      "total_tokens": prompt + done},
        }

    async def _fault(self, kind: str, body: dict[str, Any]) -> web.StreamResponse:
        if kind == "http500":
            return _error(500, "The server had an error while processing your request.",
                          "server_error", None)
        if kind == "429":
            return _error(429, "Rate limit reached for requests.", "requests",
                          "rate_limit_exceeded", headers={"Retry-After": "20"})
        if kind == "malformed":
            return web.Response(text="<html>502 Bad Gateway</html>",
                                content_type="text/html")
        if kind == "no_choices":
            return web.json_response({"object": "chat.completion", "choices": []})
        if kind == "content_filter":
            return web.json_response(self._completion(body, None, "content_filter"))
        if kind == "refusal":
            return web.json_response(self._completion(
                body, None, "stop", refusal="I'm sorry, I can't help with that."))
        if kind == "empty":
            return web.json_response(self._completion(body, "", "stop"))
        if kind == "length":
            return web.json_response(self._completion(body, "We are so sorry that", "length"))
        await asyncio.sleep(self.hang_seconds)  # "hang"
        return web.json_response(self._completion(body, "too late", "stop"))


async def _serve(port: int, replies: list[str]) -> None:
    fake = FakeChatCompletions(replies=deque(Fault(r[1:]) if r.startswith("!") else r
                                             for r in replies))
    await fake.start(port)
    print(f"fake chat-completions at {fake.base_url} (model {fake.models[0]})", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("replies", nargs="*",
                        help="answers in order; !<fault> for a fault (e.g. !refusal)")
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.replies))
