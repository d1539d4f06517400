"""Lesson 11 checks, step 1: accounts.updated_at, added, backfilled and made required without downtime.

The checks run your migrations with Alembic, in-process, on a database of the check's own (commits
are real: a backfill in batches commits each batch). Rows are written with SQL, as an older release
of the app wrote them, between the revisions.
"""

import asyncio
import io
import re
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from workshop import grading, migrations
from workshop.grading import load

from .conftest import lesson_error

pytestmark = pytest.mark.step(1)

ROWS = 2_500  # accounts in the database when the backfill runs
LARGEST_BATCH = 1_000  # rows one backfill transaction may hold locked


@asynccontextmanager
async def alembic_on(url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[migrations.Run, AsyncEngine]]:
    """`await run("downgrade", "0003")`: Alembic commands in-process on `url`; the engine to look at it."""
    async with migrations.alembic_on(url, monkeypatch, holds="accounts", step=1) as (run, engine, config):
        if "0005" not in await asyncio.to_thread(revisions, config):
            raise lesson_error(
                "migrations/versions has no revisions 0004 and 0005: write the expand (0004) and the contract "
                "(0005) (step 1)"
            )

        left: list[str] = []  # what the last `downgrade 0003` left of 0004's upgrade

        async def checked(what: str, target: str) -> None:
            try:
                await run(what, target)
            except grading.LessonError as error:
                said = str(error).removeprefix("Lesson 11: ").removesuffix(" (step 1)")
                if what == "upgrade" and "already exists" in said and left:
                    raise lesson_error(
                        f"{said}: the check had run `alembic downgrade 0003` just before, and it left accounts with "
                        f"{', '.join(left)}. Each downgrade() drops all that its upgrade() made, the index "
                        "included (step 1)"
                    ) from None
                raise
            if what == "downgrade" and target == "0003":
                left[:] = left_behind(await accounts_schema(engine))

        yield checked, engine


def revisions(config: Config) -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


# `--sql` connects to nothing; the URL only names the dialect.
OFFLINE_URL = "postgresql+asyncpg://ledger:offline@localhost:5432/offline"


async def offline_sql(target: str, monkeypatch: pytest.MonkeyPatch, direction: str = "upgrade") -> str:
    """What `alembic <direction> <target> --sql` prints."""
    output = io.StringIO()
    config = Config(str(grading.folder() / "alembic.ini"), stdout=output, output_buffer=output)
    config.attributes["configure_logger"] = False
    monkeypatch.setenv("LEDGER_DATABASE_URL", OFFLINE_URL)
    monkeypatch.setattr(sys, "path", list(sys.path))
    load("app.core.config").get_settings.cache_clear()
    if "0005" not in await asyncio.to_thread(revisions, config):
        raise lesson_error("migrations/versions has no revisions 0004 and 0005 (step 1)")
    try:
        await asyncio.to_thread(getattr(command, direction), config, target, sql=True)
    except CommandError as error:
        raise lesson_error(f"`alembic {direction} {target} --sql` failed: {error} (step 1)") from None
    return output.getvalue()


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def utc(moment: str) -> str:
    return shown(at(moment))


async def scalar(engine: AsyncEngine, sql: str, **parameters: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql), parameters)).scalar()


async def add_user(engine: AsyncEngine) -> uuid.UUID:
    user_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO users (id, email, password_hash) VALUES (:id, :email, 'x')"),
            {"id": user_id, "email": f"{user_id.hex[:10]}@example.com"},
        )
    return user_id


async def before_the_expand(run: migrations.Run, engine: AsyncEngine, *, rows: int) -> None:
    """The database at 0003, before updated_at, holding `rows` accounts of one new user."""
    await run("downgrade", "0003")
    user_id = await add_user(engine)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO accounts (id, owner, currency, balance, user_id) "
                "SELECT gen_random_uuid(), 'account ' || n, 'EUR', 0, :user FROM generate_series(1, :rows) AS n"
            ),
            {"user": user_id, "rows": rows},
        )


