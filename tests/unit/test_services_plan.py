"""`ioc services up` decides where Redis and TimescaleDB come from without touching either."""

from __future__ import annotations

import dataclasses

import pytest

from infra.services_plan import (
    Probes,
    Source,
    compose_environment,
    database_url_for_tests,
    plan_up,
    postgres_address,
    redis_address,
)

REDIS = "redis://127.0.0.1:6379/0"
DB = "postgresql://postgres@127.0.0.1:5433/ioc"
NOTHING = Probes(redis=False, postgres=False, timescaledb=False, docker=False, root=False, debian=False)
ALL_ANSWER = dataclasses.replace(NOTHING, redis=True, postgres=True, timescaledb=True)
ROOT_ON_DEBIAN = dataclasses.replace(NOTHING, root=True, debian=True)


def test_services_that_answer_are_used_as_they_are():
    plan = plan_up(REDIS, DB, dataclasses.replace(ALL_ANSWER, docker=True, root=True, debian=True))
    assert (plan.redis, plan.postgres, plan.problem) == (Source.EXISTING, Source.EXISTING, None)


def test_docker_starts_only_what_is_missing():
    plan = plan_up(REDIS, DB, dataclasses.replace(NOTHING, redis=True, docker=True, root=True, debian=True))
    assert (plan.redis, plan.postgres, plan.problem) == (Source.EXISTING, Source.COMPOSE, None)


def test_docker_is_preferred_to_the_chroot():
    plan = plan_up(REDIS, DB, dataclasses.replace(ROOT_ON_DEBIAN, docker=True))
    assert (plan.redis, plan.postgres) == (Source.COMPOSE, Source.COMPOSE)


def test_root_on_debian_without_docker_gets_the_chroot():
    plan = plan_up(REDIS, DB, ROOT_ON_DEBIAN)
    assert (plan.redis, plan.postgres, plan.problem) == (Source.CHROOT, Source.CHROOT, None)


@pytest.mark.parametrize("probes", [NOTHING, dataclasses.replace(NOTHING, root=True),
                                    dataclasses.replace(NOTHING, debian=True)])  # fmt: skip
def test_a_machine_that_can_start_nothing_gets_one_message_saying_what_to_install(probes):
    plan = plan_up(REDIS, DB, probes)
    assert plan.problem is not None
    assert "Docker" in plan.problem and "IOC_DATABASE_URL" in plan.problem and "IOC_REDIS_URL" in plan.problem
    assert plan.problem.count("Nothing answers") == 1


def test_a_postgres_without_timescaledb_is_not_papered_over():
    plan = plan_up(REDIS, DB, dataclasses.replace(ALL_ANSWER, timescaledb=False, root=True, debian=True))
    assert plan.problem is not None and "timescaledb" in plan.problem


def test_a_remote_address_is_never_started_here():
    remote = "postgresql://ioc@db.example.org:5432/ioc"
    plan = plan_up(REDIS, remote, dataclasses.replace(ROOT_ON_DEBIAN, redis=True, docker=True))
    assert plan.postgres is None
    assert plan.problem is not None and "remote" in plan.problem and "db.example.org" in plan.problem


def test_addresses_come_from_the_urls():
    assert postgres_address(DB) == ("127.0.0.1", 5433, "ioc")
    assert postgres_address("postgresql://localhost") == ("localhost", 5432, "postgres")
    assert postgres_address("host=10.0.0.5 port=6000 dbname=city user=ops") == ("10.0.0.5", 6000, "city")
    assert redis_address(REDIS) == ("127.0.0.1", 6379, "")
    assert redis_address("redis://:s3cret@cache:6380/2") == ("cache", 6380, "s3cret")


def test_the_test_database_sits_beside_the_configured_one():
    assert database_url_for_tests(DB) == "postgresql://postgres@127.0.0.1:5433/ioc_test"
    assert (
        database_url_for_tests("postgresql://u:p@h:1/city?sslmode=require")
        == "postgresql://u:p@h:1/city_test?sslmode=require"
    )
    assert postgres_address(database_url_for_tests("host=h port=7 dbname=city")) == ("h", 7, "city_test")
    assert database_url_for_tests("postgresql://h/ioc_test") == "postgresql://h/ioc_test"


def test_compose_answers_at_the_configured_ports_and_trusts_only_a_passwordless_url():
    env = compose_environment("redis://127.0.0.1:6390/0", DB)
    assert (env["TIMESCALEDB_PORT"], env["REDIS_PORT"], env["POSTGRES_HOST_AUTH_METHOD"]) == ("5433", "6390", "trust")
    env = compose_environment(REDIS, "postgresql://ioc:pw@127.0.0.1:5433/ioc")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_HOST_AUTH_METHOD"]) == (
        "ioc", "pw", "scram-sha-256")  # fmt: skip
