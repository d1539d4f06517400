"""Lesson 03 checks, steps 2-4: the declarative base, UUIDv7 ids, and the Account and Entry models.

Most read the models without a database. Those that write rows write them into the tables the
models themselves describe (`create_all` in a scratch database), not the migrated ones: they pass
at the end of their own step, before there is a migration (step 6).
"""

import random
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, MetaData, Table, Uuid, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.schema import CreateTable

from workshop.grading import load

DIALECT = postgresql.dialect()
SessionOnTheModels = Callable[[MetaData], AbstractAsyncContextManager[AsyncSession]]  # conftest.session_on_the_models


def models() -> Any:
    try:
        return load("app.models")
    except InvalidRequestError as error:  # SQLAlchemy refused a model class while app.models was imported
        said = str(error).splitlines()[0]
        named = ' Give every CheckConstraint a name="…": the convention makes it ck_<table>_<name>.' * (
            "constraint_name" in said
        )
        raise AssertionError(f"Lesson 03: importing app.models failed: {said}{named} (steps 2-4)") from None


def columns(table: Table) -> dict[str, tuple[str, bool, bool]]:
    """name → (PostgreSQL type, nullable, has a server default)."""
    return {
        column.name: (column.type.compile(dialect=DIALECT), bool(column.nullable), column.server_default is not None)
        for column in table.columns
    }


@pytest.mark.step(2)
def test_uuid7_makes_version_7_ids_in_time_order() -> None:
    """Hint: 48 bits of Unix milliseconds first, then the version (7), the variant, random bits."""
    uuid7 = models().uuid7
    many = [uuid7() for _ in range(1000)]  # a field with one random bit left in it shows up here for sure
    wrong_type = next((value for value in many if not isinstance(value, uuid.UUID)), None)
    assert wrong_type is None, f"Lesson 03: uuid7() returned {type(wrong_type).__name__}; return a uuid.UUID (step 2)"
    bad_variant = [value for value in many if value.int >> 62 & 0x3 != 0b10]
    if bad_variant:
        bits = {value.int >> 62 & 0x3 for value in bad_variant}
        cause = (
            "bit 63 is set but bit 62 keeps its random value: clear the field, then set it"
            if bits == {0b11}
            else "overwrite the two variant bits (62 and 63) with 0b10"
        )
        raise AssertionError(
            f"Lesson 03: {len(bad_variant)} of 1000 ids from uuid7() have a variant other than RFC 9562's 0b10, e.g. "
            f"{bad_variant[0]}, whose bits 62-63 are 0b{bad_variant[0].int >> 62 & 0x3:02b}; {cause} (step 2)"
        )
    versions = sorted({value.version for value in many if value.version != 7})
    assert not versions, (
        f"Lesson 03: uuid7() made ids of version {versions}, not only 7; set the 4 version bits (76-79) to 7 (step 2)"
    )
    ids = []
    for _ in range(10):  # ten ids in random order are sorted by chance once in 3.6 million runs
        ids.append(uuid7())
        time.sleep(0.002)  # a new millisecond: the order must follow the clock
    assert ids == sorted(ids), (
        "Lesson 03: ids made later sort first; put the milliseconds in the 48 most significant bits (step 2)"
    )
    milliseconds = ids[0].int >> 80
    assert abs(milliseconds - time.time() * 1000) < 60_000, (
        f"Lesson 03: the first 48 bits of {ids[0]} are not the current Unix time in milliseconds (step 2)"
    )
    assert len(set(many)) == 1000, "Lesson 03: uuid7() repeats itself; add random bits (step 2)"


RANDOM_BITS = 0xFFF << 64 | (1 << 62) - 1  # rand_a (bits 64-75) and rand_b (bits 0-61)


