"""Credentials the bot renews itself (X's rotating refresh token): seeding, the renewal lease
and the compare-and-swap that stores a rotated token, on SQLite and PostgreSQL, with a second
Store on the same database standing in for another replica."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bot.store import Store
from tests.conftest import Clock

LEASE = timedelta(minutes=2)


def test_seeding_keeps_the_chain_of_the_same_seed(store: Store, clock: Clock) -> None:
    row = store.seed_credential(name="x", secret="seed-1", origin="o1")
    assert (row.secret, row.access, row.origin) == ("seed-1", None, "o1")
    assert store.lease_credential(name="x", secret="seed-1", holder="a", until=clock() + LEASE)
    assert store.save_credential(name="x", secret="rt-2", access="at-2",
                                 expires_at=clock() + timedelta(hours=2), expected="seed-1")
    # A restart with the same (now spent) configured token keeps the stored descendant.
    row = store.seed_credential(name="x", secret="seed-1", origin="o1")
    assert (row.secret, row.access) == ("rt-2", "at-2")
    assert row.lease_holder is None and row.lease_until is None
    # A new authorization replaces the chain.
    row = store.seed_credential(name="x", secret="seed-9", origin="o9")
    assert (row.secret, row.access, row.expires_at, row.origin) == ("seed-9", None, None, "o9")
    assert store.credential(name="other") is None


def test_one_replica_holds_the_renewal_lease(store: Store, database_url: str,
                                             clock: Clock) -> None:
    other = Store.from_url(database_url, now=clock)
    try:
        store.seed_credential(name="x", secret="rt-1", origin="o")
        assert store.lease_credential(name="x", secret="rt-1", holder="a",
                                      until=clock() + LEASE)
        assert not other.lease_credential(name="x", secret="rt-1", holder="b",
                                          until=clock() + LEASE)
        assert store.lease_credential(name="x", secret="rt-1", holder="a",
                                      until=clock() + LEASE)  # its own lease: renewed
        clock.advance(minutes=2)  # a holder that died: its lease runs out
        assert other.lease_credential(name="x", secret="rt-1", holder="b",
                                      until=clock() + LEASE)
        other.release_credential(name="x", holder="a")  # not a's any more: no change
        assert not store.lease_credential(name="x", secret="rt-1", holder="a",
                                          until=clock() + LEASE)
        other.release_credential(name="x", holder="b")
        assert store.lease_credential(name="x", secret="rt-1", holder="a",
                                      until=clock() + LEASE)
        # A lease on a token that is no longer the stored one is refused.
        assert not other.lease_credential(name="x", secret="rt-0", holder="b",
                                          until=clock() + LEASE)
    finally:
        other.close()


def test_a_rotated_token_replaces_only_the_one_it_came_from(store: Store, database_url: str,
                                                            clock: Clock) -> None:
    other = Store.from_url(database_url, now=clock)
    try:
        store.seed_credential(name="x", secret="rt-1", origin="o")
        expires = clock() + timedelta(hours=2)
        assert store.save_credential(name="x", secret="rt-2", access="at-2",
                                     expires_at=expires, expected="rt-1")
        assert not other.save_credential(name="x", secret="rt-2b", access="at-2b",
                                         expires_at=expires, expected="rt-1")
        row = other.credential(name="x")
        assert row is not None
        assert (row.secret, row.access, row.expires_at) == ("rt-2", "at-2", expires)
        assert row.updated_at == clock()
    finally:
        other.close()


def test_leases_taken_at_the_same_instant_have_one_winner(store: Store, database_url: str,
                                                          clock: Clock) -> None:
    replicas = [Store.from_url(database_url, now=clock) for _ in range(6)]
    try:
        store.seed_credential(name="x", secret="rt-1", origin="o")
        for round_ in range(5):
            with ThreadPoolExecutor(len(replicas)) as pool:
                won = list(pool.map(
                    lambda n: replicas[n].lease_credential(
                        name="x", secret="rt-1", holder=f"r{n}", until=clock() + LEASE),
                    range(len(replicas))))
            assert won.count(True) == 1, (round_, won)
            clock.advance(minutes=3)
    finally:
        for r in replicas:
            r.close()
