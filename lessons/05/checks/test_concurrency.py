"""Lesson 05 checks, step 3: transfers running at the same time keep the books right and never deadlock.

These checks commit for real, on a fresh database of their own (`committed_sessions`): each
transfer runs in its own session, on its own connection, as concurrent requests do. A service
that takes the two row locks in request order lets A→B and B→A each hold the lock the other
waits for; PostgreSQL breaks such a deadlock after `deadlock_timeout` (1 s) by failing one of them.
"""

import asyncio
import random
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from workshop.grading import load

from .conftest import (
    REQUESTS,
    balances,
    committed_accounts,
    is_deadlock,
    is_lock_not_available,
    leaves,
    rows_held,
    wait_for_waiters,
)

pytestmark = pytest.mark.step(3)

LOCK_ORDER = (
    "take the two row locks in one global order, whatever the direction of the transfer: in sorted id order, "
    "in `_lock_both` (step 3)"
)
# Lock requests that wait for this session's transaction (pg_locks is live, not a snapshot).
WAITING_FOR_ME = text(
    "SELECT count(*) FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
)

# What the transaction waiting for this session's lock was running when it started to wait.
WAITING_STATEMENT = text("SELECT query FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")


def transfer_service(session: AsyncSession) -> Any:
    return load("app.services.transfers").TransferService(session)


def lesson_failure(
    group: BaseExceptionGroup[Any], what: str, *, one_direction: bool = False, unlocked: Sequence[str] = ()
) -> AssertionError | None:
    """A lesson message for the deadlock, the refused lock or the negative balance inside `group`, if there is one.

    `one_direction`: every transfer went from the same source to the same target. No lock order can
    deadlock those; only shared locks (FOR SHARE) that each transfer then wants to upgrade can.
    `unlocked`: the writes of account rows the writing transaction had not locked (see `writes_without_a_lock`).
    """
    found = leaves(group)
    if any(isinstance(leaf, NotImplementedError) for leaf in found):
        return None  # a stub: let the engine report it as a todo
    deadlocks = [leaf for leaf in found if is_deadlock(leaf)]
    if deadlocks and unlocked:
        return AssertionError(
            f"Lesson 05: {what}: PostgreSQL detected a deadlock, and {unlocked[0]}: it read that account without "
            "its row lock, so the write had to wait for the lock while the transfer held another. Lock both rows, "
            "source and target, with AccountRepository.get_for_update before you read them (step 3)"
        )
    if deadlocks:
        if one_direction:
            return AssertionError(
                f"Lesson 05: {what}: PostgreSQL detected a deadlock although every transfer went the same way: "
                "each held a shared lock (FOR SHARE) on the rows and waited for the others to let go before it "
                "could write. Lock the rows you change with AccountRepository.get_for_update (FOR UPDATE) (step 3)"
            )
        return AssertionError(
            f"Lesson 05: {what}: PostgreSQL detected a deadlock (two transfers each held the lock the other "
            f"needed) and aborted one of them; take exclusive locks (get_for_update, FOR UPDATE) and {LOCK_ORDER}"
        )
    if any(is_lock_not_available(leaf) for leaf in found):
        return AssertionError(
            f"Lesson 05: {what}: some transfers failed at once with 'could not obtain lock' (NOWAIT) because another "
            "transfer held a row: a transfer waits for its locks, it does not give up. Lock the rows with "
            "AccountRepository.get_for_update (step 3)"
        )
    if any(isinstance(leaf, IntegrityError) for leaf in found):
        return AssertionError(
            f"Lesson 05: {what}: the database refused a negative balance (its CHECK constraint); compare the "
            "balance with the amount after you lock the rows, and raise InsufficientFunds (step 3)"
        )
    return None


ROW_LOCK = re.compile(r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)


def account_ids(parameters: object) -> set[str]:
    """The UUIDs among a statement's parameters (a tuple, a dict, or a list of them for executemany)."""
    if isinstance(parameters, dict):
        return account_ids(list(parameters.values()))
    if isinstance(parameters, list | tuple):
        return set().union(*(account_ids(value) for value in parameters)) if parameters else set()
    if isinstance(parameters, uuid.UUID):
        return {str(parameters)}
    if isinstance(parameters, str):
        try:
            return {str(uuid.UUID(parameters))}
        except ValueError:
            return set()
    return set()


