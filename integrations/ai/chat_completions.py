"""A `bot.drafting.Drafter` on an OpenAI-compatible chat-completions endpoint:
POST {base_url}/chat/completions with the model, the messages and the limits; the answer's
choices[0].message.content is the draft.

Every way the endpoint can fail becomes one `DraftFailed` line for the chat: an HTTP error (its
`{"error": {"message", "type", "code"}}` shown short, with the API key masked if it is quoted
back), a rate limit (with its Retry-After), a body that is not a chat completion, a timeout, a
refusal (`finish_reason` "content_filter", a `refusal` field, empty content) and a draft cut off
by the token limit. The key travels only in the Authorization header; nothing here logs it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from bot.drafting import DraftAnswer, DraftFailed, DraftRequest, prompt_messages
from bot.untrusted import clean, truncate
from integrations.ai.settings import AiSettings

log = logging.getLogger(__name__)

# How much of an endpoint's error message a person is shown.
ERROR_SHOWN = 200


class ChatCompletionsDrafter:
    """Drafts replies with one chat-completions call each."""

    def __init__(self, settings: AiSettings, client: httpx.AsyncClient) -> None:
        if not settings.enabled:
            raise ValueError("AI drafts need ECHTZEIT_AI_BASE_URL and ECHTZEIT_AI_MODEL")
        self.settings = settings
        self.model = settings.model or ""
        self.client = client
        self.url = (settings.base_url or "").rstrip("/") + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        key = self.settings.api_key
        return {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}

    def _masked(self, text: str) -> str:
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else ""
        if key:
            text = text.replace(key, "***")
        return truncate(clean(text).replace("\n", " "), ERROR_SHOWN)

    async def draft(self, request: DraftRequest) -> DraftAnswer:
        body = {"model": self.model, "messages": prompt_messages(request),
                "max_tokens": self.settings.max_tokens,
                "temperature": self.settings.temperature, "n": 1, "stream": False}
        timeout = self.settings.timeout_seconds
        try:
            response = await self.client.post(self.url, json=body, headers=self._headers(),
                                               timeout=timeout)
        except httpx.TimeoutException:
            raise DraftFailed(f"the AI endpoint did not answer within {timeout:g} s; "
                              "try again later or write the reply yourself") from None
        except httpx.HTTPError as exc:
            log.warning("AI endpoint %s unreachable: %s", self.url, type(exc).__name__)
            raise DraftFailed(f"the AI endpoint could not be reached ({type(exc).__name__})"
                              ) from None
        if response.status_code >= 400:
            raise DraftFailed(self._http_error(response))
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DraftFailed("the AI endpoint's answer was not JSON") from None
        return self._answer(data)

    def _http_error(self, response: httpx.Response) -> str:
        detail = ""
        try:
            error = response.json().get("error")
            if isinstance(error, dict):
                kind = error.get("code") or error.get("type") or ""
                message = error.get("message") or ""
                detail = f"{kind}: {message}" if kind else str(message)
            elif isinstance(error, str):  # some local servers: {"error": "model not found"}
                detail = error
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            pass
        log.warning("AI endpoint answered HTTP %s", response.status_code)
        if response.status_code == 429:
            wait = response.headers.get("retry-after", "").strip()
            again = f" in {wait} s" if wait.isdigit() else " later"
            return f"the AI endpoint is rate-limited (HTTP 429); try again{again}"
        shown = f": {self._masked(detail)}" if detail else ""
        return f"the AI endpoint refused (HTTP {response.status_code}){shown}"

    def _answer(self, data: Any) -> DraftAnswer:
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise DraftFailed("the AI endpoint's answer has no choices; is it a "
                              "chat-completions endpoint?")
        choice = choices[0]
        message = choice.get("message")
        if not isinstance(message, dict):
            raise DraftFailed("the AI endpoint's answer has no message")
        finish = choice.get("finish_reason")
        if finish == "content_filter":
            raise DraftFailed("the AI endpoint's content filter withheld the draft; "
                              "write this reply yourself")
        if message.get("refusal"):
            raise DraftFailed("the model refused to draft this reply; write it yourself")
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise DraftFailed("the AI endpoint's draft is not text")
        text = clean(content or "")
        if not text:
            raise DraftFailed("the model returned an empty draft; try again or write it "
                              "yourself")
        if finish == "length":
            raise DraftFailed("the model's draft was cut off at its token limit "
                              "(ECHTZEIT_AI_MAX_TOKENS); try again")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return DraftAnswer(text=text, model=str(data.get("model") or self.model),
                           usage={k: v for k, v in usage.items() if isinstance(v, int)})
