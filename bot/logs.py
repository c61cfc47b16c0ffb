"""Logging set-up: plain or JSON lines on stderr, and no secret ever in a line.

`setup_logging(settings, also=models)` installs a `RedactingFilter` on every handler of the root
logger. The filter renders each record's message (arguments merged, exception text included) and
masks every configured secret (each SecretStr field of every settings model) and common token
shapes (Slack xoxb-/xoxp-/xapp-/xoxe-, `Bearer ...`, `Bot ...` authorization values, passwords
in URLs), so a library that logs a request header or a URL cannot leak one.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

from pydantic import SecretStr
from pydantic_settings import BaseSettings
from pythonjsonlogger.json import JsonFormatter

from bot.settings import Settings

MASK = "[redacted]"

TOKEN_SHAPES = re.compile(
    r"xox[abeprs]-[A-Za-z0-9-]{6,}"  # Slack bot, user, config, refresh tokens
    r"|xapp-[A-Za-z0-9-]{6,}"  # Slack app-level token (Socket Mode)
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]{6,}"
    r"|(?<=Bot )[A-Za-z0-9._-]{20,}"  # Discord's Authorization: Bot <token>
    r"|(?<=://)[^/@\s:]+:[^/@\s]+(?=@)"  # user:password@ in URLs
    r"|(?<=access_token=)[^&\s\"']+|(?<=client_secret=)[^&\s\"']+"
    r"|(?<=refresh_token=)[^&\s\"']+|(?<=password=)[^&\s\"']+"
)


def secret_values(*models: BaseSettings) -> list[str]:
    """Every configured SecretStr value of the settings models (the longest first)."""
    values = []
    for settings in models:
        for name in type(settings).model_fields:
            value = getattr(settings, name)
            if isinstance(value, SecretStr):
                raw = value.get_secret_value()
                if len(raw) >= 4:  # a shorter "secret" would mask ordinary words
                    values.append(raw)
    return sorted(set(values), key=len, reverse=True)


class RedactingFilter(logging.Filter):
    """Masks secrets in the record's final message and exception text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return TOKEN_SHAPES.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what we have, still redacted
            message = f"{record.msg!r} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None  # the formatter would render it again, unredacted
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(settings: Settings, *, quiet: bool = False, stream: TextIO | None = None,
                  also: Iterable[BaseSettings] = ()) -> logging.Handler:
    """Configure the root logger once: level, plain or JSON format (settings.log_json), and the
    redacting filter on every root handler (also on handlers others added before), masking the
    secrets of `settings` and of the models in `also` (a chat platform's, a network's)."""
    level = logging.WARNING if quiet and settings.log_level == "INFO" else settings.log_level
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter: logging.Formatter
    if settings.log_json:
        formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                  rename_fields={"levelname": "level", "name": "logger"})
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic lists its autogenerate plugins at every start: noise in a service's log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    install_redaction(secret_values(settings, *also))
    return handler


def install_redaction(secrets: Iterable[str]) -> RedactingFilter:
    """Put one RedactingFilter on every handler of the root logger (replacing an older one)."""
    redactor = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor
