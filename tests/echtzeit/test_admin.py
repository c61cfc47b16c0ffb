"""`echtzeit cmd` and `echtzeit apply`, through the typer app, on real databases.

The commands run through `echtzeit.cli.app` once it registers them (`admin.register`);
until then through a Typer app they are registered into with the CLI's own settings loader
and store opener.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bot.reporting.digest.queries import DigestQueries
from bot.store import Store
from commands import Deps
from echtzeit import admin
from echtzeit.brands_apply import NOTHING_TO_CHANGE
from echtzeit.brands_file import load_plan
from testkit.factories import new_mention

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "brands.example.yaml"
runner = CliRunner()


def _app() -> typer.Typer:
    from echtzeit import cli

    if any(c.name in ("cmd", "apply") for c in cli.app.registered_commands):
        return cli.app
    app = typer.Typer()
    admin.register(app, settings=cli._settings, open_store=cli._open_store)
    return app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment: no .env, the data directory in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in ("ECHTZEIT_DATABASE_URL", "ECHTZEIT_BRANDS_FILE", "ECHTZEIT_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECHTZEIT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def db_url(env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """ECHTZEIT_DATABASE_URL at a migrated database (SQLite, and PostgreSQL)."""
    monkeypatch.setenv("ECHTZEIT_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def sqlite_db(env: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ECHTZEIT_DATABASE_URL", sqlite_url)
    return sqlite_url


@pytest.fixture
def open_db(db_url: str) -> Iterator[Store]:
    s = Store.from_url(db_url)
    yield s
    s.close()


def cli(*args: str) -> Any:
    return runner.invoke(_app(), list(args))


def snapshot(url: str) -> dict[str, Any]:
    """Everything a brands file can change, and the event count."""
    s = Store.from_url(url)
    try:
        brands = {b.id: b.name for b in s.brands()}
        return {
            "brands": sorted((b.name, b.query) for b in s.brands()),
            "routes": sorted((brands[r.brand_id], r.platform, r.channel, r.networks,
                              r.min_priority) for r in s.routes()),
            "templates": sorted((t.name, t.text) for t in s.templates()),
            "sla": sorted((brands[b], n, m)
                          for (b, n), m in DigestQueries(s).sla_targets().overrides.items()),
            "events": len(s.events()),
        }
    finally:
        s.close()


# --- echtzeit cmd ----------------------------------------------------------------------------


def test_cmd_adds_a_brand_and_lists_it_as_the_shell_user(db_url: str) -> None:
    added = cli("cmd", 'brand add "Acme Rockets" acme -jobs', "--user", "ops")
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("Brand Acme Rockets added; matching (acme AND (NOT jobs))")
    assert added.stderr == ""
    routed = cli("cmd", '/brand route "Acme Rockets" slack:C0123 networks=x,bluesky min=high')
    assert routed.exit_code == 0, routed.output
    listed = cli("cmd", "brand", "list")  # plain words may come one by one
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == [
        "1 brand(s):", "Acme Rockets: acme -jobs  ->  slack:C0123"]
    s = Store.from_url(db_url)
    try:
        events = [(e.kind, e.actor) for e in s.events()]
    finally:
        s.close()
    assert events[0] == ("brand_added", "ops@shell")  # the event log names the shell
    assert events[1][0] == "route_set" and events[1][1].endswith("@shell")


def test_cmd_templates_and_sla(db_url: str) -> None:
    assert cli("cmd", "brand add Acme acme").exit_code == 0
    assert cli("cmd", "template add thanks Thank you, {name}!").exit_code == 0
    assert cli("cmd", "sla set Acme x 30").stdout == "Acme on x: first reply within 30 min.\n"
    assert "Acme: x 30 min" in cli("cmd", "sla list").stdout
    assert cli("cmd", "template list").stdout.splitlines()[1] == ":thanks  Thank you, {name}!"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("brand add Acme", "brand: usage: brand add <name> <query>"),
        ("brand add Acme (acme", "brand: query error at column 1: unbalanced parenthesis"),
        ("template add thanks Hi {nmae}", "template: unknown placeholder '{nmae}'"),
        ("sla set Acme x 0", "sla: minutes must be between 1 and 43200"),
        ("frobnicate", "unknown command 'frobnicate'"),
        ('brand add "Acme', "brand: unclosed quote"),
        ('"help', "unclosed quote"),
        ("", "expected a command line"),
        ("show 99", "no mention #99"),
        ("reply 1 Danke!", "reply: the shell posts no replies"),
        ("digest", "digest: the shell has no channel; name one with its platform"),
        ("digest set C0123 hour=8", "digest: the shell has no channel"),
    ],
)
def test_cmd_usage_error_exits_2_with_one_line_on_stderr(
        sqlite_db: str, line: str, message: str) -> None:
    result = cli("cmd", line)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_cmd_refuses_words_whose_quotes_the_shell_removed(sqlite_db: str) -> None:
    # echtzeit cmd brand add "Acme Rockets" acme: the shell hands over Acme Rockets unquoted.
    result = cli("cmd", "brand", "add", "Acme Rockets", "acme")
    assert result.exit_code == 2
    assert result.stderr.startswith("quote the whole command line as one argument")
    assert snapshot(sqlite_db)["brands"] == []


def test_cmd_help_needs_no_database_and_no_settings(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHTZEIT_DATABASE_URL", "sqlite:////proc/echtzeit/cannot.db")
    helped = cli("cmd", "help")
    assert helped.exit_code == 0, helped.output
    lines = helped.stdout.splitlines()
    assert lines[0] == "Commands:"
    assert any(line.startswith("brand list|add|query|route|unroute") for line in lines)
    one = cli("cmd", "/help", "sla")
    assert one.exit_code == 0
    assert one.stdout.startswith("sla list|set|clear ...\nFirst-response targets")
    assert cli("cmd", "help nope").stderr.startswith("help: no command 'nope'")
    # The same URL is really unusable: a command that needs the database says so.
    broken = cli("cmd", "brand list")
    assert broken.exit_code == 1
    assert broken.stderr.startswith("database error: ")
    assert broken.stderr.count("\n") == 1
    # Nor are the settings loaded for help: a bad one stops only the other commands.
    monkeypatch.setenv("ECHTZEIT_LOG_LEVEL", "LOUD")
    assert cli("cmd", "help").exit_code == 0
    bad = cli("cmd", "list")
    assert bad.exit_code == 2
    assert "ECHTZEIT_LOG_LEVEL" in bad.stderr


def test_cmd_help_imports_no_database_code() -> None:
    """What keeps `echtzeit cmd help` fast (< 0.5 s): importing echtzeit.admin and running
    help load neither SQLAlchemy nor pydantic nor YAML."""
    code = (
        "import sys\n"
        "import echtzeit.admin as a\n"
        "heavy = ('sqlalchemy', 'sqlmodel', 'pydantic', 'yaml', 'matplotlib', 'alembic')\n"
        "at_import = sorted(m for m in heavy if m in sys.modules)\n"
        "text, code = a.run_line('help', a.light_deps())\n"
        "print(repr((at_import, sorted(m for m in heavy if m in sys.modules), code)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == repr(([], [], 0))


def test_claim_and_list_mine_work_from_the_shell(open_db: Store, db_url: str) -> None:
    brand = open_db.add_brand(name="Acme", query="acme", actor="t")
    open_db.write_mentions([new_mention(brand.id or 0)], routes={})
    claimed = cli("cmd", "claim", "--user", "ops")
    assert claimed.stdout == "#1 is yours, ops@shell.\n"
    mine = cli("cmd", "list mine", "--user", "ops")
    assert mine.exit_code == 0
    assert mine.stdout.splitlines()[0] == "1 mention(s), newest first:"
    assert "#1" in mine.stdout and "claimed" in mine.stdout
    assert cli("cmd", "list mine", "--user", "someone-else").stdout == "No mentions.\n"
    shown = cli("cmd", "show 1")
    assert shown.exit_code == 0 and "acme is down" in shown.stdout
    assert "\x1b[" not in mine.stdout + shown.stdout  # plain text, no colours


def test_digest_from_the_shell_names_its_channel(sqlite_db: str, env: Path) -> None:
    assert cli("cmd", 'brand add Acme acme').exit_code == 0
    assert cli("cmd", "brand route Acme slack:C1").exit_code == 0
    result = cli("cmd", "digest today slack:C1")
    assert result.exit_code == 0, result.output
    assert "saved to" in result.stdout.splitlines()[-1]  # the chart, in the data directory
    assert list((env / "data" / "files").glob("digest-slack-C1-*.png"))


def test_run_line_returns_the_text_and_the_exit_code(sqlite_store: Store) -> None:
    deps = Deps(store=sqlite_store)
    assert admin.run_line('brand add "Acme" acme', deps)[1] == 0
    assert admin.run_line("/brand list", deps) == (
        "1 brand(s):\nAcme: acme  ->  no route", 0)
    assert admin.run_line("brand nope", deps) == (
        "brand: expected brand list | add | query | route | unroute | approval | voice", 2)
    assert sqlite_store.events()[0].actor == "admin@shell"


def test_the_file_checks_templates_as_template_add_does(
        sqlite_store: Store, tmp_path: Path) -> None:
    deps = Deps(store=sqlite_store)
    file = tmp_path / "t.yaml"
    for name, text in [("t", "Hi {name}"), ("t", "Hi {nmae}"), ("t", "{0}"),
                       ("t", "{name.upper}"), ("t", "Hi {author} of {brand}"), ("t", "{ name }"),
                       ("t", "{}"), ("t", "{name"), ("t", "{{name}}"), ("t", "Hi {Name}"),
                       ("dm-de_2", "Hallo"), ("a.b", "Hi"), ("-", "Hi"), ("ü", "Hi")]:
        by_command = admin.run_line(f"template add {name} {text}", deps)[1] == 0
        file.write_text(f"templates:\n  {json.dumps(name)}: {json.dumps(text)}\n",
                        encoding="utf-8")
        try:
            load_plan(file)
            by_file = True
        except admin.SetupError:
            by_file = False
        assert by_file == by_command, (name, text)


# --- echtzeit apply --------------------------------------------------------------------------


def test_apply_the_example_twice(db_url: str) -> None:
    first = cli("apply", str(EXAMPLE))
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == ('+ brand "Acme Rockets": ("acme rockets" OR @acmerockets OR '
                        '#acmerockets) -jobs -"is hiring"')
    assert "+ route \"Acme Rockets\" -> discord:1234567890 (x, bluesky; high priority and up)" \
        in lines
    assert '+ sla "Kaffeehaus Müller" instagram: 90 min' in lines
    assert lines[-3:] == ["+ template :thanks", "+ template :danke", "+ template :dm"]
    state = snapshot(db_url)
    assert state["routes"] == [
        ("Acme Rockets", "discord", "1234567890", "x,bluesky", "high"),
        ("Acme Rockets", "slack", "C0123CARDS", "", "low"),
        ("Acme Rockets", "slack", "C0123CARE", "", "normal"),
        ("Kaffeehaus Müller", "console", "kaffee", "", "low"),
        ("Kaffeehaus Müller", "slack", "C0456CAFE", "mastodon,instagram", "low"),
    ]
    assert state["sla"] == [("Acme Rockets", "bluesky", 30), ("Acme Rockets", "facebook", 120),
                            ("Acme Rockets", "x", 30), ("Kaffeehaus Müller", "instagram", 90)]
    second = cli("apply", str(EXAMPLE))
    assert second.exit_code == 0
    assert second.stdout == f"{NOTHING_TO_CHANGE}\n"
    assert snapshot(db_url) == state  # not even an event


def test_a_routes_minimum_relevance_in_the_brands_file(db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "brands.yaml"

    def write(relevance: str) -> None:
        file.write_text("brands:\n  - name: Volt\n    query: volt -strom\n    routes:\n"
                        f"      - {{to: console:volt, relevance: {relevance}}}\n",
                        encoding="utf-8")

    write("0.4")
    first = cli("apply", str(file))
    assert first.exit_code == 0, first.output
    assert ('+ route "Volt" -> console:volt (all networks; low priority and up; relevance 0.4 '
            'and up)') in first.stdout.splitlines()
    assert cli("apply", str(file)).stdout == f"{NOTHING_TO_CHANGE}\n"
    write("0.6")
    changed = cli("apply", str(file))
    assert ('~ route "Volt" -> console:volt: all networks; low priority and up; relevance 0.6 '
            'and up (was all networks; low priority and up; relevance 0.4 and up)'
            ) in changed.stdout.splitlines()
    s = Store.from_url(db_url)
    try:
        assert [r.min_relevance for r in s.routes()] == [0.6]
    finally:
        s.close()
    write("1.5")
    bad = cli("apply", str(file))
    assert bad.exit_code == 2
    assert "expected a minimum relevance from 0 to 1" in bad.stderr


def test_apply_changes_what_differs_and_keeps_what_the_file_leaves_out(
        db_url: str, open_db: Store, tmp_path: Path) -> None:
    assert cli("apply", str(EXAMPLE)).exit_code == 0
    # Added in chat: kept by every apply without prune.
    open_db.add_route(brand="Acme Rockets", platform="console", channel="extra", actor="chat")
    DigestQueries(open_db).set_sla(brand="Acme Rockets", network="reddit", minutes=99,
                                   actor="chat")
    open_db.add_template(name="chat-made", text="Hi", actor="chat")
    file = tmp_path / "brands.yaml"
    file.write_text(
        "brands:\n"
        "  - name: acme rockets\n"  # the same brand: names are matched ignoring case
        "    query: acme\n"
        "    routes:\n"
        "      - {to: discord:1234567890, networks: [bluesky, x], min: urgent}\n"
        "      - slack:C0123CARDS\n"
        "    sla: {x: 45, bluesky: 30}\n"
        "templates:\n"
        "  thanks: Thanks, {name}!\n",
        encoding="utf-8")
    check = cli("apply", str(file), "--check")
    assert check.exit_code == 0
    assert check.stderr == "(--check: nothing was written)\n"
    expected = [
        '~ brand "Acme Rockets" query: ("acme rockets" OR @acmerockets OR #acmerockets) -jobs '
        '-"is hiring" -> acme',
        '~ route "Acme Rockets" -> discord:1234567890: bluesky, x; urgent priority and up '
        '(was x, bluesky; high priority and up)',
        '~ sla "Acme Rockets" x: 45 min (was 30)',
        "~ template :thanks: text changed",
    ]
    assert check.stdout.splitlines() == expected
    before = snapshot(db_url)
    assert cli("apply", str(file), "--check").exit_code == 0
    assert snapshot(db_url) == before
    applied = cli("apply", str(file))
    assert applied.stdout.splitlines() == expected
    after = snapshot(db_url)
    assert ("Acme Rockets", "acme") in after["brands"]
    assert ("Acme Rockets", "console", "extra", "", "low") in after["routes"]
    assert ("Acme Rockets", "slack", "C0123CARE", "", "normal") in after["routes"]
    assert ("Acme Rockets", "reddit", 99) in after["sla"]
    assert ("chat-made", "Hi") in after["templates"]
    assert cli("apply", str(file)).stdout == f"{NOTHING_TO_CHANGE}\n"
    # prune: the file is the whole truth about the routes and SLA targets of its brands.
    file.write_text(file.read_text(encoding="utf-8") + "prune: true\n", encoding="utf-8")
    pruned = cli("apply", str(file))
    assert pruned.stdout.splitlines() == [
        '- route "Acme Rockets" -> console:extra (prune)',
        '- route "Acme Rockets" -> slack:C0123CARE (prune)',
        '- sla "Acme Rockets" facebook: back to the default (prune)',
        '- sla "Acme Rockets" reddit: back to the default (prune)',
    ]
    final = snapshot(db_url)
    assert [r for r in final["routes"] if r[0] == "Acme Rockets"] == [
        ("Acme Rockets", "discord", "1234567890", "bluesky,x", "urgent"),
        ("Acme Rockets", "slack", "C0123CARDS", "", "low")]
    # Another brand, and templates, are never pruned.
    assert ("Kaffeehaus Müller", "console", "kaffee", "", "low") in final["routes"]
    assert ("chat-made", "Hi") in final["templates"]
    assert cli("apply", str(file)).stdout == f"{NOTHING_TO_CHANGE}\n"


GOOD_BRAND = "  - name: Acme Rockets\n    query: acme\n"
BAD_FILES = [
    ("yaml", "brands:\n  - name: Acme\n    query: a: b\n",
     "line 3, column 13: YAML: mapping values are not allowed here"),
    ("yaml-duplicate-key", "brands:\n  - name: Acme\n    query: a\n    query: b\n",
     "line 4, column 5: YAML: duplicate key 'query' (first on line 3)"),
    ("unknown-key", "brands:\n" + GOOD_BRAND + "  - name: Kaffee\n    qurey: kaffee\n",
     "line 5: brands[2] (Kaffee): qurey: unknown key; expected name, query, routes, sla, "
     "approval, approval_networks, approval_min_priority, voice or oncall"),
    ("unknown-top-key", "brand:\n" + GOOD_BRAND,
     "line 1: brand: unknown key; expected brands, templates or prune"),
    ("missing-query", "brands:\n  - name: Acme\n",
     "line 2: brands[1] (Acme): query: missing (required)"),
    ("query", "brands:\n  - name: Acme Rockets\n    query: 'acme )'\n",
     "line 3: brands[1] (Acme Rockets): query: unbalanced parenthesis: ')' without '(' at "
     "column 6"),
    ("platform", "brands:\n" + GOOD_BRAND + "    routes: [slack:C1, teams:C2]\n",
     "line 4: brands[1] (Acme Rockets): routes[2] (teams:C2): to: unknown chat platform "
     "'teams' (platforms: console, slack, discord)"),
    ("target", "brands:\n" + GOOD_BRAND + "    routes: [C1]\n",
     "routes[1] (C1): to: expected <platform>:<channel> such as slack:C0123, not 'C1'"),
    ("route-quiet-tz", "brands:\n" + GOOD_BRAND
     + "    routes: [{to: slack:C1, quiet: '22:00-07:00'}]\n",
     "routes[1] (slack:C1): quiet hours need their time zone: add tz (e.g. Europe/Berlin)"),
    ("route-quiet", "brands:\n" + GOOD_BRAND
     + "    routes: [{to: slack:C1, quiet: '22-07', tz: Europe/Berlin}]\n",
     "routes[1] (slack:C1): expected quiet hours like '22:00-07:00'"),
    ("route-min", "brands:\n" + GOOD_BRAND + "    routes: [{to: slack:C1, min: hihg}]\n",
     "routes[1] (slack:C1): min: expected one of low, normal, high, urgent, not 'hihg'"),
    ("route-network", "brands:\n" + GOOD_BRAND + "    routes: [{to: slack:C1, networks: [tw]}]\n",
     "routes[1] (slack:C1): networks[1]: unknown network 'tw' (networks: "),
    ("route-option", "brands:\n" + GOOD_BRAND + "    routes: [{to: slack:C1, minimum: high}]\n",
     "routes[1] (slack:C1): minimum: unknown key; expected to, networks, min, relevance, quiet "
     "or tz"),
    ("sla-network", "brands:\n" + GOOD_BRAND + "    sla: {x: 30, facebok: 120}\n",
     "line 4: brands[1] (Acme Rockets): sla.facebok: unknown network 'facebok'"),
    ("sla-minutes", "brands:\n" + GOOD_BRAND + "    sla: {x: 0}\n",
     "brands[1] (Acme Rockets): sla.x: minutes must be between 1 and 43200 (30 days), not 0"),
    ("sla-too-long", "brands:\n" + GOOD_BRAND + "    sla: {x: 43201}\n",
     "sla.x: minutes must be between 1 and 43200 (30 days), not 43201"),
    ("sla-text", "brands:\n" + GOOD_BRAND + "    sla: {x: '30'}\n",
     "sla.x: Input should be a valid integer, not '30'"),
    ("template-placeholder", "templates:\n  thanks: 'Thank you, {nmae}!'\n",
     "line 2: templates.thanks: unknown placeholder '{nmae}' in the template; use {author}, "
     "{name} or {brand}"),
    ("template-name", "templates:\n  'thank you': 'Thanks, {name}'\n",
     "templates['thank you']: bad template name 'thank you': letters, digits, - and _"),
    ("duplicate-brand", "brands:\n" + GOOD_BRAND + "  - name: ACME ROCKETS\n    query: acme2\n",
     "line 4: brands[2] (ACME ROCKETS): name: listed twice: brands[1] has the same name"),
    ("duplicate-route", "brands:\n" + GOOD_BRAND + "    routes: [slack:C1, {to: slack:C1}]\n",
     "routes[2] (slack:C1): listed twice: routes[1] goes to the same channel"),
    ("not-a-mapping", "- Acme\n",
     "expected a mapping with brands:, templates: and prune: at the top, not a list"),
    ("empty", "# nothing yet\n", "it is empty"),
]


@pytest.mark.parametrize(("kind", "text", "problem"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_names_the_entry_in_one_line_and_changes_nothing(
        sqlite_db: str, tmp_path: Path, kind: str, text: str, problem: str) -> None:
    assert cli("apply", str(EXAMPLE)).exit_code == 0
    before = snapshot(sqlite_db)
    # The bad files hold good entries too, which would change things: none is applied.
    file = tmp_path / f"{kind}.yaml"
    file.write_text(text + "templates:\n  fresh: 'New {name}'\n"
                    if text.startswith("brands:") else text, encoding="utf-8")
    result = cli("apply", str(file))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    message = result.stderr.strip()
    assert message.startswith(f"brands file {file}")
    assert problem in message
    assert snapshot(sqlite_db) == before
    with pytest.raises(admin.SetupError) as caught:
        load_plan(file)
    assert str(caught.value) == message


def test_a_missing_file(sqlite_db: str, tmp_path: Path) -> None:
    result = cli("apply", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.stderr == f"brands file {tmp_path / 'nope.yaml'}: cannot read it: No such " \
                            "file or directory\n"


def test_apply_file_is_what_run_calls(sqlite_store: Store) -> None:
    assert admin.apply_file(sqlite_store, EXAMPLE, actor="brands-file")[0].startswith("+ brand")
    assert admin.apply_file(sqlite_store, EXAMPLE, actor="brands-file") == [NOTHING_TO_CHANGE]
    assert {e.actor for e in sqlite_store.events()} == {"brands-file"}


def test_a_change_made_meanwhile_is_reported_in_one_line(
        sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = load_plan(EXAMPLE)
    real = sqlite_store.add_brand

    def racing(**kwargs: Any) -> Any:  # an admin adds the brand in chat at the same moment
        real(**kwargs)
        return real(**kwargs)

    monkeypatch.setattr(sqlite_store, "add_brand", racing)
    with pytest.raises(admin.SetupError) as caught:
        admin.apply_plan(sqlite_store, plan, actor="t")
    assert str(caught.value).startswith(
        f'brands file {EXAMPLE}: + brand "Acme Rockets": ')
    assert "the database changed meanwhile (0 of 14 changes made); apply the file again" \
        in str(caught.value)
    monkeypatch.undo()
    assert admin.apply_plan(sqlite_store, plan, actor="t")[0].startswith("+ route")


def test_yaml_anchors_and_merge_keys(tmp_path: Path) -> None:
    file = tmp_path / "b.yaml"
    file.write_text("x-desk: &desk {to: slack:C1, min: high}\n"
                    "brands:\n  - name: A\n    query: a\n    routes: [*desk, {<<: *desk, "
                    "to: slack:C2}]\n", encoding="utf-8")
    plan = load_plan(file)
    assert [(r.target, r.min_priority) for r in plan.brands[0].routes] == [
        ("slack:C1", "high"), ("slack:C2", "high")]


def test_the_example_file_loads() -> None:
    plan = load_plan(EXAMPLE)
    assert [b.name for b in plan.brands] == ["Acme Rockets", "Kaffeehaus Müller"]
    assert list(plan.templates) == ["thanks", "danke", "dm"]
    assert plan.templates["dm"].endswith("sort it out today.")  # folded: one line
    assert plan.prune is False


def test_the_file_sets_the_approval_rule_and_the_voice(sqlite_store: Store,
                                                       tmp_path: Path) -> None:
    file = tmp_path / "brands.yaml"
    file.write_text("brands:\n  - name: Acme\n    query: acme\n    approval: required\n"
                    "    approval_networks: [x, mastodon]\n    approval_min_priority: high\n"
                    "    voice: Warm, brief, no emoji.\n")
    done = admin.apply_file(sqlite_store, file, actor="t")
    assert done[1:] == ['~ approval "Acme": approval required on x, mastodon for high priority '
                        'and up', '~ voice "Acme": 22 characters']
    brand = sqlite_store.brand(name="Acme")
    assert (brand.approval, brand.approval_networks, brand.approval_min_priority,
            brand.voice) == ("required", "x,mastodon", "high", "Warm, brief, no emoji.")
    assert admin.apply_file(sqlite_store, file, actor="t") == [NOTHING_TO_CHANGE]
    # Left out, the rule stays as chat set it.
    file.write_text("brands:\n  - name: Acme\n    query: acme\n")
    assert admin.apply_file(sqlite_store, file, actor="t") == [NOTHING_TO_CHANGE]
    file.write_text("brands:\n  - name: Acme\n    query: acme\n    approval: sometimes\n")
    with pytest.raises(admin.SetupError, match="approval"):
        admin.apply_file(sqlite_store, file, actor="t")
    file.write_text("brands:\n  - name: Acme\n    query: acme\n    approval: none\n")
    assert admin.apply_file(sqlite_store, file, actor="t") == [
        '~ approval "Acme": no approval']


def test_apply_sets_quiet_hours_once(db_url: str, open_db: Store, tmp_path: Path) -> None:
    file = tmp_path / "quiet.yaml"
    file.write_text("brands:\n" + GOOD_BRAND + "    routes:\n"
                    "      - {to: slack:C1, quiet: '22:00-07:00', tz: Europe/Berlin}\n",
                    encoding="utf-8")
    first = cli("apply", str(file))
    assert first.exit_code == 0, first.output
    assert '+ route "Acme Rockets" -> slack:C1 (all networks; low priority and up; quiet ' \
        "22:00-07:00 Europe/Berlin)" in first.stdout
    [route] = open_db.routes()
    assert (route.quiet_hours, route.quiet_timezone) == ("22:00-07:00", "Europe/Berlin")
    assert cli("apply", str(file)).stdout == f"{NOTHING_TO_CHANGE}\n"
    file.write_text("brands:\n" + GOOD_BRAND + "    routes: [slack:C1]\n", encoding="utf-8")
    third = cli("apply", str(file))
    assert "~ route" in third.stdout and "(was all networks; low priority and up; quiet" \
        in third.stdout
    assert open_db.routes()[0].quiet_hours is None


def test_the_file_sets_the_on_call_ladder(sqlite_db: str, tmp_path: Path) -> None:
    file = tmp_path / "brands.yaml"
    file.write_text(
        "brands:\n"
        "  - name: Acme\n"
        "    query: acme\n"
        "    oncall:\n"
        "      - {level: 1, who: 'slack:U0123ANA', hours: 'mon-fri 09:00-18:00',"
        " tz: Europe/Berlin}\n"
        "      - {level: 2, who: 'slack:U0456BEN'}\n", encoding="utf-8")
    first = cli("apply", str(file))
    assert first.exit_code == 0, first.output
    assert ('+ oncall "Acme" level 1: slack:U0123ANA mon-fri 09:00-18:00 (Europe/Berlin)'
            in first.stdout.splitlines())
    assert '+ oncall "Acme" level 2: slack:U0456BEN any time' in first.stdout.splitlines()
    assert cli("apply", str(file)).stdout == f"{NOTHING_TO_CHANGE}\n"
    s = Store.from_url(sqlite_db)
    try:
        assert [(e.level, e.platform, e.person, e.hours, e.timezone)
                for e in s.oncall_rota()] == [
            (1, "slack", "U0123ANA", "mon-fri 09:00-18:00", "Europe/Berlin"),
            (2, "slack", "U0456BEN", None, "UTC")]
    finally:
        s.close()
    file.write_text(file.read_text(encoding="utf-8").replace(
        "      - {level: 2, who: 'slack:U0456BEN'}\n", "") + "prune: true\n", encoding="utf-8")
    pruned = cli("apply", str(file))
    assert pruned.stdout.splitlines() == ['- oncall "Acme" level 2: slack:U0456BEN (prune)']
    bad = tmp_path / "bad.yaml"
    bad.write_text("brands:\n  - name: Acme\n    query: acme\n    oncall:\n"
                   "      - {level: 1, who: 'slack:U1', hours: 'weekdays'}\n", encoding="utf-8")
    refused = cli("apply", str(bad))
    assert refused.exit_code == 2 and "expected business hours like" in refused.stderr
