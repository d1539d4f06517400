"""Lesson 09 checks, step 1: the users table, every account linked to a user, and migration 0003.

The model checks read your classes; the database checks run on the database `alembic upgrade head`
made with your migrations. The migration checks run Alembic in-process on a database of the check's
own, with rows in it: a migration that only works on an empty database fails in production.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from workshop import migrations
from workshop.grading import load

from .conftest import lesson_error

pytestmark = pytest.mark.step(1)


def models() -> Any:
    return load("app.models")


DIALECT = postgresql.dialect()


def columns(table: Table) -> dict[str, tuple[str, bool, bool]]:
    """name → (PostgreSQL type, nullable, has a server default)."""
    return {
        column.name: (column.type.compile(dialect=DIALECT), bool(column.nullable), column.server_default is not None)
        for column in table.columns
    }


def test_users_has_the_columns_of_the_contract() -> None:
    """Hint: id (UUIDv7, the primary key), email (String(254)), password_hash (Text), created_at (server default)."""
    User = getattr(models(), "User", None)
    if User is None:
        raise lesson_error("app.models has no User; import it in app/models/__init__.py (step 1)")
    table = User.__table__
    expected = {
        "id": ("UUID", False, False),
        "email": ("VARCHAR(254)", False, False),
        "password_hash": ("TEXT", False, False),
        "created_at": ("TIMESTAMP WITH TIME ZONE", False, True),
    }
    actual = columns(table)
    for name, (kind, nullable, server_default) in expected.items():
        assert name in actual, f"Lesson 09: users has no column {name!r}; it has {sorted(actual)} (step 1)"
        assert actual[name][0] == kind, f"Lesson 09: users.{name} is {actual[name][0]}; make it {kind} (step 1)"
        assert actual[name][1] == nullable, f"Lesson 09: users.{name} may be NULL; every user has one (step 1)"
        assert actual[name][2] == server_default, (
            f"Lesson 09: users.{name} {'needs' if server_default else 'should have no'} a server default (step 1)"
        )
    leaking = sorted(set(actual) - set(expected))
    assert not leaking, (
        f"Lesson 09: users has the extra columns {leaking}; the password itself is never stored, only its hash (step 1)"
    )
    assert [column.name for column in table.primary_key.columns] == ["id"], "Lesson 09: users' key is id (step 1)"


def test_the_model_makes_emails_unique_whatever_their_case() -> None:
    """Hint: `Index("uq_users_email_lower", func.lower(User.email), unique=True)`, below the class."""
    User = models().User
    found = {
        str(index.name): (bool(index.unique), [str(expression) for expression in index.expressions])
        for index in User.__table__.indexes
    }
    unique_emails = {name: expressions for name, (unique, expressions) in found.items() if unique}
    assert any("lower" in " ".join(expressions) for expressions in unique_emails.values()), (
        f"Lesson 09: the unique indexes of users are {unique_emails or 'none'}; Ada@Example.com and "
        "ada@example.com are one mailbox: index lower(email), unique, as uq_users_email_lower (step 1)"
    )


def test_every_account_belongs_to_a_user_in_the_model() -> None:
    """Hint: `user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)`."""
    table = models().Account.__table__
    actual = columns(table)
    assert "user_id" in actual, f"Lesson 09: accounts has no column user_id; it has {sorted(actual)} (step 1)"
    assert actual["user_id"][:2] == ("UUID", False), (
        f"Lesson 09: accounts.user_id is {actual['user_id'][0]}{', nullable' if actual['user_id'][1] else ''}; an "
        "account without a user would be nobody's, and everybody's to read: Mapped[uuid.UUID], NOT NULL (step 1)"
    )
    targets = {(key.parent.name, key.column.table.name, key.column.name) for key in table.foreign_keys}
    assert ("user_id", "users", "id") in targets, (
        f"Lesson 09: accounts' foreign keys are {sorted(targets)}; user_id must reference users.id (step 1)"
    )
    actions = {str(key.ondelete or "NO ACTION").upper() for key in table.foreign_keys if key.parent.name == "user_id"}
    assert actions <= {"RESTRICT", "NO ACTION"}, (
        f"Lesson 09: accounts.user_id is declared with ondelete={', '.join(sorted(actions))}: deleting a user "
        'would delete (or orphan) accounts that hold money. ondelete="RESTRICT" (step 1)'
    )
    assert any(index.columns.keys() == ["user_id"] for index in table.indexes), (
        "Lesson 09: accounts.user_id has no index: every page of GET /api/v1/accounts asks for one user's "
        "accounts; index=True (step 1)"
    )


async def require_users_table(connection: AsyncConnection) -> None:
    found = (await connection.execute(text("SELECT to_regclass('users') IS NOT NULL"))).scalar_one()
    if not found:
        raise lesson_error(
            "the migrated database has no table users; write migrations/versions/0003_users.py (`uv run alembic "
            "revision --autogenerate --rev-id 0003 -m users`, then edit it) and run `uv run alembic upgrade head` in "
            "lessons/09 (step 1)"
        )


async def test_the_migrated_database_matches_the_models(db_connection: AsyncConnection) -> None:
    """Hint: `uv run alembic check` in lessons/09 lists what the migrations leave out."""
    await require_users_table(db_connection)
    metadata = models().Base.metadata

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    found = await db_connection.run_sync(differences)
    assert found == [], (
        f"Lesson 09: after `alembic upgrade head` the database still differs from the models: {found}; make "
        "migration 0003 create what the models declare (step 1)"
    )


async def test_the_database_refuses_one_email_twice_in_another_case(db_connection: AsyncConnection) -> None:
    """Hint: a unique index on lower(email) in the migration: the database, not the service, has the last word."""
    await require_users_table(db_connection)
    insert = text("INSERT INTO users (id, email, password_hash) VALUES (:id, :email, 'x')")
    await db_connection.execute(insert, {"id": uuid.uuid4(), "email": "Ada@Example.com"})
    try:
        async with db_connection.begin_nested():
            await db_connection.execute(insert, {"id": uuid.uuid4(), "email": "ada@example.COM"})
    except IntegrityError:
        return
    raise AssertionError(
        "Lesson 09: the database accepted a user ada@example.COM beside Ada@Example.com: two users for one mailbox, "
        "and a log-in could find either. Create a unique index on lower(email) in migration 0003 (step 1)"
    )


@pytest.mark.parametrize("user", ["none", "unknown"])
async def test_the_database_refuses_an_account_without_a_user(db_connection: AsyncConnection, user: str) -> None:
    """Hint: the column is NOT NULL and a foreign key to users.id in the migration, not only in the model."""
    await require_users_table(db_connection)
    user_id = None if user == "none" else uuid.uuid4()
    try:
        async with db_connection.begin_nested():
            await db_connection.execute(
                text("INSERT INTO accounts (id, owner, currency, user_id) VALUES (:id, 'Ada', 'EUR', :user)"),
                {"id": uuid.uuid4(), "user": user_id},
            )
    except IntegrityError:
        return
    what = "NULL" if user_id is None else "the id of no user"
    fix = "user_id NOT NULL (after the existing rows got a user)" if user_id is None else "a foreign key to users.id"
    raise AssertionError(f"Lesson 09: the database accepted an account whose user_id is {what}; give it {fix} (step 1)")


# --- migration 0003, with rows in the database --------------------------------------------------------


@asynccontextmanager
async def alembic_on(url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[migrations.Run, AsyncEngine]]:
    """`await run("downgrade", "0002")`: Alembic commands in-process on `url`; the engine to look at it."""
    advice = ". {what}() must handle the rows that are there"
    async with migrations.alembic_on(url, monkeypatch, holds="accounts and entries", step=1, advice=advice) as (
        run,
        engine,
        _,
    ):
        yield run, engine


async def ledger_rows(engine: AsyncEngine) -> dict[str, Any]:
    """What the ledger holds: each account's balance, and each entry."""
    async with engine.connect() as connection:
        accounts = dict((await connection.execute(text("SELECT id, balance FROM accounts"))).all())
        entries = dict((await connection.execute(text("SELECT id, amount FROM entries"))).all())
    return {"accounts": accounts, "entries": entries}


