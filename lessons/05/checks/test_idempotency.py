"""Lesson 05 checks, step 4: an idempotency key makes a retried transfer a replay, never a second payment.

The table comes first: your migration 0002 creates `idempotency_keys` to match the model in
app/models/idempotency.py. The service checks then run on `db_session` (rolled back after the
check), and the last one sends two requests with one key at the same time, on real commits.
"""

import asyncio
import io
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from workshop import grading
from workshop.grading import LessonError, load

from .conftest import add_accounts, balance_of, balances, committed_accounts, count_entries, refused

pytestmark = pytest.mark.step(4)

NO_TABLE = (
    "Lesson 05: the database has no table idempotency_keys; write migrations/versions/0002_idempotency_keys.py "
    "and check it with `uv run alembic upgrade head` in lessons/05 (step 4)"
)


def transfer_service(session: AsyncSession) -> Any:
    return load("app.services.transfers").TransferService(session)


async def has_table(connection: AsyncConnection | AsyncSession) -> bool:
    found = (await connection.execute(text("SELECT to_regclass('idempotency_keys') IS NOT NULL"))).scalar_one()
    return bool(found)


async def require_table(session: AsyncSession) -> None:
    if not await has_table(session):
        raise LessonError(NO_TABLE)


async def test_the_migrated_database_matches_the_models(db_connection: AsyncConnection) -> None:
    """Hint: `uv run alembic revision --autogenerate --rev-id 0002 -m "idempotency keys"`, then read what it wrote."""
    metadata = load("app.models").Base.metadata

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    if not await has_table(db_connection):
        raise LessonError(NO_TABLE)
    found = await db_connection.run_sync(differences)
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
        after_downgrade = await table_in(committed_database_url)
        await asyncio.to_thread(command.upgrade, config, "head")
        after_upgrade = await table_in(committed_database_url)
    finally:
        get_settings.cache_clear()
    assert not after_downgrade, (
        f"Lesson 05: `alembic downgrade -1` left the table idempotency_keys; drop it in downgrade() of {head.revision} "
        "(step 4)"
    )
    assert after_upgrade, "Lesson 05: `alembic upgrade head` after a downgrade did not create idempotency_keys (step 4)"


async def table_in(url: str) -> bool:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await has_table(connection)
    finally:
        await engine.dispose()


async def test_the_same_key_and_request_replay_the_first_transfer(db_session: AsyncSession) -> None:
    """Hint: `self.keys.claim(...)` returns the earlier row: answer with its transfer_id and replayed=True."""
    await require_table(db_session)
    source, target = await add_accounts(db_session, 1_000, 0)
    service = transfer_service(db_session)
    first = await service.transfer(source_id=source.id, target_id=target.id, amount=100, idempotency_key="retry-1")
    again = await service.transfer(source_id=source.id, target_id=target.id, amount=100, idempotency_key="retry-1")
    assert (first.replayed, again.replayed, again.transfer_id) == (False, True, first.transfer_id), (
        f"Lesson 05: a retry with the same key and request gave replayed={again.replayed}, transfer_id "
        f"{'the same' if again.transfer_id == first.transfer_id else 'a new one'}; expected the first transfer's id "
        "and replayed=True (step 4)"
    )
    moved = [await balance_of(db_session, source.id), await balance_of(db_session, target.id)]
    assert moved == [900, 100] and await count_entries(db_session) == 2, (
        f"Lesson 05: after a transfer of 100 and its retry the balances are {moved} (expected [900, 100]): "
        "a replay must not move money again (step 4)"
    )


async def test_the_same_key_with_another_request_is_refused(db_session: AsyncSession) -> None:
    """Hint: store a fingerprint of (source, target, amount) with the key, and compare it on every reuse."""
    await require_table(db_session)
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


async def test_two_requests_with_one_key_at_the_same_time_move_the_money_once(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Hint: claim the key before anything else; the primary key makes the second request wait for the first."""
    async with committed_sessions() as session:
        await require_table(session)
    source, target = await committed_accounts(committed_sessions, 500, 0)
    results: list[Any] = []
    both_connected = asyncio.Barrier(2)

    async def send() -> None:
        async with committed_sessions() as session:
            await session.execute(text("SELECT 1"))  # connected: the two requests start together
            await both_connected.wait()
            result = await transfer_service(session).transfer(
                source_id=source, target_id=target, amount=100, idempotency_key=f"double-click-{source}"
            )
            await session.commit()
            results.append(result)

    try:
        async with asyncio.timeout(8), asyncio.TaskGroup() as group:
            group.create_task(send())
            group.create_task(send())
    except TimeoutError:
        raise AssertionError("Lesson 05: two requests with one key did not finish within 8 s (step 4)") from None
    except BaseExceptionGroup as group:
        if group.subgroup(NotImplementedError) is None and group.subgroup(IntegrityError) is not None:
            raise AssertionError(
                "Lesson 05: two requests with one key at the same time: the second failed with IntegrityError "
                "(the key's primary key). Claim the key with INSERT … ON CONFLICT DO NOTHING and replay the row "
                "that is there (step 4)"
            ) from None
        raise
    moved = await balances(committed_sessions, [source, target])
    flags = sorted(result.replayed for result in results)
    same = len({result.transfer_id for result in results}) == 1
    assert moved == [400, 100] and flags == [False, True] and same, (
        f"Lesson 05: two requests with one key at the same time left balances {moved} (expected [400, 100]), "
        f"replayed flags {flags} (expected one False, one True), {'one' if same else 'two'} transfer id(s) (step 4)"
    )
