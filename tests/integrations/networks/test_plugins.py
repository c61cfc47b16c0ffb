"""The plug-in protocol: one PLUGIN per network module, its spec in the one list of networks,
its settings under its own prefix (tests/echtzeit/test_config.py checks that every field has a
description)."""

from __future__ import annotations

import pytest

from bot.query import describe, parse
from bot.query.errors import QueryError
from bot.settings import ENV_PREFIX
from integrations.networks import registry
from integrations.networks.settings import PLUGIN_SETTINGS
from integrations.networks.specs import PLUGIN_SPECS, SPECS


def test_every_plugin_has_a_unique_name_and_its_spec_is_in_the_list() -> None:
    names = [p.name for p in registry.PLUGINS]
    assert len(names) == len(set(names))
    assert tuple(p.spec for p in registry.PLUGINS) == PLUGIN_SPECS
    assert tuple(p.settings for p in registry.PLUGINS) == PLUGIN_SETTINGS
    assert len({s.name for s in SPECS}) == len(SPECS)


def test_the_query_language_accepts_exactly_the_queryable_networks() -> None:
    for spec in SPECS:
        query = f"acme network:{spec.name}"
        if spec.queryable:
            assert describe(parse(query)) == f"(acme AND network:{spec.name})"
        else:
            with pytest.raises(QueryError):
                parse(query)
    with pytest.raises(QueryError):
        parse("acme network:replay-only")


def test_each_plugin_reads_its_own_prefix() -> None:
    for plugin in registry.PLUGINS:
        prefix = plugin.settings.model_config.get("env_prefix")
        assert prefix == f"{ENV_PREFIX}{plugin.name.upper()}_"
