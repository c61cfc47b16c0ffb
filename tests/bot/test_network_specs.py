"""The one list of networks the core reads (bot.networks), as the top floor installs it."""

from __future__ import annotations

import pytest

import bot.networks as networks
from bot.networks import NetworksNotInstalled, NetworkSpec, install_networks, network_specs
from bot.query import describe, parse
from bot.query.errors import QueryError
from integrations.networks.specs import SPECS


def test_reading_the_list_before_it_is_installed_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(networks, "_installed", None)
    with pytest.raises(NetworksNotInstalled, match="install_networks"):
        network_specs()
    with pytest.raises(NetworksNotInstalled):
        parse("acme network:x")


def test_a_name_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(networks, "_installed", None)
    with pytest.raises(ValueError, match="named twice: x"):
        install_networks([NetworkSpec("x"), NetworkSpec("x")])
    with pytest.raises(NetworksNotInstalled):
        network_specs()


def test_names_are_unique_and_the_query_language_takes_exactly_the_queryable_ones() -> None:
    names = [s.name for s in SPECS]
    assert len(names) == len(set(names))
    assert network_specs() == SPECS
    for spec in SPECS:
        if spec.queryable:
            assert describe(parse(f"acme network:{spec.name}")) == \
                f"(acme AND network:{spec.name})"
        else:
            with pytest.raises(QueryError, match="unknown network"):
                parse(f"acme network:{spec.name}")