async def add_ledger_rows(engine: AsyncEngine, user_id: uuid.UUID | None = None) -> None:
    """Two accounts (of `user_id`, when the schema has users) and a deposit and a transfer between them."""
    a, b, transfer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    owner = ", user_id" if user_id else ""
    value = ", :user" if user_id else ""
    async with engine.begin() as connection:
        await connection.execute(
            text(f"INSERT INTO accounts (id, owner, currency, balance{owner}) VALUES (:id, 'Ada', 'EUR', :b{value})"),
            [{"id": a, "b": 700, "user": user_id}, {"id": b, "b": 300, "user": user_id}],
        )
        await connection.execute(
            text("INSERT INTO entries (id, account_id, amount, transfer_id) VALUES (:id, :account, :amount, :t)"),
            [
                {"id": uuid.uuid4(), "account": a, "amount": 1000, "t": None},
                {"id": uuid.uuid4(), "account": a, "amount": -300, "t": transfer},
                {"id": uuid.uuid4(), "account": b, "amount": 300, "t": transfer},
            ],
        )


async def scalar(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql))).scalar()


async def test_the_migration_keeps_the_accounts_that_were_there(
    clean_env: Path, committed_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: add user_id nullable, give every existing account a user, then make it NOT NULL; delete nothing."""
    async with alembic_on(committed_database_url, monkeypatch) as (run, engine):
        if await scalar(engine, "SELECT to_regclass('users') IS NULL"):
            raise lesson_error("`alembic upgrade head` made no table users; write migration 0003 (step 1)")
        await run("downgrade", "0002")
        await add_ledger_rows(engine)
        before = await ledger_rows(engine)
        await run("upgrade", "head")
        after = await ledger_rows(engine)
        unowned = await scalar(engine, "SELECT count(*) FROM accounts WHERE user_id IS NULL")
    assert after == before, (
        f"Lesson 09: `alembic upgrade head` on a database with {len(before['accounts'])} accounts and "
        f"{len(before['entries'])} entries left {len(after['accounts'])} accounts and {len(after['entries'])} entries"
        f"{'' if len(after['accounts']) < len(before['accounts']) else ', with other balances'}: money that existed "
        "before the migration must exist after it. Give the existing accounts a user; delete nothing (step 1)"
    )
    assert unowned == 0, f"Lesson 09: after the upgrade {unowned} accounts have no user (step 1)"


async def test_the_migration_goes_down_and_up_again_with_data_in_it(
    clean_env: Path, committed_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: downgrade() undoes upgrade() in reverse order: the foreign key, the index, the column, then users."""
    async with alembic_on(committed_database_url, monkeypatch) as (run, engine):
        if await scalar(engine, "SELECT to_regclass('users') IS NULL"):
            raise lesson_error("`alembic upgrade head` made no table users; write migration 0003 (step 1)")
        user_id = uuid.uuid4()
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO users (id, email, password_hash) VALUES (:id, 'ada@example.com', 'x')"),
                {"id": user_id},
            )
        await add_ledger_rows(engine, user_id)
        before = await ledger_rows(engine)
        await run("downgrade", "0002")
        down = await ledger_rows(engine)
        users_left = await scalar(engine, "SELECT to_regclass('users') IS NOT NULL")
        column_left = await scalar(
            engine,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'user_id'",
        )
        assert down == before, (
            f"Lesson 09: `alembic downgrade 0002` left {len(down['accounts'])} of {len(before['accounts'])} accounts "
            f"and {len(down['entries'])} of {len(before['entries'])} entries: a downgrade forgets who owned what, "
            "never the money. Drop the link and the users; keep every account and entry (step 1)"
        )
        assert not users_left and not column_left, (
            "Lesson 09: after `alembic downgrade 0002` "
            + ("the table users is still there" if users_left else "accounts still has user_id")
            + ": downgrade() must undo everything upgrade() did, or the next upgrade fails on what it left (step 1)"
        )
        await run("upgrade", "head")
        up = await ledger_rows(engine)
    assert up == before, "Lesson 09: upgrading again after the downgrade lost accounts or entries (step 1)"
