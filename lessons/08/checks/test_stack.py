"""Lesson 08 checks, steps 5 to 7: compose.yaml, read without a Docker engine."""

from __future__ import annotations

import pytest

from workshop.graders import docker

from .conftest import apply_rules


@pytest.mark.step(5)
def test_postgres_18_keeps_its_data_on_a_named_volume(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: postgres:18 keeps its data under /var/lib/postgresql/18/docker; mount the folder above it."""
    apply_rules(request, files)


@pytest.mark.step(5)
def test_postgres_has_a_pg_isready_healthcheck(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: a running container is not a database that accepts connections; `pg_isready` knows the difference."""
    apply_rules(request, files)


@pytest.mark.step(5)
def test_redis_has_a_redis_cli_ping_healthcheck(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: `redis-cli ping` answers PONG once Redis serves."""
    apply_rules(request, files)


@pytest.mark.step(6)
def test_the_app_and_its_migrations_read_dot_env(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: `env_file: .env` on the shared `x-ledger` block reaches both services that merge it."""
    apply_rules(request, files)


@pytest.mark.step(6)
def test_the_database_password_comes_from_dot_env(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: the postgres image reads POSTGRES_PASSWORD from its environment; .env can provide it."""
    apply_rules(request, files)


@pytest.mark.step(6)
def test_the_app_reaches_the_database_by_its_service_name(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: each container has its own localhost; how do containers of one stack find each other?"""
    apply_rules(request, files)


@pytest.mark.step(7)
def test_the_app_waits_for_a_healthy_database_and_redis(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: the list form of `depends_on` waits for a container to start; the mapping form can wait for healthy."""
    apply_rules(request, files)


@pytest.mark.step(7)
def test_the_migrations_finish_before_the_app_starts(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: a one-shot service runs `alembic upgrade head`; which `depends_on` condition waits for it to exit 0?"""
    apply_rules(request, files)


@pytest.mark.step(7)
def test_only_this_machine_reaches_the_published_ports(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: a published port without an address listens on every network the host is on."""
    apply_rules(request, files)


@pytest.mark.step(7)
def test_the_migrations_run_once(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: a one-shot service exits when its work is done; what would a restart policy do then?"""
    apply_rules(request, files)


@pytest.mark.step(7)
def test_a_failed_migration_stops_the_deploy_and_shows_in_the_logs(
    request: pytest.FixtureRequest, files: docker.Files
) -> None:
    """Hint: the app waits for the migrations to exit with 0; what decides that exit status, and where does
    alembic's output go?"""
    apply_rules(request, files)