@contextmanager
def writes_without_a_lock(sessions: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """Each UPDATE of an account row that its transaction had not locked (SELECT … FOR …) before, in words."""
    engine = sessions.kw["bind"].sync_engine
    locked: dict[Any, set[str]] = {}
    found: list[str] = []

    def begin(connection: Any) -> None:
        locked[connection] = set()

    def record(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        ids = account_ids(parameters)
        held = locked.setdefault(connection, set())
        words = statement.split()
        if ROW_LOCK.search(statement) and "accounts" in statement:
            held.update(ids)
        elif words[:2] == ["UPDATE", "accounts"] and ids - held:
            found.append("a transfer wrote (UPDATE) an account whose row it had not locked first")

    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "begin", begin)


async def test_a_transfer_locks_the_account_with_the_smaller_id_first(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Hint: not the source first, not the target first: the smaller id first, whatever the direction."""
    low, high = sorted(await committed_accounts(committed_sessions, 100, 100))
    # Both directions: locking the source first passes the first, locking the target first the second.
    for source, target, direction in ((high, low, "from the larger id to the smaller"), (low, high, "back")):

        async def transfer(source: uuid.UUID = source, target: uuid.UUID = target) -> None:
            async with committed_sessions() as session:
                await transfer_service(session).transfer(source_id=source, target_id=target, amount=10)
                await session.commit()

        async with committed_sessions() as other:
            # Another transaction holds the smaller id. A transfer must queue for it while holding
            # nothing; one that takes the larger id first already holds `high`.
            await other.execute(text("SELECT id FROM accounts WHERE id = :id FOR UPDATE"), {"id": low})
            task = asyncio.create_task(transfer())
            waiting = 0
            deadline = time.monotonic() + 3
            while not task.done() and waiting == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
                waiting = (await other.execute(WAITING_FOR_ME)).scalar_one()
            holds_high = False
            waited_at = ""
            if waiting:
                await other.execute(text("SELECT pg_stat_clear_snapshot()"))
                waited_at = str((await other.execute(WAITING_STATEMENT)).scalar() or "")
                try:
                    async with other.begin_nested():
                        await other.execute(
                            text("SELECT id FROM accounts WHERE id = :id FOR UPDATE NOWAIT"), {"id": high}
                        )
                except DBAPIError:
                    holds_high = True  # lock_not_available: the transfer already holds it
            await other.rollback()  # release the lock: the transfer can finish now
        await task
        assert waiting, (
            "Lesson 05: another transaction held a row lock on one of the accounts, and the transfer did not wait "
            "for it: lock both rows with AccountRepository.get_for_update (SELECT … FOR UPDATE) (step 3)"
        )
        assert "FOR UPDATE" in waited_at.upper(), (
            "Lesson 05: another transaction held a row lock on one of the accounts; the transfer read the row "
            f"without waiting and waited only to write it ({waited_at.split()[0] if waited_at else '?'}): it read "
            "the balance without a lock, so two transfers can read the same balance. Lock both rows with "
            "AccountRepository.get_for_update before you read them (step 3)"
        )
        assert not holds_high, (
            f"Lesson 05: while it waited for the account with the smaller id, a transfer {direction} already "
            "held the lock on the larger one: it takes its locks in request order (or target first), and two "
            f"transfers that cross then deadlock; {LOCK_ORDER}"
        )


async def test_sixty_concurrent_transfers_keep_the_total_and_never_deadlock(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Hint: if A→B and B→A can each grab their first lock, they wait for each other forever. Sort the ids."""
    ids = await committed_accounts(committed_sessions, 1_000, 1_000, 1_000, 1_000)
    rng = random.Random(5)
    pairs = [rng.sample(ids, 2) for _ in range(30)]
    requests = [(a, b, rng.randint(1, 200)) for a, b in pairs] + [(b, a, rng.randint(1, 200)) for a, b in pairs]
    rng.shuffle(requests)  # 60 transfers, every pair in both directions
    errors = load("app.services.errors")
    outcomes: list[str] = []

    async def transfer(source: uuid.UUID, target: uuid.UUID, amount: int) -> None:
        async with committed_sessions() as session:
            try:
                await transfer_service(session).transfer(source_id=source, target_id=target, amount=amount)
                await session.commit()
                outcomes.append("done")
            except errors.InsufficientFunds:
                outcomes.append("refused")

    try:
        with writes_without_a_lock(committed_sessions) as unlocked:
            async with asyncio.timeout(8), rows_held(committed_sessions, *ids) as other, asyncio.TaskGroup() as group:
                for request in requests:
                    group.create_task(transfer(*request))
                await wait_for_waiters(other, REQUESTS)  # as many as there are connections
                await other.rollback()
    except TimeoutError:
        raise AssertionError(
            f"Lesson 05: 60 concurrent transfers did not finish within 8 s ({len(outcomes)} did); transactions "
            f"are waiting for each other's locks: {LOCK_ORDER}"
        ) from None
    except BaseExceptionGroup as group:
        failure = lesson_failure(group, "60 concurrent transfers over 4 accounts", unlocked=unlocked)
        if failure is None:
            raise
        raise failure from None
    final = await balances(committed_sessions, ids)
    assert sum(final) == 4_000, (
        f"Lesson 05: after 60 concurrent transfers the 4 balances sum to {sum(final)}, not 4000: an update was "
        "lost. Read and change the balances only under the row locks of get_for_update (step 3)"
    )
    assert min(final) >= 0 and outcomes.count("done") > 0, (
        f"Lesson 05: after 60 concurrent transfers the balances are {final} (step 3)"
    )


async def test_concurrent_overdrafts_never_make_a_balance_negative(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Hint: the balance you compare with the amount must be read under the lock, or two requests spend it twice."""
    source, target = await committed_accounts(committed_sessions, 100, 0)
    InsufficientFunds = load("app.services.errors").InsufficientFunds
    done: list[int] = []
    refused_for: set[uuid.UUID] = set()  # the accounts the refusals named

    async def spend() -> None:
        async with committed_sessions() as session:
            try:
                await transfer_service(session).transfer(source_id=source, target_id=target, amount=30)
                await session.commit()
                done.append(30)
            except InsufficientFunds as error:
                refused_for.add(error.account_id)

    what = f"{REQUESTS} concurrent transfers of 30 from an account holding 100"
    try:
        # The source is held while the transfers start; released once they all wait, they run together.
        async with asyncio.timeout(8), rows_held(committed_sessions, source) as other, asyncio.TaskGroup() as group:
            for _ in range(REQUESTS):
                group.create_task(spend())
            await wait_for_waiters(other, REQUESTS)
            await other.rollback()
    except TimeoutError:
        raise AssertionError(f"Lesson 05: {what} did not finish within 8 s; {LOCK_ORDER}") from None
    except BaseExceptionGroup as group:
        failure = lesson_failure(group, what, one_direction=True)
        if failure is None:
            raise
        raise failure from None
    final = await balances(committed_sessions, [source, target])
    assert target not in refused_for, (
        f"Lesson 05: {what} to an account holding 0: {len(done)} succeeded, and the refusals named the target "
        "(InsufficientFunds with the target's id): source and target changed places. `_lock_both` locks in id "
        "order but must return (source, target) in request order (step 3)"
    )
    assert len(done) != 3 or final[0] != 10 or final[1] == 90, (
        f"Lesson 05: {what}: 3 succeeded and the source holds 10, but the target holds {final[1]}, not 90: "
        "updates of the target were lost. It was read without its row lock, so transfers overwrote each "
        "other's credit; lock both rows, source and target, with AccountRepository.get_for_update (step 3)"
    )
    assert (len(done), final) == (3, [10, 90]), (
        f"Lesson 05: {what}: {len(done)} succeeded and the balances are {final}; exactly 3 fit (leaving [10, 90]). "
        "Check the funds on the balance you read under the row lock (step 3)"
    )
