"""Lesson 03 checks, steps 5-6: Alembic's configuration, the async env.py, and the first migration.

Alembic runs in-process on your alembic.ini and migrations/, against databases of the checks'
own: an empty one, or a copy of the database `alembic upgrade head` built for this run.
"""

import io
import shutil
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from workshop.grading import folder, load

AlembicOn = Callable[..., Any]  # conftest.alembic_on: alembic_on(url, folder=…) → Alembic

BROKEN_REVISION = '''"""A deliberately broken revision: it creates a table, then fails."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("ALTER TABLE no_such_table ADD COLUMN oops integer")


def downgrade() -> None:
    op.drop_table("half_done")
'''


async def state(url: str) -> tuple[set[str], list[str]]:
    """The tables of a database, and the revisions in its alembic_version table."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            versions: list[str] = []
            if "alembic_version" in tables:
                versions = list((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
            return tables, versions
    finally:
        await engine.dispose()


@pytest.mark.step(5)
def test_alembic_ini_finds_the_migrations_and_holds_no_url(alembic_on: AlembicOn) -> None:
    """Hint: `script_location = %(here)s/migrations`; the URL comes from the settings, in env.py."""
    alembic = alembic_on("postgresql+asyncpg://nobody@localhost/unused")
    config = alembic.config()
    location = config.get_alembic_option("script_location")
    assert location, "Lesson 03: alembic.ini has no script_location in its [alembic] section (step 5)"
    assert (folder() / location).resolve() == (folder() / "migrations").resolve(), (
        f"Lesson 03: script_location is {location!r}; point it at the migrations folder: %(here)s/migrations (step 5)"
    )
    assert not config.get_main_option("sqlalchemy.url"), (
        "Lesson 03: alembic.ini holds a sqlalchemy.url; remove it: env.py reads LEDGER_DATABASE_URL through "
        "get_settings(), so no password lands in git (step 5)"
    )


@pytest.mark.step(5)
async def test_offline_mode_prints_the_sql_of_the_migrations(alembic_on: AlembicOn) -> None:
    """Hint: `alembic upgrade head --sql` runs run_migrations_offline(): configure with url= and literal_binds=True."""
    alembic = alembic_on("postgresql+asyncpg://nobody@localhost/unused")  # offline: never connects
    output = io.StringIO()
    await alembic.run("upgrade head --sql", lambda config: command.upgrade(config, "head", sql=True), output)
    sql = output.getvalue()
    assert "CREATE TABLE alembic_version" in sql, (
        "Lesson 03: `alembic upgrade head --sql` printed no SQL; run the migrations inside "
        "context.begin_transaction() in run_migrations_offline() (step 5)"
    )
    assert "CREATE TABLE accounts" in sql and "CREATE TABLE entries" in sql, (
        "Lesson 03: the SQL of `alembic upgrade head --sql` creates no accounts and entries tables; "
        "write upgrade() of the first migration (step 6)"
    )


@pytest.mark.step(5)
async def test_upgrade_head_on_an_empty_database_records_the_head_revision(
    alembic_on: AlembicOn, empty_database_url: str
) -> None:
    """Hint: env.py reads the URL from get_settings() and runs the migrations through `connection.run_sync`."""
    alembic = alembic_on(empty_database_url)
    await alembic.upgrade("head")
    tables, versions = await state(empty_database_url)
    assert tables, (
        "Lesson 03: `alembic upgrade head` ran but left the database empty: nothing was committed. Run the "
        "migrations inside `with context.begin_transaction():` in do_run_migrations() (step 5)"
    )
    assert {"accounts", "entries"} <= tables, (
        f"Lesson 03: after `alembic upgrade head` the database has the tables {sorted(tables)}; "
        "upgrade() should create accounts and entries (step 6)"
    )
    head = alembic.head()
    assert versions == [head], (
        f"Lesson 03: alembic_version holds {versions}, not the head revision {head!r}; run the migrations inside "
        "`with context.begin_transaction():` so Alembic records (and commits) the version (step 5)"
    )


@pytest.mark.step(6)
async def test_the_migrated_schema_matches_the_models(db_connection: AsyncConnection) -> None:
    """Hint: `alembic check` (or `alembic revision --autogenerate`) lists what upgrade() missed."""
    metadata = load("app.models").Base.metadata

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    found = await db_connection.run_sync(differences)
    shown = "; ".join(str(difference) for difference in found[:4])
    assert not found, (
        f"Lesson 03: the migrated database differs from the models in {len(found)} place(s): {shown}. "
        "Make upgrade() create exactly the models' tables, columns, types and indexes (step 6)"
    )


@pytest.mark.step(6)
async def test_the_database_names_constraints_by_the_convention(db_connection: AsyncConnection) -> None:
    """Hint: name every constraint in the migration with `op.f("ck_accounts_balance_not_negative")` and friends."""
    rows = await db_connection.execute(
        text(
            "SELECT conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE t.relname IN ('accounts', 'entries') AND c.contype IN ('p', 'f', 'c', 'u')"
        )
    )
    names = set(rows.scalars())
    expected = {
        "pk_accounts",
        "ck_accounts_balance_not_negative",
        "ck_accounts_currency_is_iso_code",
        "pk_entries",
        "fk_entries_account_id_accounts",
        "ck_entries_amount_not_zero",
    }
    assert names >= expected, (
        f"Lesson 03: the migrated database lacks the constraints {sorted(expected - names)} (it has "
        f"{sorted(names)}); create each in upgrade() with its convention name (step 6)"
    )


@pytest.mark.step(6)
async def test_the_database_refuses_a_negative_balance(db_session: AsyncSession) -> None:
    """Hint: the CHECK constraint lives in the migration too: `sa.CheckConstraint("balance >= 0", name=op.f(...))`."""
    db_session.add(load("app.models").Account(owner="Overdrawn", currency="EUR", balance=-1))
    try:
        await db_session.flush()
    except IntegrityError as error:
        await db_session.rollback()
        assert "ck_accounts_balance_not_negative" in str(error.orig), (
            f"Lesson 03: a negative balance was refused, but not by ck_accounts_balance_not_negative: {error.orig} "
            "(step 6)"
        )
    else:
        raise AssertionError(
            "Lesson 03: the database accepted an account with balance -1; the CHECK constraint balance >= 0 "
            "must be in the migration, not only in the model (step 6)"
        )


@pytest.mark.step(6)
async def test_the_migration_goes_down_to_base_and_up_again(alembic_on: AlembicOn, empty_database_url: str) -> None:
    """Hint: downgrade() undoes upgrade() in reverse order: the indexes, then entries, then accounts."""
    alembic = alembic_on(empty_database_url)
    await alembic.upgrade("head")
    await alembic.downgrade("base")
    tables, versions = await state(empty_database_url)
    assert tables <= {"alembic_version"}, (
        f"Lesson 03: after `alembic downgrade base` the tables {sorted(tables - {'alembic_version'})} are still "
        "there; drop them in downgrade() (step 6)"
    )
    assert versions == [], f"Lesson 03: after downgrade base, alembic_version still holds {versions} (step 6)"
    await alembic.upgrade("head")  # fails if downgrade() left something behind, an index say
    tables, versions = await state(empty_database_url)
    assert {"accounts", "entries"} <= tables and versions == [alembic.head()], (
        f"Lesson 03: upgrade, downgrade, upgrade again left the tables {sorted(tables)} at {versions} (step 6)"
    )


@pytest.mark.step(5)
async def test_a_failing_migration_names_its_file_and_changes_nothing(
    alembic_on: AlembicOn, empty_database_url: str, tmp_path: Path
) -> None:
    """Hint: `with context.begin_transaction(): context.run_migrations()` — PostgreSQL can roll back DDL."""
    copy = tmp_path / "lesson"
    shutil.copytree(folder() / "migrations", copy / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(folder() / "alembic.ini", copy / "alembic.ini")
    alembic = alembic_on(empty_database_url)
    await alembic.upgrade("head")
    head = alembic.head()
    broken = copy / "migrations" / "versions" / "9999_broken.py"
    broken.write_text(BROKEN_REVISION.format(head=head), encoding="utf-8")

    try:
        await alembic_on(empty_database_url, folder=copy).upgrade("head")
    except DBAPIError as error:
        story = "".join(traceback.format_exception(error))
        assert broken.name in story, (
            f"Lesson 03: a failing migration's error does not name its file {broken.name} (step 5)"
        )
    else:
        raise AssertionError(
            "Lesson 03: a revision that runs `ALTER TABLE no_such_table …` did not fail; does env.py "
            "swallow errors? Let them propagate, so a broken deployment stops (step 5)"
        )
    tables, versions = await state(empty_database_url)
    assert "half_done" not in tables and versions == [head], (
        f"Lesson 03: the failed revision left its half-done work behind (tables {sorted(tables)}, version "
        f"{versions}); run all migrations inside one `context.begin_transaction()` (step 5)"
    )