def predictable_generators(function: Callable[..., Any]) -> list[str]:
    """The names `function` uses that are a Mersenne Twister (random.Random, not SystemRandom) or one of its methods."""
    found = []
    for name in function.__code__.co_names:
        value = function.__globals__.get(name)
        owner = value if isinstance(value, random.Random) else getattr(value, "__self__", None)
        if isinstance(owner, random.Random) and not isinstance(owner, random.SystemRandom):
            found.append(name)
    return found


@pytest.mark.step(2)
def test_uuid7_random_bits_cannot_be_predicted() -> None:
    """Hint: an id is public; its random bits must come from the operating system's generator, as uuid4()'s do."""
    uuid7 = models().uuid7

    def random_bits() -> int:
        value = uuid7()
        assert isinstance(value, uuid.UUID), (
            f"Lesson 03: uuid7() returned {type(value).__name__}; return a uuid.UUID (step 2)"
        )
        return value.int & RANDOM_BITS

    state = random.getstate()
    try:
        random.seed(2026)
        first = [random_bits() for _ in range(3)]
        random.seed(2026)
        second = [random_bits() for _ in range(3)]
    finally:
        random.setstate(state)
    assert len(set(first)) == 3, (
        "Lesson 03: three ids from uuid7() share the same 74 random bits: they are not random at all; fill the 80 "
        "bits below the milliseconds with random bits from the operating system (step 2)"
    )
    assert first != second, (
        "Lesson 03: after random.seed(2026), uuid7() made exactly the same random bits twice: they come from the "
        "random module, a Mersenne Twister that anyone can predict from a few ids they have seen. Ids are public: "
        "take the random bits from the operating system's generator (os.urandom), as uuid4() does (step 2)"
    )
    shared = predictable_generators(uuid7)
    assert not shared, (
        f"Lesson 03: uuid7() draws its random bits from {', '.join(shared)}, a random.Random: a Mersenne Twister "
        "anyone can predict from a few ids they have seen. Take them from the operating system's generator "
        "(os.urandom), as uuid4() does (step 2)"
    )


@pytest.mark.step(2)
def test_the_naming_convention_names_every_constraint() -> None:
    """Hint: `metadata = MetaData(naming_convention=NAMING_CONVENTION)` in the body of Base."""
    # Two tables shaped like the contract's, on a MetaData with Base's naming convention: your own models
    # come in steps 3 and 4, and declaring these on Base.metadata itself would add them to your schema.
    probe = MetaData(naming_convention=models().Base.metadata.naming_convention)
    Table(
        "accounts",
        probe,
        Column("id", Uuid, primary_key=True),
        Column("balance", BigInteger),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
    )
    Table(
        "entries",
        probe,
        Column("id", Uuid, primary_key=True),
        Column("account_id", Uuid, ForeignKey("accounts.id"), index=True),
    )
    ddl = " ".join(str(CreateTable(table).compile(dialect=DIALECT)) for table in probe.sorted_tables)
    names = ["pk_accounts", "ck_accounts_balance_not_negative", "pk_entries", "fk_entries_account_id_accounts"]
    missing = [name for name in names if f"CONSTRAINT {name} " not in ddl]
    assert not missing, (
        f"Lesson 03: a table declared on Base's metadata gets no constraint named {', '.join(missing)}; give "
        "Base a MetaData with the naming convention above it (step 2)"
    )
    indexes = {str(index.name) for index in probe.tables["entries"].indexes}
    assert indexes == {"ix_entries_account_id"}, (
        f"Lesson 03: an index on entries.account_id is named {sorted(indexes)}, not ix_entries_account_id; give "
        "Base a MetaData with the naming convention above it (step 2)"
    )


