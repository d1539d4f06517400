"""Lesson 08 checks, steps 5 to 7: compose.yaml, read without a Docker engine."""

from __future__ import annotations

import pytest

from workshop.graders import docker

from . import rules
from .conftest import teach


@pytest.mark.step(5)
def test_postgres_18_keeps_its_data_on_a_named_volume(compose: docker.Compose) -> None:
    """Hint: postgres:18 keeps its data under /var/lib/postgresql/18/docker; mount the folder above it."""
    teach(rules.old_postgres_problem(compose) or docker.postgres_volume_problem(compose), "compose.yaml", 5)


@pytest.mark.step(5)
def test_postgres_has_a_pg_isready_healthcheck(compose: docker.Compose) -> None:
    """Hint: a running container is not a database that accepts connections; `pg_isready` knows the difference."""
    database = next(iter(compose.with_image("postgres")), None)
    teach(
        docker.postgres_healthcheck_problem(compose) or rules.healthcheck_swallow_problem(compose, database),
        "compose.yaml",
        5,
    )


@pytest.mark.step(5)
def test_redis_has_a_redis_cli_ping_healthcheck(compose: docker.Compose) -> None:
    """Hint: `redis-cli ping` answers PONG once Redis serves."""
    redis = next(iter(compose.with_image("redis", "valkey")), None)
    teach(docker.redis_problem(compose) or rules.healthcheck_swallow_problem(compose, redis), "compose.yaml", 5)


@pytest.mark.step(6)
def test_the_app_and_its_migrations_read_dot_env(compose: docker.Compose, app_service: docker.Service | None) -> None:
    """Hint: `env_file: .env` on the shared `x-ledger` block reaches both services that merge it."""
    teach(docker.env_file_problem(compose, app_service), "compose.yaml", 6)


@pytest.mark.step(6)
def test_the_database_password_comes_from_dot_env(compose: docker.Compose) -> None:
    """Hint: the postgres image reads POSTGRES_PASSWORD from its environment; .env can provide it."""
    found = (
        rules.written_secret_problem(compose)
        or docker.database_password_problem(compose)
        or rules.secret_default_problem(compose)
    )
    teach(found, "compose.yaml", 6)


@pytest.mark.step(6)
def test_the_app_reaches_the_database_by_its_service_name(
    compose: docker.Compose, app_service: docker.Service | None
) -> None:
    """Hint: each container has its own localhost; how do containers of one stack find each other?"""
    teach(rules.database_host_problem(compose, app_service), "compose.yaml", 6)


@pytest.mark.step(7)
def test_the_app_waits_for_a_healthy_database_and_redis(
    compose: docker.Compose, app_service: docker.Service | None
) -> None:
    """Hint: the list form of `depends_on` waits for a container to start; the mapping form can wait for healthy."""
    teach(docker.start_order_problem(compose, app_service), "compose.yaml", 7)


@pytest.mark.step(7)
def test_the_migrations_finish_before_the_app_starts(
    compose: docker.Compose, app_service: docker.Service | None, dockerfile: docker.Dockerfile
) -> None:
    """Hint: a one-shot service runs `alembic upgrade head`; which `depends_on` condition waits for it to exit 0?"""
    teach(docker.migration_problem(compose, app_service, dockerfile), "compose.yaml", 7)


@pytest.mark.step(7)
def test_only_this_machine_reaches_the_published_ports(
    compose: docker.Compose, app_service: docker.Service | None
) -> None:
    """Hint: a published port without an address listens on every network the host is on."""
    teach(rules.published_port_problem(compose, app_service), "compose.yaml", 7)


@pytest.mark.step(7)
def test_the_migrations_run_once(
    compose: docker.Compose, app_service: docker.Service | None, dockerfile: docker.Dockerfile
) -> None:
    """Hint: a one-shot service exits when its work is done; what would a restart policy do then?"""
    teach(rules.migration_restart_problem(compose, app_service, dockerfile), "compose.yaml", 7)


@pytest.mark.step(7)
def test_a_failed_migration_stops_the_deploy_and_shows_in_the_logs(
    compose: docker.Compose, app_service: docker.Service | None, dockerfile: docker.Dockerfile
) -> None:
    """Hint: the app waits for the migrations to exit with 0; what decides that exit status, and where does
    alembic's output go?"""
    teach(rules.migration_failure_problem(compose, app_service, dockerfile), "compose.yaml", 7)
