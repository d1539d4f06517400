"""Lesson 05 checks, step 4: an idempotency key makes a retried transfer a replay, never a second payment.

The table comes first: your migration 0002 creates `idempotency_keys` to match the model in
app/models/idempotency.py. The service checks then run on `db_session` (rolled back after the
check), and the last one sends two requests with one key at the same time, on real commits.
"""

import asyncio
import io
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from workshop import grading
from workshop.grading import LessonError, load

from .conftest import (
    add_accounts,
    balance_of,
    balances,
    committed_accounts,
    count_entries,
    forbid_rollback_in_app,
    refused,
    wait_for_waiters,
)

pytestmark = pytest.mark.step(4)

NO_TABLE = (
    "Lesson 05: the database has no table idempotency_keys; write migrations/versions/0002_idempotency_keys.py "
    "and check it with `uv run alembic upgrade head` in lessons/05 (step 4)"
)


LOCK_NOWAIT = text("SELECT id FROM accounts WHERE id = ANY(:ids) FOR UPDATE NOWAIT")


def transfer_service(session: AsyncSession) -> Any:
    return load("app.services.transfers").TransferService(session)


async def has_table(connection: AsyncConnection | AsyncSession) -> bool:
    found = (await connection.execute(text("SELECT to_regclass('idempotency_keys') IS NOT NULL"))).scalar_one()
    return bool(found)


# What compare_metadata does not compare: the primary key, and which columns the database fills itself.
PRIMARY_KEY = text(
    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
    "WHERE i.indrelid = 'idempotency_keys'::regclass AND i.indisprimary ORDER BY a.attname"
)
DEFAULTS = text(
    "SELECT column_name FROM information_schema.columns "
    "WHERE table_name = 'idempotency_keys' AND table_schema = current_schema() AND column_default IS NOT NULL"
)


async def table_problems(connection: AsyncConnection | AsyncSession) -> list[str]:
    """How the table idempotency_keys differs from the model in its primary key and server defaults."""
    table = load("app.models").IdempotencyKey.__table__
    wanted_key = sorted(column.name for column in table.primary_key.columns)
    found_key = sorted((await connection.execute(PRIMARY_KEY)).scalars())
    problems = []
    if found_key != wanted_key:
        problems.append(
            f"its primary key is {found_key or 'missing'}, the model's is {wanted_key}: nothing stops two rows "
            "with one key, and INSERT … ON CONFLICT (key) has no constraint to wait on"
        )
    defaults = set((await connection.execute(DEFAULTS)).scalars())
    for column in table.columns:
        if column.server_default is not None and column.name not in defaults:
            problems.append(
                f"its column {column.name} has no default, the model's has server_default: every INSERT that "
                "leaves it out fails"
            )
    return problems


async def require_table(session: AsyncSession) -> None:
    """The table exists and has the model's primary key and defaults: else a lesson message about the migration."""
    if not await has_table(session):
        raise LessonError(NO_TABLE)
    problems = await table_problems(session)
    if problems:
        raise LessonError(
            f"Lesson 05: the table idempotency_keys that migration 0002 made differs from the model: "
            f"{'; '.join(problems)}. Make the migration create it as app/models/idempotency.py declares it (step 4)"
        )


async def test_the_migrated_database_matches_the_models(db_connection: AsyncConnection) -> None:
    """Hint: `uv run alembic revision --autogenerate --rev-id 0002 -m "idempotency keys"`, then read what it wrote."""
    metadata = load("app.models").Base.metadata

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    if not await has_table(db_connection):
        raise LessonError(NO_TABLE)
    found = await db_connection.run_sync(differences)
    problems = await table_problems(db_connection)
    assert not problems, (
        f"Lesson 05: after `alembic upgrade head` the table idempotency_keys differs from the model: "
        f"{'; '.join(problems)}. Autogenerate's draft had it; make migration 0002 create the table exactly as the "
        "model declares it (step 4)"
    )
    assert found == [], (
        f"Lesson 05: after `alembic upgrade head` the database still differs from the models: {found}; "
        "make migration 0002 create idempotency_keys exactly as the model declares it (step 4)"
    )


