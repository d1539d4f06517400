"""The workshop's PostgreSQL: start and reuse, recovery from a stale pidfile and from killed runs,
per-check isolation, and the migrated template."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from workshop import database
from workshop.authoring.verify import run_checks

FIXTURE = Path(__file__).parent / "fixtures" / "migrated"
TEMPLATES_43 = f"{database.TEMPLATE_PREFIX}{database.checkout_id()}_43_"  # this checkout's templates of lesson 43

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


def test_a_clone_takes_a_spare_the_worker_made_and_spares_of_a_gone_template_are_dropped() -> None:
    target = database.server()
    template = f"{database.TEMPLATE_PREFIX}{database.checkout_id()}_suite_{os.urandom(3).hex()}"
    database.run(database.create_database(target, template))
    database.run(database.execute(target.dsn(template), "CREATE TABLE marker (id int)"))
    clone = database.run_database_name("suite_clone")
    try:
        database.run(database.make_spares(target, {template: 2}))
        spares = _names(database.spare_prefix(template))
        assert len(spares) == 2, spares
        database.run(database.create_database(target, clone, template=template))
        assert len(_names(database.spare_prefix(template))) == 1, "the clone did not take a spare"
        ((found,),) = database.run(database.execute(target.dsn(clone), "SELECT to_regclass('marker') IS NOT NULL"))
        assert found == (True,), "the spare taken is not a clone of the template"
        # The next lesson's run: the spares of this one go (a learner has moved on).
        database.run(database.make_spares(target, {f"{template}x": 1}))
        assert _names(database.spare_prefix(template)) == [], "spares of the lesson left behind stayed"
        database.run(database.make_spares(target, {template: 1}))
        database.run(database.drop_database(target, template))
        dropped = database.run(database.drop_leftovers(target))
        assert set(_names(database.spare_prefix(template))) == set(), dropped
    finally:
        for name in (clone, template, *_names(database.spare_prefix(template))):
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
    templates = _names(TEMPLATES_43)
    assert len(templates) == 1

    again = run_checks(folder)
    assert again.problems_as_solution() == [], again.output
    assert _names(TEMPLATES_43) == templates, "unchanged migrations reuse the template"

    version = folder / "migrations" / "versions" / "0001_notes.py"
    version.write_text(version.read_text() + "\n# changed\n")
    changed = run_checks(folder)
    assert changed.problems_as_solution() == [], changed.output
    rebuilt = _names(TEMPLATES_43)
    assert len(rebuilt) == 2 and set(templates) < set(rebuilt), "a new template; the last one is kept as a spare"
    assert not [name for name in _names(database.RUN_PREFIX) if name.endswith("_43")], "run databases are dropped"
    for name in rebuilt:
        asyncio.run(database.drop_database(database.server(), name))


def test_a_migration_that_fails_is_a_lesson_message(tmp_path: Path) -> None:
    folder = _migrated_lesson(tmp_path)
    version = folder / "migrations" / "versions" / "0001_notes.py"
    version.write_text(version.read_text().replace('"notes"', '"notes", sa.Column("id", sa.Integer)', 1))
    run = run_checks(folder)
    kinds = {check.kind for check in run.checks}
    assert kinds == {"teaching"}, run.output
    assert "Lesson 43: `alembic upgrade head` failed on a fresh database" in run.output


def test_two_checkouts_and_other_migrations_run_at_once_without_touching_each_other(
    tmp_path: Path, repo_copy: Path
) -> None:
    """Lesson 05 of this checkout with three variants of its migrations, and of another checkout, all at once.

    Each new fingerprint builds a template and tries to drop the lesson's others; a run's lease keeps
    its own. Before leases, one run dropped the template another was cloning from.
    """
    from concurrent.futures import ThreadPoolExecutor

    from workshop.authoring.verify import Run, write_solution_tree
    from workshop.lessons import lesson

    def variant(root: Path, label: str) -> Path:
        folder = write_solution_tree(lesson("05"), root)
        version = folder / "migrations" / "versions" / "0002_idempotency_keys.py"
        # A fingerprint no earlier run had: every run here builds its template, and clears away the others.
        version.write_text(version.read_text() + f"\n# variant {label} {uuid.uuid4()}\n")
        return folder

    here = [variant(tmp_path / f"tree{n}", str(n)) for n in range(3)]
    there = variant(repo_copy, "of another checkout")  # the other checkout's own lessons/05, as its learner has it

    def run(folder: Path) -> Run:
        # The other checkout runs its own engine: WORKSHOP_ROOT names it. One process a run: four runs of two
        # processes each, with lesson 05's concurrency checks, asked for more than PostgreSQL's 100 connections.
        env = {**os.environ, "WORKSHOP_SHARDS": "1"}
        return run_checks(folder, env={**env, "WORKSHOP_ROOT": str(repo_copy)} if folder == there else env)

    # The first run builds its template and starts cloning from it; only then do the others start,
    # each building a template of its own and clearing away the lesson's others that nobody uses.
    first = here[0]
    first_template = database.template_name(first, "05")
    with ThreadPoolExecutor(max_workers=4) as pool:
        started = pool.submit(run, first)
        deadline = time.monotonic() + 60
        while first_template not in _names(database.TEMPLATE_PREFIX) and time.monotonic() < deadline:
            time.sleep(0.1)
        others = [pool.submit(run, folder) for folder in [*here[1:], there]]
        runs = [started.result(), *(other.result() for other in others)]
    for folder, done in zip([*here, there], runs, strict=True):
        assert done.problems_as_solution() == [], f"{folder}:\n{done.output[-3000:]}"
    assert all(done.returncode == 0 for done in runs)


def test_a_template_in_use_is_never_dropped() -> None:
    target = database.server()
    prefix = f"{database.TEMPLATE_PREFIX}{database.checkout_id()}_44_"
    used, stale, current = f"{prefix}aaaaaaaaaaaa", f"{prefix}bbbbbbbbbbbb", f"{prefix}cccccccccccc"

    async def scenario() -> tuple[list[str], list[str]]:
        for name in (used, stale, current):
            await database.create_database(target, name)
        lease = await database.lease_template(target, used)  # a live run clones from `used`
        try:
            first = await database.drop_unused_templates(target, "44", keep=current, spare=0)
        finally:
            await lease.release()
        second = await database.drop_unused_templates(target, "44", keep=current, spare=0)
        await database.drop_database(target, current)
        return first, second

    first, second = asyncio.run(scenario())
    assert first == [stale], "only the template nobody uses goes"
    assert second == [used], "once its run has ended, the old template goes too"
