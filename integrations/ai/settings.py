"""The AI endpoint's settings (prefix `ECHTZEIT_AI_`): any OpenAI-compatible chat-completions
server (a hosted one, vLLM, Ollama's /v1, llama.cpp's server). Kept light (pydantic only), so
that the command line loads them without httpx."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from bot.settings import ENV_PREFIX, EchtzeitSettings


class AiSettings(EchtzeitSettings):
    """AI-drafted replies; every key is ECHTZEIT_AI_<FIELD>. A base URL and a model turn them
    on; without them `draft` says that AI drafts are not configured."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX + "AI_")

    base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1 or "
                    "http://localhost:11434/v1 (Ollama); empty: AI drafts are off.")
    model: str | None = Field(
        default=None, description="Model name the endpoint knows, e.g. gpt-4o-mini or llama3.1.")
    api_key: SecretStr | None = Field(
        default=None, description="API key (sent as a Bearer token); empty for local servers.")
    timeout_seconds: float = Field(
        default=30.0, gt=0, le=300,
        description="Seconds to wait for a draft before telling the person it is too slow.")
    max_tokens: int = Field(
        default=600, ge=16, le=8192, description="Upper bound of tokens in one draft.")
    temperature: float = Field(
        default=0.4, ge=0, le=2, description="Sampling temperature of the drafts.")

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.model)
