"""The workshop's PostgreSQL: start and reuse, recovery from a stale pidfile and from killed runs,
per-check isolation, and the migrated template."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workshop import database
from workshop.verify import run_checks

FIXTURE = Path(__file__).parent / "fixtures" / "migrated"

ISOLATION_CHECKS = """
from sqlalchemy import text

COUNT = text("SELECT count(*) FROM notes")


async def test_one_writes_and_commits(db_session):
    await db_session.execute(text("INSERT INTO notes (text) VALUES ('one')"))
    await db_session.commit()
    assert await db_session.scalar(COUNT) == 1


async def test_two_writes_and_commits(db_session):
    await db_session.execute(text("INSERT INTO notes (text) VALUES ('two')"))
    await db_session.commit()
    assert await db_session.scalar(COUNT) == 1


async def test_a_rollback_in_the_code_under_test_keeps_the_outer_transaction(db_session):
    await db_session.execute(text("INSERT INTO notes (text) VALUES ('three')"))
    await db_session.rollback()
    assert await db_session.scalar(COUNT) == 0
"""


def _names(prefix: str) -> list[str]:
    target = database.server()
    (rows,) = database.run(
        database.execute(target.dsn(), f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%' ORDER BY 1")
    )
    return [str(row[0]) for row in rows]


def test_the_server_answers() -> None:
    target = database.server()
    ((row,),) = database.run(database.execute(target.dsn(), "SELECT 1"))
    assert row == (1,)


def test_databases_of_dead_runs_are_dropped_and_live_ones_kept() -> None:
    target = database.server()
    finished = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert finished.returncode == 0
    dead = f"{database.RUN_PREFIX}{os.getpid() + 100000}_gone"  # no process has a PID that high here
    alive = database.run_database_name("suite")
    for name in (dead, alive):
        database.run(database.create_database(target, name))
    try:
        dropped = database.run(database.drop_leftovers(target))
        assert dead in dropped
        assert alive in _names(database.RUN_PREFIX)
    finally:
        for name in (dead, alive):
            database.run(database.drop_database(target, name))


def test_a_stale_pidfile_after_a_reboot_does_not_stop_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "PGDATA", tmp_path / "pg")
    monkeypatch.delenv(database.ENV_URL, raising=False)
    database.start_embedded()
    assert database.stop_embedded()
    # After a reboot, the PID in postmaster.pid belongs to some other process: here, this one.
    pidfile = tmp_path / "pg" / "postmaster.pid"
    pidfile.write_text(f"{os.getpid()}\n{tmp_path / 'pg'}\n0\n5432\n/nonexistent\n\n\nready\n")
    try:
        url = database.start_embedded()
        ((row,),) = database.run(database.execute(url, "SELECT 42"))
        assert row == (42,)
    finally:
        database.stop_embedded()


def _migrated_lesson(root: Path) -> Path:
    folder = root / "lessons" / "43"
    shutil.copytree(FIXTURE, folder)
    (folder / "checks").mkdir()
    (folder / "checks" / "test_isolation.py").write_text(ISOLATION_CHECKS)
    return folder


def test_checks_are_isolated_and_the_template_is_rebuilt_only_when_migrations_change(tmp_path: Path) -> None:
    folder = _migrated_lesson(tmp_path)
    first = run_checks(folder)
    assert first.problems_as_solution() == [], first.output
    templates = _names(f"{database.TEMPLATE_PREFIX}43_")
    assert len(templates) == 1

    again = run_checks(folder)
    assert again.problems_as_solution() == [], again.output
    assert _names(f"{database.TEMPLATE_PREFIX}43_") == templates, "unchanged migrations reuse the template"

    version = folder / "migrations" / "versions" / "0001_notes.py"
    version.write_text(version.read_text() + "\n# changed\n")
    changed = run_checks(folder)
    assert changed.problems_as_solution() == [], changed.output
    rebuilt = _names(f"{database.TEMPLATE_PREFIX}43_")
    assert len(rebuilt) == 1 and rebuilt != templates
    assert not [name for name in _names(database.RUN_PREFIX) if name.endswith("_43")], "run databases are dropped"
    asyncio.run(database.drop_database(database.server(), rebuilt[0]))


def test_a_migration_that_fails_is_a_lesson_message(tmp_path: Path) -> None:
    folder = _migrated_lesson(tmp_path)
    version = folder / "migrations" / "versions" / "0001_notes.py"
    version.write_text(version.read_text().replace('"notes"', '"notes", sa.Column("id", sa.Integer)', 1))
    run = run_checks(folder)
    kinds = {check["kind"] for check in run.checks.values()}
    assert kinds == {"teaching"}, run.output
    assert "Lesson 43: `alembic upgrade head` failed on a fresh database" in run.output
