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
from sqlalchemy.dialects import postgresql
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
    rows_held,
    wait_for_waiters,
)

pytestmark = pytest.mark.step(4)

NO_TABLE = (
    "Lesson 05: the database has no table idempotency_keys; write migrations/versions/0002_idempotency_keys.py "
    "and check it with `uv run alembic upgrade head` in lessons/05 (step 4)"
)


SWAPPED = (
    ": source and target changed places. `_lock_both` locks in id order but must return (source, target) in "
    "request order"
)

LOCK_NOWAIT = text("SELECT id FROM accounts WHERE id = ANY(:ids) FOR UPDATE NOWAIT")


def transfer_service(session: AsyncSession) -> Any:
    return load("app.services.transfers").TransferService(session)


async def first_transfer(
    session: AsyncSession, service: Any, source: Any, target: Any, key: str, expected: list[int]
) -> Any:
    """The transfer of 100 that stores the key: it must work as step 3 taught, or a reuse of its key proves nothing."""
    ids = [source.id, target.id]
    before = [await balance_of(session, account_id) for account_id in ids]
    holding = f"from an account holding {before[0]} to one holding {before[1]}"
    what = f"the first transfer of 100 with the key {key!r}, {holding}"
    try:
        result = await service.transfer(source_id=ids[0], target_id=ids[1], amount=100, idempotency_key=key)
    except load("app.services.errors").DomainError as error:
        raise AssertionError(
            f"Lesson 05: {what}, raised {type(error).__name__} ({error}) before any key was reused: the transfer "
            "itself goes wrong; make it work without a key first (step 3)"
        ) from None
    after = [await balance_of(session, account_id) for account_id in ids]
    swapped = after == [before[0] + 100, before[1] - 100]
    assert after == expected, (
        f"Lesson 05: {what}, left the balances {after}, not {expected}, before any key was reused"
        f"{SWAPPED if swapped else ''} (step 3)"
    )
    return result


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


def type_name(type_: Any) -> str:
    """A column type as PostgreSQL spells it: TEXT, VARCHAR(64), UUID, TIMESTAMP WITH TIME ZONE."""
    try:
        return str(type_.compile(dialect=postgresql.dialect()))
    except Exception:  # a type the dialect cannot render: its Python spelling is still readable
        return repr(type_)


def nullability(nullable: object) -> str:
    return "accepts NULL" if nullable else "is NOT NULL"


def difference(found: Any) -> str:
    """One of Alembic's differences (compare_metadata) as a phrase: what the database has, what the model has."""
    if isinstance(found, list):
        return "; ".join(difference(part) for part in found)
    kind = found[0] if isinstance(found, tuple) and found else ""
    if kind in ("modify_type", "modify_nullable", "modify_default", "modify_comment"):
        _, _, table, column, _, in_database, in_model = found
        where = f"column {table}.{column}"
        if kind == "modify_type":
            return f"{where} is {type_name(in_database)} in the database, {type_name(in_model)} in the model"
        if kind == "modify_nullable":
            return f"{where} {nullability(in_database)} in the database, {nullability(in_model)} in the model"
        if kind == "modify_default":
            return f"{where} has the default {in_database!r} in the database, {in_model!r} in the model"
        return f"{where} has another comment in the database than in the model"
    if kind == "add_table":
        return f"the model's table {found[1].name} is missing from the database"
    if kind == "remove_table":
        return f"the database has a table {found[1].name} that no model declares"
    if kind in ("add_column", "remove_column"):
        _, _, table, column = found
        if kind == "add_column":
            return f"the model's column {table}.{column.name} is missing from the database"
        return f"the database has a column {table}.{column.name} that the model does not declare"
    if kind.startswith(("add_", "remove_")):
        thing = found[1]
        name = getattr(thing, "name", None) or type(thing).__name__
        table = getattr(getattr(thing, "table", None), "name", "?")
        what = kind.split("_", 1)[1].replace("fk", "foreign key")
        if kind.startswith("add_"):
            return f"the model's {what} {name} on {table} is missing from the database"
        return f"the database has a {what} {name} on {table} that the model does not declare"
    return str(found)


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
        "Lesson 05: after `alembic upgrade head` the database still differs from the models: "
        f"{'; '.join(difference(one) for one in found)}. Make migration 0002 create idempotency_keys exactly as the "
        "model declares it (app/models/idempotency.py) (step 4)"
    )


async def test_the_idempotency_migration_can_be_undone(
    clean_env: Path, committed_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: `downgrade()` undoes exactly what `upgrade()` did."""
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
    first = await first_transfer(db_session, service, source, target, "retry-1", [900, 100])
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
    await first_transfer(db_session, service, source, target, "order-7", [900, 100])
    errors = load("app.services.errors")
    action = service.transfer(source_id=source.id, target_id=target.id, amount=999, idempotency_key="order-7")
    error = await refused(action, errors.IdempotencyConflict, "reusing a key for another amount", step=4)
    assert error.code == "idempotency_conflict" and error.key == "order-7"
    moved = [await balance_of(db_session, source.id), await balance_of(db_session, target.id)]
    assert moved == [900, 100], (
        f"Lesson 05: a reuse of a key for another amount was refused, but the balances went from [900, 100] to "
        f"{moved}: it moved money before it refused. Claim the key and compare the fingerprints before the "
        "transfer's own work (step 4)"
    )


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
    await first_transfer(db_session, service, first, second, "refund-3", [900, 1_100])
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
    assert moved == [900, 1_100], (
        f"Lesson 05: a reuse of a key for the opposite direction was refused, but the balances went from "
        f"[900, 1100] to {moved}: it moved money before it refused. Claim the key and compare the fingerprints "
        "before the transfer's own work (step 4)"
    )


async def test_a_replay_answers_while_another_transaction_holds_the_accounts(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Hint: a replay changes nothing: which of the repository's reads needs no lock?"""
    async with committed_sessions() as session:
        await require_table(session)
    source, target = await committed_accounts(committed_sessions, 500, 0)
    key = f"lost-response-{source}"

    async def send() -> Any:
        async with committed_sessions() as session:
            result = await transfer_service(session).transfer(
                source_id=source, target_id=target, amount=100, idempotency_key=key
            )
            await session.commit()
            return result

    await send()  # the first request: done and committed; its response was lost on the way
    # The client retries while another transfer holds both accounts' rows.
    async with rows_held(committed_sessions, source, target) as other:
        task = asyncio.create_task(send())
        waiting = await wait_for_waiters(other, 1, until=5, done=task.done)
        await other.rollback()
    async with asyncio.timeout(5):
        again = await task
    assert not waiting, (
        "Lesson 05: a retry with a known key and the same request waited for a row lock while another transfer "
        "held the accounts: the replay locks an account (get_for_update, FOR UPDATE) although it moves no money, "
        "so every retry of a busy account queues behind its transfers. A replay reads what it needs without a "
        "lock (step 4)"
    )
    assert again.replayed is True, (
        f"Lesson 05: a retry with a known key and the same request answered replayed={again.replayed}; expected "
        "a replay of the first transfer (step 4)"
    )


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
