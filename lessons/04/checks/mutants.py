"""Lesson 04's mutants: wrong repositories a reviewer would reject, each caught by the checks it names.

`uv run workshop verify 04` plants each one in a copy of the solution and proves that the named
checks fail with a `Lesson 04:` message containing `says`.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

ACCOUNTS = "app/crud/accounts.py"
ENTRIES = "app/crud/entries.py"

ACCOUNT_FLUSH = "        self.session.add(account)\n"
LOCKED_SELECT = """        statement = (
            select(Account)
            .where(Account.id == account_id)
            .with_for_update()
            # The account may already sit in the session with values read before the lock;
            # populate_existing overwrites them with the row as it is now, under the lock.
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()
"""
ENTRY_ORDER = ".order_by(Entry.created_at.desc(), Entry.id.desc())"
IMPORT_HTTP = Edit(
    find="from sqlalchemy import select\n",
    replace="from fastapi import HTTPException\nfrom sqlalchemy import select\n",
    path=ACCOUNTS,
)

MUTANTS = [
    # --- step 1: AccountRepository.add --------------------------------------------------------
    Mutant(
        "account-add-commits",
        path=ACCOUNTS,
        find="        await self.session.flush()\n",
        replace="        await self.session.commit()\n",
        killed_by=["test_add_flushes_but_never_commits"],
        says="repositories flush, the request commits",
        why="a repository that commits splits the request's unit of work: half a transfer can become durable",
    ),
    Mutant(
        "account-add-in-a-begin-block",
        path=ACCOUNTS,
        find=ACCOUNT_FLUSH + "        # The flush",
        replace="        async with self.session.begin():\n    " + ACCOUNT_FLUSH + "        # The flush",
        killed_by=["test_add_flushes_but_never_commits"],
        says="repositories flush, the request commits",
        why="`async with session.begin()` commits when the block ends: a commit in disguise",
    ),
    Mutant(
        "account-add-in-a-savepoint",
        path=ACCOUNTS,
        find=ACCOUNT_FLUSH + "        # The flush",
        replace="        async with self.session.begin_nested():\n    " + ACCOUNT_FLUSH + "        # The flush",
        killed_by=["test_add_flushes_but_never_commits"],
        says="SAVEPOINT of its own",
        why="a savepoint per insert: the repository manages transactions, and pays a SAVEPOINT/RELEASE round trip each",
    ),
    Mutant(
        "account-add-without-flush",
        path=ACCOUNTS,
        find="        await self.session.flush()\n",
        replace="",
        killed_by=["test_add_returns_the_account_with_its_id_and_created_at"],
        says="INSERT was never sent",
        why="without a flush the account has no id yet: the service cannot write its entries or answer with it",
    ),
    Mutant(
        "account-add-fakes-the-defaults",
        path=ACCOUNTS,
        find="        await self.session.flush()\n",
        replace="        account.id = uuid.uuid4()\n        account.created_at = datetime.now(UTC)\n",
        also=[Edit(find="import uuid\n", replace="import uuid\nfrom datetime import UTC, datetime\n", path=ACCOUNTS)],
        killed_by=["test_add_returns_the_account_with_its_id_and_created_at"],
        says="not in the database",
        why="gaming: the object looks saved (id, created_at) but no INSERT ran, and the id is not a UUIDv7",
    ),
    Mutant(
        "account-add-refreshes",
        path=ACCOUNTS,
        find="        await self.session.flush()\n",
        replace="        await self.session.flush()\n        await self.session.refresh(account)\n",
        killed_by=["test_add_loads_created_at_without_a_second_query"],
        says="second query",
        why="a refresh is a second round trip per insert for what INSERT … RETURNING already loaded",
    ),
    # --- step 2: get and the layer rule ---------------------------------------------------------
    Mutant(
        "get-scalar-one",
        find="        return await self.session.get(Account, account_id)\n",
        replace=(
            "        statement = select(Account).where(Account.id == account_id)\n"
            "        return (await self.session.execute(statement)).scalar_one()\n"
        ),
        killed_by=["test_get_returns_none_for_an_unknown_id"],
        says="an unknown id is an answer, not an error",
        why="scalar_one() raises NoResultFound: every lookup of a missing account becomes a 500",
    ),
    Mutant(
        "get-raises-its-own-error",
        find="        return await self.session.get(Account, account_id)\n",
        replace=(
            "        account = await self.session.get(Account, account_id)\n"
            "        if account is None:\n"
            '            raise LookupError(f"no account {account_id}")\n'
            "        return account\n"
        ),
        killed_by=["test_get_returns_none_for_an_unknown_id"],
        says="an unknown id is an answer, not an error",
        why="the repository decides that a missing row is an error: the service loses the choice",
    ),
    Mutant(
        "get-raises-http-404",
        find="        return await self.session.get(Account, account_id)\n",
        replace=(
            "        account = await self.session.get(Account, account_id)\n"
            "        if account is None:\n"
            '            raise HTTPException(status_code=404, detail="Account not found")\n'
            "        return account\n"
        ),
        also=[IMPORT_HTTP],
        killed_by=["test_get_returns_none_for_an_unknown_id", "test_the_repositories_know_nothing_of_http"],
        says="HTTP",
        why="a layer break: the repository answers in HTTP, and a refused transfer becomes a 404",
    ),
    Mutant(
        "get-locks-the-row",
        find="        return await self.session.get(Account, account_id)\n",
        replace="        return await self.session.get(Account, account_id, with_for_update=True)\n",
        killed_by=["test_get_takes_no_row_lock"],
        says="took a row lock",
        why="every plain read takes a row lock: balance queries block transfers, and each other, until they commit",
    ),
    Mutant(
        "get-locks-for-share",
        find="        return await self.session.get(Account, account_id)\n",
        replace='        return await self.session.get(Account, account_id, with_for_update={"read": True})\n',
        killed_by=["test_get_takes_no_row_lock"],
        says="took a row lock",
        why="a shared lock on every read still blocks each transfer's FOR UPDATE until the reading request ends",
    ),
    Mutant(
        "crud-imports-fastapi",
        path=ENTRIES,
        find="from sqlalchemy import select\n",
        replace="from fastapi import HTTPException  # noqa: F401\nfrom sqlalchemy import select\n",
        killed_by=["test_the_repositories_know_nothing_of_http"],
        says="knows nothing of HTTP",
        why="the crud layer depends on the web framework: it can no longer be used outside a request",
    ),
    Mutant(
        "get-returns-a-row",
        find="        return await self.session.get(Account, account_id)\n",
        replace=(
            "        statement = select(Account).where(Account.id == account_id)\n"
            "        return (await self.session.execute(statement)).first()  # type: ignore[return-value]\n"
        ),
        killed_by=["test_get_finds_an_account_by_its_id"],
        says="a Row",
        why="execute().first() gives a Row tuple, not the Account: the service breaks on row.balance",
    ),
    Mutant(
        "get-ignores-the-id",
        find="        return await self.session.get(Account, account_id)\n",
        replace="        return (await self.session.scalars(select(Account))).first()\n",
        killed_by=["test_get_finds_an_account_by_its_id", "test_get_returns_none_for_an_unknown_id"],
        says="asked for",
        why="gaming: returns whatever account comes first, which passes a check that stores one account",
    ),
    # --- step 3: list ----------------------------------------------------------------------------
    Mutant(
        "list-without-order-by",
        find="select(Account).order_by(Account.id).limit(limit).offset(offset)",
        replace="select(Account).limit(limit).offset(offset)",
        killed_by=["test_list_pages_are_stable_with_no_duplicates_and_no_gaps"],
        says="ORDER BY",
        why="without ORDER BY the order may change between queries: pages overlap and skip rows",
    ),
    Mutant(
        "list-orders-by-created-at",
        find="select(Account).order_by(Account.id).limit(limit).offset(offset)",
        replace="select(Account).order_by(Account.created_at).limit(limit).offset(offset)",
        killed_by=["test_list_pages_are_stable_with_no_duplicates_and_no_gaps"],
        says="unique",
        why="created_at is not unique (one per transaction): ties make the order, and so the pages, unstable",
    ),
    Mutant(
        "list-newest-first",
        find="select(Account).order_by(Account.id).limit(limit).offset(offset)",
        replace="select(Account).order_by(Account.id.desc()).limit(limit).offset(offset)",
        killed_by=["test_list_pages_are_stable_with_no_duplicates_and_no_gaps"],
        says="pages come newest first",
        why="the contract is oldest first by id; clients paging it would see every page reversed",
    ),
    Mutant(
        "list-ignores-limit-and-offset",
        find="select(Account).order_by(Account.id).limit(limit).offset(offset)",
        replace="select(Account).order_by(Account.id)",
        killed_by=["test_list_pages_are_stable_with_no_duplicates_and_no_gaps"],
        says="more rows than the limit",
        why="no paging at all: every request reads the whole table",
    ),
    Mutant(
        "list-ignores-offset",
        find="select(Account).order_by(Account.id).limit(limit).offset(offset)",
        replace="select(Account).order_by(Account.id).limit(limit)",
        killed_by=["test_list_pages_are_stable_with_no_duplicates_and_no_gaps"],
        says="offset were ignored",
        why="every page is page 1: a client can never see account 51",
    ),
    Mutant(
        "list-hard-coded-limit",
        find="select(Account).order_by(Account.id).limit(limit).offset(offset)",
        replace="select(Account).order_by(Account.id).limit(3).offset(offset)",
        killed_by=["test_list_without_arguments_returns_the_first_page"],
        says="default limit is 50",
        why="gaming: the page size the check asks for, hard-coded; the limit parameter is ignored",
    ),
    Mutant(
        "list-unbounded-by-default",
        find="async def list(self, *, limit: int = 50, offset: int = 0) -> Sequence[Account]:",
        replace="async def list(self, *, limit: int | None = None, offset: int = 0) -> Sequence[Account]:",
        killed_by=["test_list_without_arguments_returns_the_first_page"],
        says="reads the whole table",
        why="a caller that forgets limit gets the whole table: no page size by default",
    ),
    Mutant(
        "list-paged-in-python",
        find=(
            "        statement = select(Account).order_by(Account.id).limit(limit).offset(offset)\n"
            "        return (await self.session.scalars(statement)).all()\n"
        ),
        replace=(
            "        statement = select(Account).order_by(Account.id)\n"
            "        return (await self.session.scalars(statement)).all()[offset : offset + limit]\n"
        ),
        killed_by=["test_list_asks_the_database_for_one_page_only"],
        says="no LIMIT and OFFSET",
        why="reads every account over the network to return fifty: the cost grows with the table, not the page",
    ),
    # --- step 4: get_for_update ------------------------------------------------------------------
    Mutant(
        "lock-forgotten",
        find=LOCKED_SELECT,
        replace="        return await self.session.get(Account, account_id, populate_existing=True)\n",
        killed_by=[
            "test_get_for_update_locks_the_row_until_the_transaction_ends",
            "test_get_for_update_waits_for_a_lock_another_transaction_holds",
        ],
        says="takes no lock",
        why="no row lock: two transfers read the same balance and both spend it",
    ),
    Mutant(
        "lock-for-share",
        find=".with_for_update()",
        replace=".with_for_update(read=True)",
        killed_by=["test_get_for_update_takes_a_lock_no_other_transaction_can_share"],
        says="FOR SHARE",
        why="FOR SHARE lets two transfers hold the lock together and read the same balance",
    ),
    Mutant(
        "lock-for-key-share",
        find=".with_for_update()",
        replace=".with_for_update(read=True, key_share=True)",
        killed_by=["test_get_for_update_takes_a_lock_no_other_transaction_can_share"],
        says="shared",
        why="FOR KEY SHARE only protects the key: other transfers lock and read the balance freely",
    ),
    Mutant(
        "lock-nowait",
        find=".with_for_update()",
        replace=".with_for_update(nowait=True)",
        killed_by=["test_get_for_update_waits_for_a_lock_another_transaction_holds"],
        says="NOWAIT",
        why="NOWAIT turns every transfer that meets a busy account into an error instead of waiting its turn",
    ),
    Mutant(
        "lock-skip-locked",
        find=".with_for_update()",
        replace=".with_for_update(skip_locked=True)",
        killed_by=["test_get_for_update_waits_for_a_lock_another_transaction_holds"],
        says="SKIP LOCKED",
        why="SKIP LOCKED returns nothing for a busy account: the service reports it missing",
    ),
    Mutant(
        "lock-without-populate-existing",
        find="            .execution_options(populate_existing=True)\n",
        replace="",
        killed_by=["test_get_for_update_reads_the_row_as_it_is_now"],
        says="kept the values it had read before the lock",
        why="the session keeps its stale balance under the lock: a transfer checks money that is gone",
    ),
    Mutant(
        "lock-with-session-get",
        find=LOCKED_SELECT,
        replace="        return await self.session.get(Account, account_id, with_for_update=True)\n",
        killed_by=["test_get_for_update_reads_the_row_as_it_is_now"],
        says="kept the values it had read before the lock",
        why="session.get(with_for_update=True) locks, but returns the object it held with its old values",
    ),
    Mutant(
        "lock-scalar-one",
        find="        return (await self.session.execute(statement)).scalar_one_or_none()\n",
        replace="        return (await self.session.execute(statement)).scalar_one()\n",
        killed_by=["test_get_for_update_returns_the_account_or_none"],
        says="return None when there is none",
        why="NoResultFound for a missing account: a transfer to an unknown account becomes a 500",
    ),
    Mutant(
        "lock-raises-http-404",
        find="        return (await self.session.execute(statement)).scalar_one_or_none()\n",
        replace=(
            "        account = (await self.session.execute(statement)).scalar_one_or_none()\n"
            "        if account is None:\n"
            '            raise HTTPException(status_code=404, detail="Account not found")\n'
            "        return account\n"
        ),
        also=[IMPORT_HTTP],
        killed_by=["test_get_for_update_returns_the_account_or_none", "test_the_repositories_know_nothing_of_http"],
        says="HTTP",
        why="a layer break: the repository answers in HTTP where the service should decide",
    ),
    Mutant(
        "lock-ignores-the-id",
        find="            .where(Account.id == account_id)\n            .with_for_update()",
        replace="            .limit(1)\n            .with_for_update()",
        killed_by=["test_get_for_update_returns_the_account_or_none"],
        says="returned Ada's account",
        why="locks and returns whatever account comes first: a transfer moves someone else's money",
    ),
    # --- step 5: EntryRepository.add and add_all --------------------------------------------------
    Mutant(
        "entry-add-commits",
        path=ENTRIES,
        find="        self.session.add(entry)\n        await self.session.flush()\n",
        replace="        self.session.add(entry)\n        await self.session.commit()\n",
        killed_by=["test_the_entry_repository_flushes_but_never_commits"],
        says="EntryRepository.add() committed",
        why="a deposit's entry becomes durable before its balance update: the ledger and balances can disagree",
    ),
    Mutant(
        "add-all-commits",
        path=ENTRIES,
        find="        self.session.add_all(entries)\n",
        replace="        self.session.add_all(entries)\n        await self.session.commit()\n",
        killed_by=["test_the_entry_repository_flushes_but_never_commits"],
        says="add_all() committed",
        why="a transfer's legs become durable before its balances: a failure after it leaves money half-moved",
    ),
    Mutant(
        "entry-add-without-flush",
        path=ENTRIES,
        find="        self.session.add(entry)\n        await self.session.flush()\n",
        replace="        self.session.add(entry)\n",
        killed_by=["test_add_returns_the_entry_with_its_id_and_created_at"],
        says="flush after adding",
        why="the entry has no id or created_at when the service answers with it",
    ),
    Mutant(
        "add-all-without-flush",
        path=ENTRIES,
        find="        # One flush: the ORM batches the INSERTs (insertmanyvalues), one round trip for all.\n"
        "        await self.session.flush()\n",
        replace="",
        killed_by=["test_add_all_writes_both_legs_of_a_transfer"],
        says="then flush",
        why="nothing is sent: a constraint violation surfaces later, far from the code that caused it",
    ),
    Mutant(
        "add-all-flushes-per-entry",
        path=ENTRIES,
        find="        self.session.add_all(entries)\n",
        replace="        for entry in entries:\n            self.session.add(entry)\n            await self.session.flush()\n",
        killed_by=["test_add_all_sends_both_legs_in_one_insert"],
        says="round trips",
        why="N round trips for N entries where one batched INSERT does",
    ),
    Mutant(
        "add-all-gathers-the-adds",
        path=ENTRIES,
        find="        self.session.add_all(entries)\n"
        "        # One flush: the ORM batches the INSERTs (insertmanyvalues), one round trip for all.\n"
        "        await self.session.flush()\n",
        replace="        await asyncio.gather(*(self.add(entry) for entry in entries))\n",
        also=[Edit(find="import uuid\n", replace="import asyncio\nimport uuid\n", path=ENTRIES)],
        killed_by=["test_add_all_writes_both_legs_of_a_transfer", "test_add_all_sends_both_legs_in_one_insert"],
        says="not safe to share between concurrent tasks",
        why="concurrent flushes on one AsyncSession: a session is not safe to share between tasks",
    ),
    Mutant(
        "add-all-in-a-savepoint",
        path=ENTRIES,
        find="        self.session.add_all(entries)\n",
        replace="        async with self.session.begin_nested():\n            self.session.add_all(entries)\n",
        killed_by=["test_the_entry_repository_flushes_but_never_commits"],
        says="SAVEPOINT",
        why="the repository manages a (nested) transaction of its own: two more round trips per transfer",
    ),
    Mutant(
        "add-all-calls-add",
        path=ENTRIES,
        find="        self.session.add_all(entries)\n",
        replace="        for entry in entries:\n            await self.add(entry)\n",
        killed_by=["test_add_all_sends_both_legs_in_one_insert"],
        says="one INSERT per entry",
        why="reuses add(), which flushes: one round trip per entry",
    ),
    # --- step 6: for_account ----------------------------------------------------------------------
    Mutant(
        "for-account-without-filter",
        find="            .where(Entry.account_id == account_id)\n",
        replace="",
        killed_by=["test_for_account_returns_only_that_accounts_entries"],
        says="another customer's money",
        why="a statement that lists every account's entries leaks other customers' money",
    ),
    Mutant(
        "for-account-oldest-first",
        find=ENTRY_ORDER,
        replace=".order_by(Entry.created_at, Entry.id)",
        killed_by=["test_for_account_lists_newest_first_with_id_breaking_ties"],
        says="newest first",
        why="a statement shows the latest activity on top; oldest first buries it on the last page",
    ),
    Mutant(
        "for-account-by-id-only",
        find=ENTRY_ORDER,
        replace=".order_by(Entry.id.desc())",
        killed_by=["test_for_account_lists_newest_first_with_id_breaking_ties"],
        says="newest first",
        why="the id is Python's clock, not the transaction's: an entry written late in an old transaction jumps up",
    ),
    Mutant(
        "for-account-without-tiebreaker",
        find=ENTRY_ORDER,
        replace=".order_by(Entry.created_at.desc())",
        killed_by=["test_for_account_lists_newest_first_with_id_breaking_ties"],
        says="same created_at",
        why="both legs of a transfer share created_at: without a tiebreaker the order is not total, pages overlap",
    ),
    Mutant(
        "for-account-tiebreaker-ascending",
        find=ENTRY_ORDER,
        replace=".order_by(Entry.created_at.desc(), Entry.id)",
        killed_by=["test_for_account_lists_newest_first_with_id_breaking_ties"],
        says="same created_at",
        why="ties broken oldest first inside a newest-first list: the order contradicts itself",
    ),
    Mutant(
        "for-account-ignores-paging",
        find="            .limit(limit)\n            .offset(offset)\n",
        replace="",
        killed_by=["test_for_account_pages_with_limit_and_offset"],
        says="more rows than the limit",
        why="every statement returns the account's whole history",
    ),
    Mutant(
        "for-account-ignores-offset",
        find="            .limit(limit)\n            .offset(offset)\n",
        replace="            .limit(limit)\n",
        killed_by=["test_for_account_pages_with_limit_and_offset"],
        says="offset were ignored",
        why="every page of the statement is the first: older activity can never be seen",
    ),
    Mutant(
        "for-account-hard-coded-limit",
        find="            .limit(limit)\n",
        replace="            .limit(2)\n",
        killed_by=["test_for_account_lists_newest_first_with_id_breaking_ties"],
        says="default limit is 50",
        why="gaming: the page size the check asks for, hard-coded; the limit parameter is ignored",
    ),
    Mutant(
        "for-account-paged-in-python",
        find="            .limit(limit)\n            .offset(offset)\n        )\n        return (await self.session.scalars(statement)).all()\n",
        replace="        )\n        return (await self.session.scalars(statement)).all()[offset : offset + limit]\n",
        killed_by=["test_for_account_asks_the_database_for_one_page_only"],
        says="no LIMIT and OFFSET",
        why="reads the account's whole history to show one page of it",
    ),
]

# The stack's own bar (step 6): what ruff and mypy --strict refuse in a learner's repositories.
MUTANTS += [
    Mutant(
        "get-annotated-as-never-none",
        path="app/crud/accounts.py",
        find="        return await self.session.get(Account, account_id)\n",
        replace="        account: Account = await self.session.get(Account, account_id)\n        return account\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="incompatible types",
        why="session.get returns Account | None: the annotation lies, and mypy --strict says so",
    ),
    Mutant(
        "unused-import-left-behind",
        path="app/crud/entries.py",
        find="from sqlalchemy import select\n",
        replace="from sqlalchemy import select, update\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="F401",
        why="an import nothing uses is dead code ruff reports on every run",
    ),
]
