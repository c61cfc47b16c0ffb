"""`.env.example`, written from the settings models: `echtzeit env-example` or
`python -m echtzeit.envfile` prints it (`> .env.example` to refresh the committed one; a test
checks that they are the same).

One section per model of `echtzeit.config.MODELS`, in its order; a field whose
`json_schema_extra` names an `env_section` starts a section of its own inside its model. Each key
comes with its description as a comment (wrapped at 100 columns) and its default as the value;
secrets and settings without a fixed default (a path below the home directory) are left empty,
and an empty value means the default.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable

from pydantic.fields import FieldInfo

from bot.settings import EchtzeitSettings, env_name, holds_secret_str
from echtzeit.config import MODELS

WIDTH = 100
HEADER = (
    "# Echtzeit configuration. Copy to .env (never commit .env) or set these in the environment.",
    "# Every key is optional: with none set, Echtzeit runs on SQLite, the console and the bundled "
    "replay.",
)


def heading(title: str) -> str:
    return f"# --- {title} ".ljust(WIDTH, "-")


def description(model: type[EchtzeitSettings], name: str, info: FieldInfo) -> str | None:
    """The field's description (every field has one: a test checks)."""
    return info.description


def section(model: type[EchtzeitSettings], name: str, info: FieldInfo) -> str | None:
    """The title of the section this field starts, if it starts one."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("env_section"), str):
        return str(extra["env_section"])
    return None


def shown(value: object) -> str:
    """A default as the environment writes it: true/false, a,b, 2 for 2.0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def default(info: FieldInfo) -> str:
    """The value written after the key: the default, empty for a SecretStr."""
    if holds_secret_str(info):
        return ""
    value = info.get_default(call_default_factory=True)
    if info.default_factory is not None and not isinstance(value, list):
        return ""  # computed where it runs (the data directory below $HOME)
    return shown(value)


def render(models: Iterable[tuple[str, type[EchtzeitSettings]]] = MODELS) -> str:
    """The text of `.env.example`. Raises ValueError for a field without a description."""
    lines = list(HEADER)
    for title, model in models:
        lines += ["", heading(title)]
        for name, info in model.model_fields.items():
            starts = section(model, name, info)
            if starts:
                lines += ["", heading(starts)]
            key = env_name(model, name)
            text = description(model, name, info)
            if not text:
                raise ValueError(f"{key} ({model.__name__}.{name}) has no description")
            lines += textwrap.wrap(text, width=WIDTH, initial_indent="# ",
                                   subsequent_indent="# ", break_long_words=False,
                                   break_on_hyphens=False)
            lines.append(f"{key}={default(info)}")
    return "\n".join(lines) + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