@pytest.mark.step(3)
def test_accounts_has_the_columns_of_the_contract() -> None:
    """Hint: money is `BigInteger` in minor units (cents), never Float or Numeric; see the table in step 3."""
    table = models().Account.__table__
    expected = {
        "id": ("UUID", False, False),
        "owner": ("VARCHAR(100)", False, False),
        "currency": ("VARCHAR(3)", False, False),
        "balance": ("BIGINT", False, True),
        "created_at": ("TIMESTAMP WITH TIME ZONE", False, True),
    }
    actual = columns(table)
    for name, (kind, nullable, server_default) in expected.items():
        assert name in actual, f"Lesson 03: accounts has no column {name!r}; it has {sorted(actual)} (step 3)"
        assert actual[name][0] == kind, f"Lesson 03: accounts.{name} is {actual[name][0]}; make it {kind} (step 3)"
        assert actual[name][1] == nullable, (
            f"Lesson 03: accounts.{name} may be NULL; a Mapped[...] without `| None` is NOT NULL (step 3)"
        )
        assert actual[name][2] == server_default, (
            f"Lesson 03: accounts.{name} {'needs' if server_default else 'should have no'} a server default: "
            "the database fills it when a row is inserted without it (step 3)"
        )
    assert set(actual) == set(expected), (
        f"Lesson 03: accounts has extra columns {sorted(set(actual) - set(expected))} (step 3)"
    )
    assert [column.name for column in table.primary_key.columns] == ["id"], (
        "Lesson 03: the primary key of accounts is its `id` (step 3)"
    )


@pytest.mark.step(4)
def test_entries_has_the_columns_of_the_contract() -> None:
    """Hint: `transfer_id: Mapped[uuid.UUID | None]` is the one column that may be NULL (a deposit has none)."""
    table = models().Entry.__table__
    expected = {
        "id": ("UUID", False, False),
        "account_id": ("UUID", False, False),
        "amount": ("BIGINT", False, False),
        "transfer_id": ("UUID", True, False),
        "created_at": ("TIMESTAMP WITH TIME ZONE", False, True),
    }
    actual = columns(table)
    for name, (kind, nullable, server_default) in expected.items():
        assert name in actual, f"Lesson 03: entries has no column {name!r}; it has {sorted(actual)} (step 4)"
        assert actual[name][0] == kind, f"Lesson 03: entries.{name} is {actual[name][0]}; make it {kind} (step 4)"
        assert actual[name][1] == nullable, (
            f"Lesson 03: entries.{name} should {'allow' if nullable else 'refuse'} NULL (step 4)"
        )
        assert actual[name][2] == server_default, (
            f"Lesson 03: entries.{name} {'needs' if server_default else 'should have no'} a server default (step 4)"
        )
    assert set(actual) == set(expected), (
        f"Lesson 03: entries has extra columns {sorted(set(actual) - set(expected))} (step 4)"
    )
    targets = {(key.parent.name, key.column.table.name, key.column.name) for key in table.foreign_keys}
    assert targets == {("account_id", "accounts", "id")}, (
        f"Lesson 03: entries' foreign keys are {sorted(targets)}; account_id must reference accounts.id (step 4)"
    )
    actions = sorted({str(key.ondelete or "NO ACTION").upper() for key in table.foreign_keys})
    assert set(actions) <= {"RESTRICT", "NO ACTION"}, (
        f"Lesson 03: entries.account_id is declared with ondelete={', '.join(actions)}: deleting an account would "
        'take its money history with it. Money does not vanish: ondelete="RESTRICT" (step 4)'
    )
    indexes = {str(index.name) for index in table.indexes}
    assert indexes == {"ix_entries_account_id", "ix_entries_transfer_id"}, (
        f"Lesson 03: the indexes of entries are named {sorted(indexes)}; expected ix_entries_account_id and "
        "ix_entries_transfer_id: index=True on both columns (step 4)"
    )