async def add_history(engine: AsyncEngine, user_id: uuid.UUID) -> dict[str, str]:
    """Three accounts opened at known times: one with entries (the newest at a known time), two without."""
    active, quiet, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO accounts (id, owner, currency, balance, user_id, created_at) "
                "VALUES (:id, 'Ada', 'EUR', :balance, :user, :opened)"
            ),
            [
                {"id": active, "balance": 700, "user": user_id, "opened": at("2026-01-01T00:00:00+00:00")},
                {"id": quiet, "balance": 0, "user": user_id, "opened": at("2026-02-01T00:00:00+00:00")},
                {"id": other, "balance": 0, "user": user_id, "opened": at("2026-03-01T00:00:00+00:00")},
            ],
        )
        await connection.execute(
            text("INSERT INTO entries (id, account_id, amount, created_at) VALUES (:id, :account, :amount, :at)"),
            [
                {"id": uuid.uuid4(), "account": active, "amount": 1000, "at": at("2026-04-01T00:00:00+00:00")},
                {"id": uuid.uuid4(), "account": active, "amount": -300, "at": at("2026-05-01T00:00:00+00:00")},
            ],
        )
    return {
        str(active): utc("2026-05-01T00:00:00+00:00"),  # its newest entry
        str(quiet): utc("2026-02-01T00:00:00+00:00"),  # no entry: when it was opened
        str(other): utc("2026-03-01T00:00:00+00:00"),
    }


async def updated_at(engine: AsyncEngine) -> dict[str, str]:
    """Each account's updated_at, in UTC, as text ("NULL" for none)."""
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT id, updated_at FROM accounts"))).all()
    return {str(row[0]): shown(row[1]) for row in rows}


def shown(moment: datetime | None) -> str:
    return "NULL" if moment is None else moment.astimezone(UTC).isoformat(sep=" ")


COLUMN_DEFAULT = (
    "SELECT column_default FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = 'accounts' AND column_name = 'updated_at'"
)


