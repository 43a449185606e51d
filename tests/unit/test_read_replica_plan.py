"""Where `ioc services replica up` puts the development read replica, decided without a database."""

from __future__ import annotations

import pytest

from infra.services_plan import DEFAULT_REPLICA_PORT, replica_port, replica_url

DB = "postgresql://postgres@127.0.0.1:5433/ioc"


def test_the_replica_takes_the_read_urls_port_or_the_next_one():
    assert replica_port("", DB) == DEFAULT_REPLICA_PORT == 5434
    assert replica_port("postgresql://ioc_dashboard@localhost:6543/ioc", DB) == 6543


@pytest.mark.parametrize(("read_url", "problem"), [
    ("postgresql://postgres@db.example.org:5434/ioc", "db.example.org"),
    ("postgresql://postgres@127.0.0.1:5433/ioc", "both name port 5433"),
])  # fmt: skip
def test_a_remote_read_url_or_the_primarys_own_port_cannot_be_a_replica_here(read_url, problem):
    with pytest.raises(ValueError, match=problem):
        replica_port(read_url, DB)


@pytest.mark.parametrize(("database_url", "expected"), [
    (DB, "postgresql://postgres@127.0.0.1:5434/ioc"),
    ("postgresql://u:p%40ss@localhost/ioc_test?sslmode=disable", "postgresql://u:p%40ss@localhost:5434/ioc_test?sslmode=disable"),
    ("host=127.0.0.1 port=5433 dbname=ioc", "dbname=ioc host=127.0.0.1 port=5434"),
])  # fmt: skip
def test_the_replica_url_is_the_same_database_and_user_on_the_replicas_port(database_url, expected):
    assert replica_url(database_url, 5434) == expected