@pytest.mark.step(3)
async def test_a_new_account_gets_a_uuid7_id_and_a_zero_balance(session_on_the_models: SessionOnTheModels) -> None:
    """Hint: `mapped_column(primary_key=True, default=uuid7)`: pass the function, do not call it."""
    found = models()
    async with session_on_the_models(found.Base.metadata) as db_session:
        Account = found.Account
        first, second = Account(owner="Ada", currency="EUR"), Account(owner="Grace", currency="USD")
        db_session.add(first)
        await db_session.flush()
        time.sleep(0.002)
        db_session.add(second)
        try:
            await db_session.flush()
        except IntegrityError as error:
            raise AssertionError(
                f"Lesson 03: the second new account could not be inserted ({str(error.orig).splitlines()[0]}); both "
                f"got the id {first.id}: pass default=uuid7, the function, not uuid7(), which runs once at import "
                "(step 3)"
            ) from None
        if isinstance(first.id, uuid.UUID) and first.id.int >> 76 & 0xF == 7 and first.id.version != 7:
            raise AssertionError(
                f"Lesson 03: a new account got the id {first.id}, whose version bits say 7 but whose variant bits "
                f"(62-63) are 0b{first.id.int >> 62 & 0x3:02b}, not 0b10: the id comes from uuid7(), which makes such "
                "ids; fix uuid7() first (step 2)"
            )
        assert isinstance(first.id, uuid.UUID) and first.id.version == 7, (
            f"Lesson 03: a new account got the id {first.id!r}; default=uuid7 makes a version-7 UUID (step 3)"
        )
        assert first.id < second.id, "Lesson 03: a later account got a smaller id; use default=uuid7 (step 3)"
        assert first.balance == 0, f"Lesson 03: a new account's balance is {first.balance!r}; default it to 0 (step 3)"


@pytest.mark.step(4)
async def test_relationships_refuse_to_load_lazily(session_on_the_models: SessionOnTheModels) -> None:
    """Hint: `relationship(back_populates=…, lazy="raise")` on both sides; load with `selectinload()`."""
    found = models()
    async with session_on_the_models(found.Base.metadata) as db_session:
        account = found.Account(owner="Ada", currency="EUR", balance=500)
        db_session.add(account)
        await db_session.flush()
        db_session.add(found.Entry(account_id=account.id, amount=500))
        await db_session.flush()
        account_id = account.id
        db_session.expunge_all()

        # Inside run_sync a lazy load *could* run (no MissingGreenlet), so only lazy="raise" stops it.
        def touch(session: Session, side: str) -> None:
            loaded = session.get(found.Account, account_id)
            assert loaded is not None
            if side == "entries":
                _ = loaded.entries
            else:
                _ = session.scalars(select(found.Entry).where(found.Entry.account_id == account_id)).one().account

        for side, model in (("entries", "Account"), ("account", "Entry")):
            try:
                await db_session.run_sync(touch, side)
            except InvalidRequestError as error:
                assert "lazy='raise'" in str(error), f"Lesson 03: touching {model}.{side} failed: {error} (step 4)"
            else:
                raise AssertionError(
                    f"Lesson 03: {model}.{side} loaded itself with a hidden query; declare the relationship "
                    'with lazy="raise" (step 4)'
                )
            db_session.expunge_all()

        loaded = await db_session.scalar(
            select(found.Account).where(found.Account.id == account_id).options(selectinload(found.Account.entries))
        )
        assert loaded is not None and [entry.amount for entry in loaded.entries] == [500], (
            "Lesson 03: selectinload(Account.entries) should load the account's entries; check back_populates (step 4)"
        )


@pytest.mark.step(4)
async def test_the_models_rules_accept_and_refuse_the_right_rows(
    empty_database_url: str, rules_broken_on: Callable[[AsyncConnection], Awaitable[list[str]]]
) -> None:
    """Hint: a CHECK states what every row must satisfy: a new account has balance 0, money out is negative."""
    metadata = models().Base.metadata
    engine = create_async_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                await connection.run_sync(metadata.create_all)  # the models' own tables, in a scratch database
                broken = await rules_broken_on(connection)
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()
    assert not broken, (
        f"Lesson 03: with the tables the models describe, {'; '.join(broken)}. Read the CHECK constraints of "
        "the models again: balance >= 0, a 3-letter currency, an amount that is not 0 (steps 3-4)"
    )
