"""`echtzeit analyze FILE.jsonl [--brand NAME]` through the typer app, on a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bot.store import Store
from bot.triage import analyze
from bot.triage.brands import brand_terms
from echtzeit import analyze_cli

runner = CliRunner()
KEYS = {"id", "language", "sentiment", "sentiment_score", "needs_reply", "relevance",
        "priority"}


def _app() -> typer.Typer:
    from echtzeit import cli

    if any(c.name == "analyze" for c in cli.app.registered_commands):
        return cli.app
    app = typer.Typer()
    analyze_cli.register(app, settings=cli._settings, open_store=cli._open_store)
    return app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("ECHTZEIT_DATABASE_URL", "ECHTZEIT_LOG_LEVEL", "ECHTZEIT_LANGUAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECHTZEIT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _posts(tmp_path: Path, lines: list[Any]) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
                    encoding="utf-8")
    return path


def _run(*args: str) -> list[dict[str, Any]]:
    result = runner.invoke(_app(), ["analyze", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


HOLD = ("Acme Rockets customer service: 45 min on hold, then the call drops. every. single. "
        "time.")


def test_each_post_gets_one_object_and_broken_lines_an_error(env: Path) -> None:
    path = _posts(env, [
        {"id": "1", "text": HOLD, "lang": "en", "network": "x"},
        {"id": "2", "text": ""},
        "{not json",
        {"id": "4"},
        ["a list"],
        {"id": "6", "text": "Der Zug ist schon wieder zu spät, unfassbar @DB_Bahn"},
        {"id": "7", "text": "x" * 100_000, "lang": "en"},
        "",
    ])
    out = _run(str(path))
    assert [o.get("id", o.get("line")) for o in out] == ["1", "2", 3, "4", 5, "6", "7"]
    first = out[0]
    assert set(first) == KEYS
    assert (first["sentiment"], first["priority"]) == ("negative", "high")
    assert first["relevance"] is None  # no brand given, no database
    assert out[1]["sentiment"] == "neutral" and out[1]["sentiment_score"] == 0.0
    assert out[2]["error"].startswith("not JSON")
    assert "text" in out[3]["error"]
    assert "object" in out[4]["error"]
    assert out[5]["language"] == "de" and out[5]["sentiment"] == "negative"
    assert set(out[6]) == KEYS
    # The same function as the pipeline: identical signals.
    assert analyze(HOLD, lang="en", network="x").sentiment_score == first["sentiment_score"]


def test_brand_terms_come_from_the_database(env: Path, database_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHTZEIT_DATABASE_URL", database_url)
    store = Store.from_url(database_url)
    try:
        store.add_brand(name="Volt", query="volt -strom -batterie", actor="t")
        store.add_brand(name="Acme Rockets", query='"acme rockets" OR @acmerockets', actor="t")
    finally:
        store.close()
    path = _posts(env, [
        {"id": "party", "text": "Volt fordert mehr Europa, die Partei tritt an", "lang": "de"},
        {"id": "battery", "text": "Die Batterie hat nur 3 volt, Strom ist alle", "lang": "de"},
        {"id": "acme", "text": HOLD, "lang": "en"},
    ])
    weighed = _run(str(path), "--brand", "Volt")
    assert [o["brand"] for o in weighed] == ["volt"] * 3
    party, battery, acme = weighed
    assert party["relevance"] > 0.4 > battery["relevance"]
    assert acme["relevance"] < 0.1
    expected = analyze("Volt fordert mehr Europa, die Partei tritt an", lang="de",
                       brand=brand_terms("Volt", "volt -strom -batterie"))
    assert party["relevance"] == expected.relevance
    # Without --brand: a post that a stored query matches gets that brand's relevance.
    matched = {o["id"]: o for o in _run(str(path))}
    assert matched["party"]["brand"] == "volt" and matched["party"]["relevance"] > 0.4
    assert "brand" not in matched["battery"] and matched["battery"]["relevance"] is None
    assert matched["acme"]["brand"] == "acme rockets" and matched["acme"]["relevance"] > 0.5


def test_an_unknown_brand_is_a_clear_error(env: Path, sqlite_url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHTZEIT_DATABASE_URL", sqlite_url)
    path = _posts(env, [{"id": "1", "text": "hi"}])
    result = runner.invoke(_app(), ["analyze", str(path), "--brand", "Nobody"])
    assert result.exit_code == 2
    assert "no brand named 'Nobody'" in result.stderr


def test_without_a_database_none_is_created(env: Path) -> None:
    path = _posts(env, [{"id": "1", "text": "hello there", "lang": "en"}])
    assert _run(str(path))[0]["relevance"] is None
    assert not (env / "data" / "echtzeit.db").exists()
