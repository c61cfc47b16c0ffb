"""`echtzeit query check|test` and `--help` everywhere, through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from echtzeit.cli import app

runner = CliRunner()


def test_check_prints_the_parsed_form() -> None:
    result = runner.invoke(app, ["query", "check", "acme -jobs"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "(acme AND (NOT jobs))"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("acme (broken", "query error at column 6: unbalanced parenthesis"),
        ("NOT acme", "query error at column 1:"),
        ("a*", "query error at column 1:"),
        ("acme NEAR/99 down", "query error at column"),
        ("", "query error at column 1:"),
    ],
)
def test_check_reports_the_column_and_exits_2(query: str, message: str) -> None:
    result = runner.invoke(app, ["query", "check", query])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)


def test_test_prints_matching_ids_in_file_order(tmp_path: Path) -> None:
    posts = [
        {"id": 1, "text": "Mueller liefert nicht, schon wieder", "lang": "de"},
        {"id": 2, "text": "I love ACME!"},
        {"id": 3, "text": "acmeco rocks"},
        {"id": 4, "text": "Mueller delivers nothing again", "lang": "en"},
        {"id": 5, "text": "Bei Müller ist heute zu, so ein Mist", "network": "mastodon"},
        {"id": 6, "text": "acme on reddit", "url": "https://old.reddit.com/r/x/1"},
    ]
    file = tmp_path / "posts.jsonl"
    file.write_text("\n".join(json.dumps(p) for p in posts) + "\n")
    result = runner.invoke(app, ["query", "test", "acme OR (müller lang:de)", str(file)])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["1", "2", "5", "6"]
    site = runner.invoke(app, ["query", "test", "acme site:reddit.com", str(file)])
    assert site.stdout.split() == ["6"]


def test_test_reports_bad_lines(tmp_path: Path) -> None:
    file = tmp_path / "posts.jsonl"
    file.write_text('{"id": 1, "text": "acme"}\nnot json\n{"text": "acme"}\n')
    result = runner.invoke(app, ["query", "test", "acme", str(file)])
    assert result.exit_code == 1
    assert result.stdout.split() == ["1"]
    assert f"{file}:2: skipped" in result.stderr
    assert f"{file}:3: skipped" in result.stderr


def _commands(group: object, prefix: list[str]) -> list[list[str]]:
    import typer.main

    click_group = typer.main.get_command(group)  # type: ignore[arg-type]
    out = [prefix]
    for name, sub in getattr(click_group, "commands", {}).items():
        out.append([*prefix, name])
        out += [[*prefix, name, n] for n in getattr(sub, "commands", {})]
    return out


def test_every_command_has_help() -> None:
    for path in _commands(app, []):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.stdout