async def test_the_backfill_sets_when_each_balance_last_changed(
    clean_env: Path, committed_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: the newest entry's created_at; for an account without entries, its own created_at. Not now()."""
    async with alembic_on(committed_database_url, monkeypatch) as (run, engine):
        await run("downgrade", "0003")
        expected = await add_history(engine, await add_user(engine))
        await run("upgrade", "0004")
        found = await updated_at(engine)
    wrong = {key: found.get(key) for key in expected if found.get(key) != expected[key]}
    assert not wrong, (
        f"Lesson 11: after `alembic upgrade 0004` the existing accounts' updated_at is {sorted(wrong.values())}; "
        f"expected {sorted(expected[key] for key in wrong)}: the time of each account's newest entry, or when it was "
        "opened. A column added with a default (or NOT NULL and a default) gives every old row the migration's "
        "time, and the backfill then finds nothing to fill (step 1)"
    )


async def test_the_backfill_commits_batch_by_batch(
    clean_env: Path, committed_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: UPDATE a batch of the rows still NULL, commit, then the next: `op.get_context().autocommit_block()`."""
    async with alembic_on(committed_database_url, monkeypatch) as (run, engine):
        await before_the_expand(run, engine, rows=ROWS)
        await run("upgrade", "0004")
        # Each row remembers the transaction that last wrote it (xmin): one per committed batch.
        transactions = await scalar(engine, "SELECT count(DISTINCT xmin::text) FROM accounts")
        unfilled = await scalar(engine, "SELECT count(*) FROM accounts WHERE updated_at IS NULL")
        default = await scalar(engine, COLUMN_DEFAULT)
    assert unfilled == 0, (
        f"Lesson 11: after `alembic upgrade 0004` {unfilled} of {ROWS} accounts have no updated_at (step 1)"
    )
    if transactions == 1 and default is not None:
        raise lesson_error(
            f"migration 0004 adds updated_at with a default ({default}): every existing account got it when the "
            "column was added, so the backfill had nothing left to fill and wrote no batch. Add the column "
            "nullable and without a default; the backfill fills it, batch by batch (step 1)"
        )
    needed = -(-ROWS // LARGEST_BATCH)
    how = "one UPDATE, or every batch inside one transaction" if transactions == 1 else "batches too large"
    assert transactions >= needed, (
        f"Lesson 11: the backfill of {ROWS} accounts wrote them all in {transactions} transaction(s): "
        f"{how}. "
        f"Each row it touches stays locked until that transaction commits, so deposits and transfers wait on it. "
        f"Update at most {LARGEST_BATCH} rows per statement, each batch committed (step 1)"
    )


PATIENCE = 8.0  # seconds the backfill may take, with one row held, before it counts as waiting for that row
BACKFILL_UPDATE = re.compile(r"\s*UPDATE\s+accounts\b", re.IGNORECASE)


class HeldRow:
    """One account held locked by another transaction, as a transfer holds it (SELECT … FOR UPDATE), from the
    backfill's first `UPDATE accounts` until the migration runs anything else, or the check lets it go."""

    def __init__(self, engine: AsyncEngine, account: uuid.UUID) -> None:
        self.engine, self.account = engine, account
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()  # the check's own statements run here; Alembic's in a worker
        self.connection: AsyncConnection | None = None
        self.pid: int | None = None
        self.held_since: float | None = None
        self.could_not_hold = False

    async def hold(self) -> None:
        connection = await self.engine.connect()
        try:
            await connection.begin()
            # Backfill batches inside the migration's transaction keep ADD COLUMN's lock: not this check's to judge.
            await connection.execute(text("SET LOCAL lock_timeout = '3s'"))
            self.pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
            await connection.execute(text("SELECT id FROM accounts WHERE id = :id FOR UPDATE"), {"id": self.account})
        except DBAPIError:
            self.could_not_hold = True
            await connection.close()
            return
        self.connection, self.held_since = connection, time.monotonic()

    async def let_go(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            await connection.rollback()
            await connection.close()

    def before_statement(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        """Every statement the migration sends (in Alembic's worker thread) passes here first."""
        if threading.get_ident() == self.loop_thread:
            return  # the check's own statements
        if BACKFILL_UPDATE.match(statement):
            if self.held_since is None and not self.could_not_hold:
                asyncio.run_coroutine_threadsafe(self.hold(), self.loop).result(timeout=25)
        elif self.connection is not None:  # the migration went on while the row was held: let it go
            asyncio.run_coroutine_threadsafe(self.let_go(), self.loop).result(timeout=25)

    async def waiting_on_it(self) -> list[str]:
        """The statements another session runs blocked by the held row's transaction."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT left(query, 90) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
                {"pid": self.pid},
            )
            return [" ".join(str(row[0]).split()) for row in rows]


async def test_the_backfill_passes_over_rows_a_transfer_holds_locked(
    clean_env: Path, committed_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: the batch's SELECT of rows still NULL skips the rows other transactions hold locked; 0005's UPDATE fills
    what is left."""
    async with alembic_on(committed_database_url, monkeypatch) as (run, engine):
        await before_the_expand(run, engine, rows=6)
        account = await scalar(engine, "SELECT id FROM accounts ORDER BY id OFFSET 2 LIMIT 1")
        held = HeldRow(engine, account)
        event.listen(Engine, "before_cursor_execute", held.before_statement)
        try:
            upgrade = asyncio.create_task(run("upgrade", "0004"))
            while not upgrade.done():
                await asyncio.wait({upgrade}, timeout=0.1)
                if held.connection is not None and time.monotonic() - (held.held_since or 0) > PATIENCE:
                    break
            waiting = await held.waiting_on_it() if not upgrade.done() else []
            stuck = not upgrade.done()
            await held.let_go()
            await upgrade
        finally:
            event.remove(Engine, "before_cursor_execute", held.before_statement)
            await held.let_go()
    if stuck:
        blocked = f": `{waiting[0]}…` waited for its lock" if waiting else ""
        raise lesson_error(
            f"while another transaction held one account locked (SELECT … FOR UPDATE, as a transfer does until "
            f"it commits), `alembic upgrade 0004` did not get past its backfill in {PATIENCE:.0f} s{blocked}. A "
            "batch that waits for a row keeps every row it already updated locked: deposits and transfers queue "
            "behind a migration that queues behind one transfer. Let each batch pass over the rows other "
            "transactions hold (SKIP LOCKED); the contract (0005) fills what is left (step 1)"
        )


async def test_the_index_of_keyset_pages_is_built_concurrently_outside_a_transaction(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: `postgresql_concurrently=True`, inside `with op.get_context().autocommit_block():`, both ways."""
    sql = await offline_sql("0003:0004", monkeypatch)
    statements = [part.strip() for part in sql.split(";") if part.strip()]
    index = [
        n for n, statement in enumerate(statements) if re.search(r"CREATE INDEX\b.*\(user_id, id\)", statement, re.S)
    ]
    assert index, (
        "Lesson 11: `alembic upgrade 0003:0004 --sql` creates no index on accounts (user_id, id): v2's keyset pages "
        "would read every account of a user to find the page (step 1)"
    )
    create = statements[index[0]]
    assert "CONCURRENTLY" in create, (
        f"Lesson 11: migration 0004 runs `{create.splitlines()[0][:100]}`: a plain CREATE INDEX blocks every write "
        "to accounts until the index is built. Build it CONCURRENTLY (step 1)"
    )
    before = [statement.upper() for statement in statements[: index[0]]]
    assert before and before[-1].startswith("COMMIT"), (
        "Lesson 11: migration 0004's CREATE INDEX CONCURRENTLY runs inside the migration's transaction block, "
        "where PostgreSQL refuses it: run it in an autocommit block (step 1)"
    )
    printed = await offline_sql("0004:0003", monkeypatch, "downgrade")
    code = "\n".join(line for line in printed.splitlines() if not line.lstrip().startswith("--"))  # no comments
    undone = [part.strip() for part in code.split(";")]
    drops = [n for n, statement in enumerate(undone) if re.search(r"DROP INDEX\b.*ix_accounts_user_id_id", statement)]
    if drops:  # an index left behind is the round-trip check's to report
        drop = undone[drops[0]]
        assert "CONCURRENTLY" in drop and undone[drops[0] - 1].upper().startswith("COMMIT"), (
            f"Lesson 11: migration 0004's downgrade runs `{drop.splitlines()[0][:100]}`: a DROP INDEX that is not "
            "CONCURRENTLY, outside a transaction, takes an ACCESS EXCLUSIVE lock on accounts, and every read and "
            "write of accounts waits behind it. Drop it CONCURRENTLY, in an autocommit block, as the upgrade "
            "built it (step 1)"
        )


async def test_the_contract_makes_updated_at_required_without_a_long_exclusive_lock(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: CHECK (updated_at IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL, then drop the CHECK."""
    sql = (await offline_sql("0004:0005", monkeypatch)).upper()
    set_not_null = sql.find("SET NOT NULL")
    assert set_not_null >= 0, "Lesson 11: migration 0005 does not make accounts.updated_at NOT NULL (step 1)"
    validated = sql.find("VALIDATE CONSTRAINT")
    assert "NOT VALID" in sql and 0 <= validated < set_not_null, (
        "Lesson 11: migration 0005 runs SET NOT NULL on accounts.updated_at without a validated CHECK first: "
        "PostgreSQL then scans the whole table under an ACCESS EXCLUSIVE lock, and no read or write of accounts "
        "gets through until it ends. Add the CHECK NOT VALID, VALIDATE it, then SET NOT NULL (step 1)"
    )


async def test_updated_at_is_required_and_has_a_default_after_the_contract(db_connection: Any) -> None:
    """Hint: the contract sets NOT NULL and a server default now(): rows written with SQL get one too."""
    user_id = uuid.uuid4()
    await db_connection.execute(
        text("INSERT INTO users (id, email, password_hash) VALUES (:id, 'raw@example.com', 'x')"), {"id": user_id}
    )
    try:
        async with db_connection.begin_nested():
            filled = await db_connection.execute(
                text(
                    "INSERT INTO accounts (id, owner, currency, user_id) VALUES (:id, 'Raw', 'EUR', :user) "
                    "RETURNING updated_at"
                ),
                {"id": uuid.uuid4(), "user": user_id},
            )
            value = filled.scalar()
    except IntegrityError:
        value = None
    assert value is not None, (
        "Lesson 11: an account inserted with SQL (as the seeding scripts and older releases do) got updated_at "
        "NULL, or was refused for it: give the column a server default in the contract (step 1)"
    )
    nullable = (
        await db_connection.execute(
            text(
                "SELECT is_nullable FROM information_schema.columns "
                "WHERE table_name = 'accounts' AND column_name = 'updated_at'"
            )
        )
    ).scalar()
    assert nullable == "NO", "Lesson 11: after `alembic upgrade head` accounts.updated_at is still nullable (step 1)"


async def test_the_contract_goes_down_and_up_keeping_every_value(
    clean_env: Path, committed_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: the contract's downgrade relaxes the column (nullable, no default); it never drops it."""
    async with alembic_on(committed_database_url, monkeypatch) as (run, engine):
        await run("downgrade", "0003")
        await add_history(engine, await add_user(engine))
        await run("upgrade", "head")
        async with engine.begin() as connection:  # a value no backfill would compute: the app wrote it
            await connection.execute(text("UPDATE accounts SET updated_at = '2026-06-06T06:06:06+00:00'"))
        before = await updated_at(engine)
        await run("downgrade", "0004")
        down = await updated_at(engine)
        await run("upgrade", "head")
        up = await updated_at(engine)
    assert down == before, (
        f"Lesson 11: `alembic downgrade 0004` changed accounts.updated_at from {sorted(set(before.values()))} to "
        f"{sorted(set(down.values()))}: the contract's downgrade lost the values the app wrote. Make the column "
        "nullable again, without dropping it (step 1)"
    )
    assert up == before, "Lesson 11: `alembic upgrade head` after the downgrade changed accounts.updated_at (step 1)"


async def accounts_schema(engine: AsyncEngine) -> dict[str, str]:
    """accounts as the catalogue has it: each column (type, NULL or not, default), index and constraint."""
    async with engine.connect() as connection:
        columns = (
            await connection.execute(
                text(
                    "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = 'accounts'"
                )
            )
        ).all()
        indexes = (
            await connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = current_schema() AND tablename = 'accounts'"
                )
            )
        ).all()
        constraints = (
            await connection.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'accounts'::regclass"
                )
            )
        ).all()
    described = {
        f"column {name}": f"{kind}, {'NULL' if nullable == 'YES' else 'NOT NULL'}, "
        f"{'default ' + default if default is not None else 'no default'}"
        for name, kind, nullable, default in columns
    }
    described |= {f"index {name}": definition.split(" USING ", 1)[-1] for name, definition in indexes}
    described |= {f"constraint {name}": definition for name, definition in constraints}
    return described


def left_behind(schema: dict[str, str]) -> list[str]:
    """What of 0004's upgrade (the column, the index on (user_id, id)) a schema of accounts still has."""
    return [
        f"{key} ({value})"
        for key, value in sorted(schema.items())
        if "updated_at" in key or "updated_at" in value or value.replace(" ", "").endswith("(user_id,id)")
    ]


def differences(found: dict[str, str], expected: dict[str, str]) -> list[str]:
    """`column updated_at: …, default now() (expected …, no default)`, one per difference."""
    return [
        f"{key}: {found.get(key, 'absent')} (expected {expected.get(key, 'absent')})"
        for key in sorted(found.keys() | expected.keys())
        if found.get(key) != expected.get(key)
    ]


async def test_each_downgrade_undoes_all_of_its_upgrade(
    clean_env: Path, committed_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: a downgrade leaves the table as the revision before found it: 0005's default, 0004's index, all of it."""
    async with alembic_on(committed_database_url, monkeypatch) as (run, engine):
        await run("downgrade", "0004")
        contract_undone = await accounts_schema(engine)
        await run("downgrade", "0003")
        expand_undone = await accounts_schema(engine)
        left = left_behind(expand_undone)
        assert not left, (
            f"Lesson 11: after `alembic downgrade 0003` accounts still has {', '.join(left)}: migration 0004's "
            "downgrade left behind what its upgrade created, and the next `alembic upgrade 0004` fails on it "
            '("already exists"). downgrade() drops the index (concurrently) and the column (step 1)'
        )
        await run("upgrade", "0004")
        expanded = await accounts_schema(engine)
    column = expanded.get("column updated_at", "")
    if not column.endswith(", NULL, no default"):
        raise lesson_error(
            f"after `alembic upgrade 0004` accounts has column updated_at: {column} (expected nullable, no default): "
            "migration 0004's upgrade, the expand, adds it NOT NULL or with a default, which only the contract "
            "(0005) may do; the downgrade of 0005 is not the one to blame, 0004's upgrade is. Add the column "
            "nullable and without a default (step 1)"
        )
    wrong = differences(contract_undone, expanded)
    assert not wrong, (
        f"Lesson 11: after `alembic downgrade 0004` accounts is not the table `alembic upgrade 0004` builds: "
        f"{'; '.join(wrong)}. Migration 0005's downgrade left part of the contract behind: a database at 0004 is "
        "then one table when it came up and another when it came down, and the next revision is written against "
        "the wrong one. Undo all of upgrade(): nullable again, and no default (step 1)"
    )