async def test_the_idempotency_migration_can_be_undone(
    clean_env: Path, committed_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: `downgrade()` undoes `upgrade()`: `op.drop_table("idempotency_keys")`."""
    config = Config(str(grading.folder() / "alembic.ini"), stdout=io.StringIO())
    config.attributes["configure_logger"] = False  # keep the checks' logging as it is
    script = ScriptDirectory.from_config(config)
    head = script.get_revision(script.get_current_head())
    if head is None or head.down_revision is None:
        raise LessonError(
            "Lesson 05: migrations/versions holds no revision after 0001; write 0002_idempotency_keys.py "
            'with `down_revision = "0001"` (step 4)'
        )
    monkeypatch.setenv("LEDGER_DATABASE_URL", committed_database_url)
    monkeypatch.setattr(sys, "path", list(sys.path))  # alembic.ini's prepend_sys_path adds to it
    get_settings = load("app.core.config").get_settings
    get_settings.cache_clear()
    try:
        # In a worker thread: env.py calls asyncio.run(), which needs a thread without a running loop.
        await asyncio.to_thread(command.downgrade, config, "-1")
        assert not await table_in(committed_database_url), (
            "Lesson 05: `alembic downgrade -1` left the table idempotency_keys; drop it in downgrade() of "
            f"{head.revision} (step 4)"
        )
        await asyncio.to_thread(command.upgrade, config, "head")
        after_upgrade = await table_in(committed_database_url)
    finally:
        get_settings.cache_clear()
    assert after_upgrade, "Lesson 05: `alembic upgrade head` after a downgrade did not create idempotency_keys (step 4)"


async def table_in(url: str) -> bool:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await has_table(connection)
    finally:
        await engine.dispose()


async def test_the_same_key_and_request_replay_the_first_transfer(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: `self.keys.claim(...)` returns the earlier row: answer with its transfer_id and replayed=True."""
    await require_table(db_session)
    forbid_rollback_in_app(db_session, monkeypatch)
    source, target = await add_accounts(db_session, 1_000, 0)
    service = transfer_service(db_session)
    first = await service.transfer(source_id=source.id, target_id=target.id, amount=100, idempotency_key="retry-1")
    try:
        again = await service.transfer(source_id=source.id, target_id=target.id, amount=100, idempotency_key="retry-1")
    except IntegrityError as error:
        raise AssertionError(
            "Lesson 05: a retry with the same key failed with IntegrityError (duplicate key on idempotency_keys): "
            f"{str(error.orig).strip().splitlines()[0]}. A known key is not an error: claim it with INSERT … ON "
            "CONFLICT (key) DO NOTHING and read the row that is there (step 4)"
        ) from None
    moved = [await balance_of(db_session, source.id), await balance_of(db_session, target.id)]
    entries = await count_entries(db_session)
    assert moved == [900, 100] and entries == 2, (
        f"Lesson 05: after a transfer of 100 and its retry with the same key the balances are {moved} (expected "
        f"[900, 100]) and there are {entries} entries (expected 2): a replay must not move money again (step 4)"
    )
    assert (first.replayed, again.replayed, again.transfer_id) == (False, True, first.transfer_id), (
        f"Lesson 05: a retry with the same key and request gave replayed={again.replayed}, transfer_id "
        f"{'the same' if again.transfer_id == first.transfer_id else 'a new one'}; expected the first transfer's id "
        "and replayed=True (step 4)"
    )


async def test_the_same_key_with_another_request_is_refused(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: store a fingerprint of (source, target, amount) with the key, and compare it on every reuse."""
    await require_table(db_session)
    forbid_rollback_in_app(db_session, monkeypatch)
    source, target = await add_accounts(db_session, 1_000, 0)
    service = transfer_service(db_session)
    await service.transfer(source_id=source.id, target_id=target.id, amount=100, idempotency_key="order-7")
    errors = load("app.services.errors")
    action = service.transfer(source_id=source.id, target_id=target.id, amount=999, idempotency_key="order-7")
    error = await refused(action, errors.IdempotencyConflict, "reusing a key for another amount", step=4)
    assert error.code == "idempotency_conflict" and error.key == "order-7"
    moved = [await balance_of(db_session, source.id), await balance_of(db_session, target.id)]
    assert moved == [900, 100], f"Lesson 05: a refused reuse of a key changed the balances to {moved} (step 4)"


async def test_a_refused_transfer_does_not_use_up_its_key(db_session: AsyncSession) -> None:
    """Hint: claim the key in the same transaction as the transfer: a rollback then frees it for a retry."""
    await require_table(db_session)
    source, target = await add_accounts(db_session, 50, 0)
    ids = [source.id, target.id]  # a rollback expires the objects: keep the ids
    await db_session.commit()  # the starting point a rollback returns to
    errors = load("app.services.errors")
    action = transfer_service(db_session).transfer(
        source_id=ids[0], target_id=ids[1], amount=100, idempotency_key="after-payday"
    )
    await refused(action, errors.InsufficientFunds, "a transfer of 100 from an account holding 50", step=3)
    await db_session.rollback()  # what get_session does when the route raises
    Account = load("app.models").Account
    await db_session.execute(update(Account).where(Account.id == ids[0]).values(balance=500))  # payday
    retry = await transfer_service(db_session).transfer(
        source_id=ids[0], target_id=ids[1], amount=100, idempotency_key="after-payday"
    )
    assert retry.replayed is False and await balance_of(db_session, ids[1]) == 100, (
        "Lesson 05: a transfer refused for insufficient funds, rolled back, then retried with the same key after "
        f"a deposit, gave replayed={retry.replayed} and moved no money; keep the key in the transfer's own "
        "transaction, so a rollback forgets it (step 4)"
    )


async def test_the_same_key_for_the_opposite_direction_is_refused(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: the fingerprint is of the request as sent: A→B and B→A are two different requests."""
    await require_table(db_session)
    forbid_rollback_in_app(db_session, monkeypatch)
    first, second = await add_accounts(db_session, 1_000, 1_000)
    service = transfer_service(db_session)
    await service.transfer(source_id=first.id, target_id=second.id, amount=100, idempotency_key="refund-3")
    errors = load("app.services.errors")
    try:
        back = await service.transfer(source_id=second.id, target_id=first.id, amount=100, idempotency_key="refund-3")
    except errors.IdempotencyConflict:
        back = None
    assert back is None, (
        "Lesson 05: a transfer of 100 from A to B, then one of 100 from B to A with the same key: the second was "
        f"answered as the first (replayed={getattr(back, 'replayed', '?')}) instead of raising IdempotencyConflict. "
        "The fingerprint must tell the direction of a transfer: the order of source and target is part of the "
        "request (step 4)"
    )
    moved = [await balance_of(db_session, first.id), await balance_of(db_session, second.id)]
    assert moved == [900, 1_100], f"Lesson 05: a refused reuse of a key changed the balances to {moved} (step 4)"


async def test_a_request_waits_for_its_key_before_it_locks_any_account(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Hint: the key is the first thing a keyed transfer writes: before `_lock_both`, not after."""
    async with committed_sessions() as session:
        await require_table(session)
    source, target = await committed_accounts(committed_sessions, 500, 0)

    async def send() -> Any:
        async with committed_sessions() as session:
            result = await transfer_service(session).transfer(
                source_id=source, target_id=target, amount=100, idempotency_key="slow-first-request"
            )
            await session.commit()
            return result

    async with committed_sessions() as other:
        # An earlier request with this key is still running: its key row is written, not committed.
        await other.execute(
            text("INSERT INTO idempotency_keys (key, request_hash, transfer_id) VALUES (:key, 'earlier', :id)"),
            {"key": "slow-first-request", "id": uuid.uuid4()},
        )
        task = asyncio.create_task(send())
        waiting = await wait_for_waiters(other, 1, done=task.done)
        holds_accounts = False
        if waiting:
            try:
                async with other.begin_nested():
                    await other.execute(LOCK_NOWAIT, {"ids": [source, target]})
            except DBAPIError:
                holds_accounts = True  # lock_not_available: the waiting transfer holds an account's row
        await other.rollback()  # the earlier request failed: its key is free again
    async with asyncio.timeout(5):
        await task
    assert waiting, (
        "Lesson 05: another transaction had just written the key of this request (not committed yet), and the "
        "transfer did not wait for it: claim the key with INSERT … ON CONFLICT (key) DO NOTHING in "
        "IdempotencyKeyRepository.claim, and let PostgreSQL make the second request wait (step 4)"
    )
    assert not holds_accounts, (
        "Lesson 05: while it waited for its idempotency key (an earlier request with that key was still running), "
        "the transfer already held the row locks of its accounts: it claims the key after locking them. Every "
        "transfer touching those accounts now queues behind a request that may only replay; claim the key first, "
        "before any lock (step 4)"
    )


async def test_two_requests_with_one_key_at_the_same_time_move_the_money_once(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Hint: claim the key before anything else; the primary key makes the second request wait for the first."""
    async with committed_sessions() as session:
        await require_table(session)
    source, target = await committed_accounts(committed_sessions, 500, 0)
    key = f"double-click-{source}"

    async def second_request() -> Any:
        async with committed_sessions() as session:
            result = await transfer_service(session).transfer(
                source_id=source, target_id=target, amount=100, idempotency_key=key
            )
            await session.commit()
            return result

    # The first request has done its work and not committed yet when the second one arrives.
    async with committed_sessions() as session:
        first = await transfer_service(session).transfer(
            source_id=source, target_id=target, amount=100, idempotency_key=key
        )
        task = asyncio.create_task(second_request())
        await wait_for_waiters(session, 1, done=task.done)
        await session.commit()
    try:
        async with asyncio.timeout(5):
            second = await task
    except TimeoutError:
        raise AssertionError(
            "Lesson 05: the second of two requests with one key did not finish within 5 s of the first commit (step 4)"
        ) from None
    except IntegrityError:
        raise AssertionError(
            "Lesson 05: two requests with one key at the same time: the second failed with IntegrityError "
            "(the key's primary key) once the first committed. A look-up cannot see a key the first request wrote "
            "but has not committed yet; claim the key with INSERT … ON CONFLICT DO NOTHING, which waits for it, "
            "and replay the row that is there (step 4)"
        ) from None
    moved = await balances(committed_sessions, [source, target])
    flags = [first.replayed, second.replayed]
    wrong = []
    if moved != [400, 100]:
        wrong.append(f"left balances {moved}, not [400, 100]")
    if flags != [False, True]:
        wrong.append(f"answered replayed={flags}, not [False, True]")
    if first.transfer_id != second.transfer_id:
        wrong.append(
            f"answered two transfer ids ({first.transfer_id}, then {second.transfer_id}): the replay must name "
            "the first transfer, the one the key's row stored, not the id made for the second request"
        )
    assert not wrong, f"Lesson 05: two requests with one key at the same time {'; '.join(wrong)} (step 4)"
