"""`echtzeit render slack FILE.json`, through the real CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from echtzeit.cli import app
from testkit.blockkit import hostile_problems, message_errors


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    for key in list(os.environ):
        if key.startswith("ECHTZEIT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ECHTZEIT_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def write_post(tmp_path: Path, **fields: object) -> Path:
    post = {"id": "117647482042918150", "network": "mastodon",
            "author": "regenjacke@mastodon.social",
            "url": "https://mastodon.social/@regenjacke/117647482042918150",
            "text": "Seit 4 Wochen warte ich auf mein Volt Cargo von Acme Rocket. <!channel> "
                    "Hotline: nicht erreichbar. *Super*.",
            "lang": "de", **fields}
    path = tmp_path / "post.json"
    path.write_text(json.dumps(post), encoding="utf-8")
    return path


def test_render_slack_prints_the_post_message_arguments(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["render", "slack", str(write_post(tmp_path))])
    assert result.exit_code == 0, result.output
    message = json.loads(result.stdout)
    assert set(message) == {"text", "blocks", "unfurl_links", "unfurl_media", "link_names",
                            "parse", "mrkdwn"}
    assert message["unfurl_links"] is False and message["link_names"] is False
    assert message_errors(message["blocks"]) == []
    assert hostile_problems(message) == []
    # The brand comes from the configured brands (here the bundled ones) whose query matches.
    assert message["blocks"][0]["text"]["text"].endswith("Acme Rockets · mastodon · #0")
    assert "🌐 de" in json.dumps(message["blocks"], ensure_ascii=False)
    shown = json.dumps(message["blocks"], ensure_ascii=False)
    assert any(f"{label} (" in shown for label in ("negative", "neutral", "positive"))


def test_render_slack_with_a_brand_and_without_a_match(cli: CliRunner, tmp_path: Path) -> None:
    path = write_post(tmp_path, text="nothing about any brand here", lang="en")
    result = cli.invoke(app, ["render", "slack", str(path)])
    assert result.exit_code == 1
    assert "no brand" in result.stderr and "--brand" in result.stderr
    result = cli.invoke(app, ["render", "slack", str(path), "--brand", "Globex"])
    assert result.exit_code == 0, result.output
    assert "Globex" in json.loads(result.stdout)["blocks"][0]["text"]["text"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": 1}', encoding="utf-8")
    result = cli.invoke(app, ["render", "slack", str(broken), "--brand", "X"])
    assert result.exit_code == 1 and "'text'" in result.stderr
