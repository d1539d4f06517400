"""Lesson 05's mutants: wrong services a reviewer would reject, each caught by the checks it names.

`uv run workshop verify 05` plants each one in a copy of the solution and proves that the named
checks fail with a `Lesson 05:` message containing `says`.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

ACCOUNTS = "app/services/accounts.py"
TRANSFERS = "app/services/transfers.py"
KEYS = "app/crud/idempotency.py"
MIGRATION = "migrations/versions/0002_idempotency_keys.py"

HTTP_IMPORT = Edit(
    find="import uuid\n",
    replace="import uuid\n\nfrom fastapi import HTTPException, status\n",
)
SELECT_IMPORT = Edit(
    find="from sqlalchemy.ext.asyncio import AsyncSession\n",
    replace="from sqlalchemy import select\nfrom sqlalchemy.ext.asyncio import AsyncSession\n",
)

MUTANTS = [
    # --- step 1: open, get, list ------------------------------------------------------------------
    Mutant(
        "get-returns-none",
        find="""        account = await self.accounts.get(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account
""",
        replace="""        return await self.accounts.get(account_id)  # type: ignore[return-value]
""",
        killed_by=["test_get_raises_account_not_found_for_an_unknown_id"],
        says="AccountNotFound",
        why="every caller of the service must then test for None; the service is where 'missing' gets its name",
    ),
    Mutant(
        "get-raises-http-404",
        path=ACCOUNTS,
        find="""        if account is None:
            raise AccountNotFound(account_id)
        return account
""",
        replace="""        if account is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="account not found")
        return account
""",
        also=[Edit(find=HTTP_IMPORT.find, replace=HTTP_IMPORT.replace, path=ACCOUNTS)],
        killed_by=["test_get_raises_account_not_found_for_an_unknown_id"],
        says="never HTTPException",
        why="a service that speaks HTTP cannot serve a batch job or a test, and the 404 escapes the one error handler",
    ),
    Mutant(
        "list-ignores-offset",
        find="return await self.accounts.list(limit=limit, offset=offset)",
        replace="return await self.accounts.list(limit=limit)",
        killed_by=["test_list_returns_pages_of_accounts_oldest_first"],
        says="pass limit and offset",
        why="page 2 repeats page 1: a client paging through the accounts never sees the rest",
    ),
    Mutant(
        "open-bypasses-the-repository",
        find="return await self.accounts.add(Account(owner=owner, currency=currency, balance=0))",
        replace="""account = Account(owner=owner, currency=currency, balance=0)
        self.accounts.session.add(account)
        return account""",
        killed_by=[
            "test_open_creates_an_empty_account",
            "test_the_account_service_reaches_the_database_only_through_repositories",
        ],
        says="AccountRepository",
        why="adding through the session skips the repository's flush: the new account has no id yet",
    ),
    Mutant(
        "get-through-the-session",
        find="        account = await self.accounts.get(account_id)\n        if account is None:\n            raise AccountNotFound(account_id)\n        return account\n",
        replace="        account = await self.accounts.session.get(Account, account_id)\n        if account is None:\n            raise AccountNotFound(account_id)\n        return account\n",
        killed_by=["test_the_account_service_reaches_the_database_only_through_repositories"],
        says="session.get",
        why="a layer break: the service queries behind the repository's back, so a change of the query misses it",
    ),
    Mutant(
        "get-returns-the-first-account",
        find="""        account = await self.accounts.get(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account
""",
        replace="""        page = await self.accounts.list(limit=1)
        if not page:
            raise AccountNotFound(account_id)
        return page[0]
""",
        killed_by=["test_get_returns_the_account_with_that_id"],
        says="not the account with that id",
        why="gaming the grader: an answer that passes a check with one account and is wrong with two",
    ),
    # --- step 2: deposits and statements ----------------------------------------------------------
    Mutant(
        "deposit-without-a-lock",
        path=ACCOUNTS,
        find="account = await self.accounts.get_for_update(account_id)",
        replace="account = await self.accounts.get(account_id)",
        killed_by=["test_concurrent_deposits_are_never_lost"],
        says="deposits were lost",
        why="read-modify-write without the row lock: two deposits read the same balance and one is lost",
    ),
    Mutant(
        "deposit-for-share",
        path=ACCOUNTS,
        find="account = await self.accounts.get_for_update(account_id)",
        replace=(
            "account = await self.accounts.session.get(\n"
            '            Account, account_id, with_for_update={"read": True}, populate_existing=True\n'
            "        )"
        ),
        killed_by=["test_concurrent_deposits_are_never_lost"],
        says="FOR SHARE",
        why="a shared lock lets every deposit read the row; each then waits for the others to write: deadlock",
    ),
    Mutant(
        "deposit-nowait",
        path=ACCOUNTS,
        find="account = await self.accounts.get_for_update(account_id)",
        replace=(
            "account = await self.accounts.session.get(\n"
            '            Account, account_id, with_for_update={"nowait": True}, populate_existing=True\n'
            "        )"
        ),
        killed_by=["test_concurrent_deposits_are_never_lost"],
        says="NOWAIT",
        why="NOWAIT turns every concurrent deposit into an error instead of a short wait",
    ),
    Mutant(
        "deposit-accepts-zero",
        path=ACCOUNTS,
        find="        if amount <= 0:\n            raise InvalidAmount(amount)\n",
        replace="        if amount < 0:\n            raise InvalidAmount(amount)\n",
        killed_by=["test_a_deposit_of_zero_or_less_is_refused[0]"],
        says="InvalidAmount",
        why="a deposit of 0 writes an entry of 0: the database refuses it with a 500 instead of a clear 422",
    ),
    Mutant(
        "deposit-writes-no-entry",
        find="        await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))\n",
        replace="",
        killed_by=["test_a_deposit_writes_one_entry_without_a_transfer_id"],
        says="expected exactly one",
        why="money appears without a line in the statement: the ledger no longer explains the balance",
    ),
    Mutant(
        "deposit-forgets-the-balance",
        find="        account.balance += amount\n",
        replace="",
        killed_by=["test_a_deposit_adds_to_the_balance"],
        says="expected 1250",
        why="the entry is written but the balance stays: the account and its statement disagree",
    ),
    Mutant(
        "deposit-refuses-only-zero",
        path=ACCOUNTS,
        find="        if amount <= 0:\n            raise InvalidAmount(amount)\n",
        replace="        if not amount:\n            raise InvalidAmount(amount)\n",
        killed_by=["test_a_deposit_of_zero_or_less_is_refused[-50]"],
        says="InvalidAmount",
        why="a negative deposit is a withdrawal nobody authorised",
    ),
    Mutant(
        "deposit-writes-the-entry-first",
        find="""        account = await self.accounts.get_for_update(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        account.balance += amount
        await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))
""",
        replace="""        await self.entries.add(Entry(account_id=account_id, amount=amount, transfer_id=None))
        account = await self.accounts.get_for_update(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        account.balance += amount
""",
        killed_by=["test_a_deposit_into_an_unknown_account_is_refused"],
        says="AccountNotFound",
        why="the entry of an unknown account hits the foreign key first: a 500 where a 404 belongs",
    ),
    Mutant(
        "statement-ignores-paging",
        find="return await self.entries.for_account(account_id, limit=limit, offset=offset)",
        replace="return await self.entries.for_account(account_id)",
        killed_by=["test_the_statement_lists_the_entries_of_that_account_only"],
        says="statement(limit=1, offset=1)",
        why="a statement that ignores limit and offset cannot be paged: an old account sends its whole history",
    ),
    Mutant(
        "deposit-commits",
        find="        await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))\n",
        replace=(
            "        await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))\n"
            "        await self.entries.session.commit()\n"
        ),
        killed_by=["test_the_account_service_never_commits"],
        says="session.commit()",
        why="a service that commits ends the request's transaction half-way: later steps can no longer roll it back",
    ),
    Mutant(
        "statement-of-nobody-is-empty",
        find="""        if await self.accounts.get(account_id) is None:
            raise AccountNotFound(account_id)
""",
        replace="",
        killed_by=["test_the_statement_of_an_unknown_account_is_refused"],
        says="AccountNotFound",
        why="a typo in an account id answers 200 [] instead of 404: the client believes the account is empty",
    ),
    # --- step 3: transfers ------------------------------------------------------------------------
    Mutant(
        "transfer-accepts-zero",
        path=TRANSFERS,
        find="        if amount <= 0:\n            raise InvalidAmount(amount)\n",
        replace="        if amount < 0:\n            raise InvalidAmount(amount)\n",
        killed_by=["test_a_transfer_of_zero_or_less_is_refused[0]"],
        says="InvalidAmount",
        why="a transfer of 0 reaches the database, whose CHECK refuses its entries: a 500 for a client mistake",
    ),
    Mutant(
        "transfer-refuses-only-zero",
        path=TRANSFERS,
        find="        if amount <= 0:\n            raise InvalidAmount(amount)\n",
        replace="        if amount == 0:\n            raise InvalidAmount(amount)\n",
        killed_by=["test_a_transfer_of_zero_or_less_is_refused[-10]"],
        says="InvalidAmount",
        why="a transfer of -10 pulls money from the target: a payment turned into a debit nobody authorised",
    ),
    Mutant(
        "same-account-allowed",
        find="        if source_id == target_id:\n            raise SameAccount()\n",
        replace="",
        killed_by=["test_a_transfer_to_the_same_account_is_refused"],
        says="SameAccount",
        why="a transfer to itself writes two entries and moves nothing: noise in the ledger, a client bug let through",
    ),
    Mutant(
        "no-currency-check",
        find="""        if source.currency != target.currency:
            raise CurrencyMismatch(source.currency, target.currency)
""",
        replace="",
        killed_by=["test_a_transfer_between_two_currencies_is_refused"],
        says="went through",
        why="100 EUR become 100 USD: money is created or destroyed by the exchange rate",
    ),
    Mutant(
        "currency-mismatch-arguments-swapped",
        find="raise CurrencyMismatch(source.currency, target.currency)",
        replace="raise CurrencyMismatch(target.currency, source.currency)",
        killed_by=["test_a_transfer_between_two_currencies_is_refused"],
        says="in that order",
        why="the error tells the client it sent USD to EUR when it sent EUR to USD",
    ),
    Mutant(
        "whole-balance-refused",
        find="if source.balance < amount:",
        replace="if source.balance <= amount:",
        killed_by=["test_a_transfer_of_the_whole_balance_is_allowed"],
        says="reach zero",
        why="a balance may reach zero: refusing to empty an account is a bug customers notice at once",
    ),
    Mutant(
        "insufficient-funds-names-the-amount-as-balance",
        find="raise InsufficientFunds(source.id, source.balance, amount)",
        replace="raise InsufficientFunds(source.id, amount, source.balance)",
        killed_by=["test_a_transfer_larger_than_the_balance_is_refused"],
        says="in the order InsufficientFunds takes them",
        why="the error says the account holds what was asked: the client cannot tell how much is missing",
    ),
    Mutant(
        "source-leg-positive",
        find="Entry(account_id=source.id, amount=-amount, transfer_id=transfer_id),",
        replace="Entry(account_id=source.id, amount=amount, transfer_id=transfer_id),",
        killed_by=["test_a_transfer_writes_two_entries_that_sum_to_zero_and_share_its_id"],
        says="sum to zero",
        why="the entries no longer sum to zero: the ledger shows money created by every transfer",
    ),
    Mutant(
        "legs-without-transfer-id",
        find="Entry(account_id=target.id, amount=amount, transfer_id=transfer_id),",
        replace="Entry(account_id=target.id, amount=amount, transfer_id=None),",
        killed_by=["test_a_transfer_writes_two_entries_that_sum_to_zero_and_share_its_id"],
        says="transfer_id",
        why="the incoming leg cannot be matched to its transfer: the statement shows a deposit that never happened",
    ),
    Mutant(
        "unknown-account-names-the-source",
        find="""            if account is None:
                raise AccountNotFound(account_id)
            locked[account_id] = account""",
        replace="""            if account is None:
                raise AccountNotFound(source_id)
            locked[account_id] = account""",
        killed_by=["test_a_transfer_with_an_unknown_account_is_refused[target]"],
        says="not the unknown target",
        why="the 404 names the account that exists: the client looks for the mistake in the wrong place",
    ),
    Mutant(
        "transfer-raises-http-404",
        find="""            if account is None:
                raise AccountNotFound(account_id)
            locked[account_id] = account""",
        replace="""            if account is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"account {account_id} not found")
            locked[account_id] = account""",
        also=[Edit(find=HTTP_IMPORT.find, replace=HTTP_IMPORT.replace, path=TRANSFERS)],
        killed_by=["test_a_transfer_with_an_unknown_account_is_refused"],
        says="never HTTPException",
        why="a service that raises HTTPException is tied to FastAPI and bypasses the one domain-error handler",
    ),
    Mutant(
        "transfer-commits",
        find="""                Entry(account_id=target.id, amount=amount, transfer_id=transfer_id),
            ]
        )
""",
        replace="""                Entry(account_id=target.id, amount=amount, transfer_id=transfer_id),
            ]
        )
        await self.entries.session.commit()
""",
        killed_by=["test_a_transfer_never_commits"],
        says="session.commit()",
        why="the commit belongs to the request: a service that commits cannot be part of a larger transaction",
    ),
    Mutant(
        "balances-committed-before-entries",
        find="""        target.balance += amount
        await self.entries.add_all(""",
        replace="""        target.balance += amount
        await self.accounts.session.commit()
        await self.entries.add_all(""",
        killed_by=[
            "test_a_transfer_that_fails_half_way_leaves_nothing_behind",
            "test_a_transfer_never_commits",
        ],
        says="commit",
        why="a failure after the commit leaves balances changed without their entries: the books no longer add up",
    ),
    Mutant(
        "lock-both-returns-id-order",
        find="return locked[source_id], locked[target_id]",
        replace="return tuple(locked.values())  # type: ignore[return-value]",
        killed_by=["test_a_transfer_moves_the_amount_from_source_to_target"],
        says="request order",
        why="when the source has the larger id, the money moves backwards: the payee pays the payer",
    ),
    Mutant(
        "lock-in-request-order",
        find="for account_id in sorted((source_id, target_id)):",
        replace="for account_id in (source_id, target_id):",
        killed_by=["test_a_transfer_locks_the_account_with_the_smaller_id_first"],
        says="sorted id order",
        why="A→B and B→A each hold one lock and wait for the other: PostgreSQL aborts one, a 500 for a valid request",
    ),
    Mutant(
        "lock-target-first",
        find="for account_id in sorted((source_id, target_id)):",
        replace="for account_id in (target_id, source_id):",
        killed_by=["test_a_transfer_locks_the_account_with_the_smaller_id_first"],
        says="sorted id order",
        why="target first is still an order of the request, not of the ids: crossing transfers deadlock",
    ),
    Mutant(
        "transfer-without-locks",
        path=TRANSFERS,
        find="account = await self.accounts.get_for_update(account_id)",
        replace="account = await self.accounts.get(account_id)",
        killed_by=["test_a_transfer_locks_the_account_with_the_smaller_id_first"],
        says="get_for_update",
        why="without row locks two transfers read the same balance: lost updates and overdrafts",
    ),
    Mutant(
        "transfer-nowait",
        path=TRANSFERS,
        find="account = await self.accounts.get_for_update(account_id)",
        replace=(
            "account = await self.accounts.session.get(\n"
            '                Account, account_id, with_for_update={"nowait": True}, populate_existing=True\n'
            "            )"
        ),
        killed_by=[
            "test_sixty_concurrent_transfers_keep_the_total_and_never_deadlock",
            "test_concurrent_overdrafts_never_make_a_balance_negative",
        ],
        says="NOWAIT",
        why="a transfer that finds a row locked fails at once: every busy account answers 500 to valid requests",
    ),
    Mutant(
        "transfer-for-share",
        path=TRANSFERS,
        find="account = await self.accounts.get_for_update(account_id)",
        replace=(
            "account = await self.accounts.session.get(\n"
            '                Account, account_id, with_for_update={"read": True}, populate_existing=True\n'
            "            )"
        ),
        killed_by=["test_concurrent_overdrafts_never_make_a_balance_negative"],
        says="FOR SHARE",
        why="shared locks let two transfers read one balance; each then waits for the other to write: deadlock",
    ),
    Mutant(
        "funds-checked-before-the-lock",
        find="""        source, target = await self._lock_both(source_id, target_id)
        if source.currency != target.currency:""",
        replace="""        unlocked = await self.accounts.get(source_id)
        if unlocked is not None and unlocked.balance < amount:
            raise InsufficientFunds(unlocked.id, unlocked.balance, amount)
        source, target = await self._lock_both(source_id, target_id)
        if source.currency != target.currency:""",
        also=[
            Edit(
                find="""        if source.balance < amount:
            raise InsufficientFunds(source.id, source.balance, amount)
""",
                replace="",
                path=TRANSFERS,
            )
        ],
        killed_by=["test_concurrent_overdrafts_never_make_a_balance_negative"],
        says="refused a negative balance",
        why="the funds are checked on a balance read before the lock: two transfers spend the same money",
    ),
    Mutant(
        "transfer-locks-with-its-own-select",
        find="            account = await self.accounts.get_for_update(account_id)\n            if account is None:",
        replace=(
            "            statement = select(Account).where(Account.id == account_id).with_for_update()\n"
            "            account = (await self.accounts.session.execute(statement)).scalar_one_or_none()\n"
            "            if account is None:"
        ),
        also=[Edit(find=SELECT_IMPORT.find, replace=SELECT_IMPORT.replace, path=TRANSFERS)],
        killed_by=["test_a_transfer_reaches_the_database_only_through_repositories"],
        says="session.execute",
        why="a layer break: the service writes SQL of its own, and loses the repository's populate_existing",
    ),
    # --- step 4: idempotency keys -----------------------------------------------------------------
    Mutant(
        "fingerprint-ignores-direction",
        find='f"{source_id}:{target_id}:{amount}"',
        replace='f"{min(source_id, target_id)}:{max(source_id, target_id)}:{amount}"',
        killed_by=["test_the_same_key_for_the_opposite_direction_is_refused"],
        says="direction",
        why="A→B and B→A with one key look alike: the refund is answered as a replay of the payment",
    ),
    Mutant(
        "fingerprint-of-sorted-ids",
        find="fingerprint = request_fingerprint(source_id, target_id, amount)",
        replace="fingerprint = request_fingerprint(*sorted((source_id, target_id)), amount)",
        killed_by=["test_the_same_key_for_the_opposite_direction_is_refused"],
        says="direction",
        why="sorting the ids is for locks, not for the request: B→A with A→B's key replays instead of being refused",
    ),
    Mutant(
        "fingerprint-ignores-amount",
        find='f"{source_id}:{target_id}:{amount}"',
        replace='f"{source_id}:{target_id}"',
        killed_by=["test_the_same_key_with_another_request_is_refused"],
        says="answered as a replay of the earlier transfer",
        why="a key reused for 999 replays the transfer of 100: the client believes it paid 999",
    ),
    Mutant(
        "conflict-not-checked",
        find="""                if earlier.request_hash != fingerprint:
                    raise IdempotencyConflict(idempotency_key)
""",
        replace="",
        killed_by=["test_the_same_key_with_another_request_is_refused"],
        says="answered as a replay of the earlier transfer",
        why="any request with a known key replays the first one: a client bug is answered with a false success",
    ),
    Mutant(
        "key-claimed-after-the-locks",
        find="        transfer_id = uuid7()\n\n        if idempotency_key is not None:\n",
        replace=(
            "        transfer_id = uuid7()\n"
            "        source, target = await self._lock_both(source_id, target_id)\n\n"
            "        if idempotency_key is not None:\n"
        ),
        also=[
            Edit(
                find="\n        source, target = await self._lock_both(source_id, target_id)\n        if source.currency",
                replace="\n        if source.currency",
                path=TRANSFERS,
            )
        ],
        killed_by=["test_a_request_waits_for_its_key_before_it_locks_any_account"],
        says="claims the key after locking",
        why="a retry waits for its key while holding both row locks: every transfer on those accounts queues behind it",
    ),
    Mutant(
        "replay-moves-money-again",
        find="                return TransferResult(\n                    transfer_id=earlier.transfer_id,",
        replace="                result = TransferResult(\n                    transfer_id=earlier.transfer_id,",
        killed_by=["test_the_same_key_and_request_replay_the_first_transfer"],
        says="must not move money again",
        why="a retry after a lost response pays twice: exactly what the key exists to prevent",
    ),
    Mutant(
        "replay-with-a-new-transfer-id",
        find="transfer_id=earlier.transfer_id,",
        replace="transfer_id=transfer_id,",
        killed_by=[
            "test_the_same_key_and_request_replay_the_first_transfer",
            "test_two_requests_with_one_key_at_the_same_time_move_the_money_once",
        ],
        says="first transfer",
        why="the replay names a transfer that does not exist: the client cannot find its payment",
    ),
    Mutant(
        "claim-without-on-conflict",
        find="            .on_conflict_do_nothing(index_elements=[IdempotencyKey.key])\n",
        replace="",
        killed_by=["test_the_same_key_and_request_replay_the_first_transfer"],
        says="ON CONFLICT",
        why="every retry fails with a duplicate key (a 500) instead of being replayed",
    ),
    Mutant(
        "claim-looks-before-it-inserts",
        find="""        statement = (
            insert(IdempotencyKey)
            .values(key=key, request_hash=request_hash, transfer_id=transfer_id)
            .on_conflict_do_nothing(index_elements=[IdempotencyKey.key])
            .returning(IdempotencyKey.key)
        )
        if (await self.session.execute(statement)).scalar_one_or_none() is not None:
            return None
        # A new statement sees what committed meanwhile (READ COMMITTED): the first request's row.
        return (await self.session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key))).one()
""",
        replace="""        found = (await self.session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key))).first()
        if found is not None:
            return found
        await self.session.execute(
            insert(IdempotencyKey).values(key=key, request_hash=request_hash, transfer_id=transfer_id)
        )
        return None
""",
        killed_by=["test_two_requests_with_one_key_at_the_same_time_move_the_money_once"],
        says="IntegrityError",
        why="check-then-insert races: two simultaneous requests both find nothing, and the second fails with a 500",
    ),
    Mutant(
        "claim-commits-the-key",
        find="""        if (await self.session.execute(statement)).scalar_one_or_none() is not None:
            return None
""",
        replace="""        if (await self.session.execute(statement)).scalar_one_or_none() is not None:
            await self.session.commit()
            return None
""",
        killed_by=["test_a_refused_transfer_does_not_use_up_its_key"],
        says="rollback forgets it",
        why="the key outlives a failed transfer: the client's honest retry is replayed as a payment that never happened",
    ),
    Mutant(
        "downgrade-keeps-the-table",
        find='    op.drop_table("idempotency_keys")\n',
        replace="    pass\n",
        killed_by=["test_the_idempotency_migration_can_be_undone"],
        says="downgrade",
        why="a downgrade that does nothing leaves the schema ahead of its revision: the next upgrade fails",
    ),
    Mutant(
        "migration-request-hash-nullable",
        find='sa.Column("request_hash", sa.Text(), nullable=False),',
        replace='sa.Column("request_hash", sa.Text(), nullable=True),',
        killed_by=["test_the_migrated_database_matches_the_models"],
        says="request_hash accepts NULL in the database, is NOT NULL in the model",
        why="the database accepts a key without a fingerprint: autogenerate's draft was edited and not checked",
    ),
]

# The layer rules, read from the files (test_the_layers.py): caught without running a line.
MUTANTS += [
    Mutant(
        "service-pages-with-its-own-select",
        path="app/services/accounts.py",
        find="        return await self.accounts.list(limit=limit, offset=offset)\n",
        replace="        statement = select(Account).order_by(Account.id).limit(limit).offset(offset)\n"
        "        return (await self.accounts.session.scalars(statement)).all()\n",
        also=[
            Edit(
                "from sqlalchemy.ext.asyncio import AsyncSession\n",
                "from sqlalchemy import select\nfrom sqlalchemy.ext.asyncio import AsyncSession\n",
                "app/services/accounts.py",
            )
        ],
        killed_by=["test_the_services_import_no_queries_and_nothing_of_http"],
        says="only through the repositories",
        why="the query lives in two places now: the next change of the page order misses one",
    ),
    Mutant(
        "service-raises-http-422",
        path="app/services/transfers.py",
        find="            raise SameAccount()\n",
        replace='            raise HTTPException(status_code=422, detail="same account")\n',
        also=[
            Edit(
                "import hashlib\n", "import hashlib\n\nfrom fastapi import HTTPException\n", "app/services/transfers.py"
            )
        ],
        killed_by=["test_the_services_import_no_queries_and_nothing_of_http"],
        says="imports fastapi",
        why="a service that raises HTTP errors answers a batch job or a worker with a status code",
    ),
]

# The stack's own bar (test_code_quality.py): what ruff and mypy --strict refuse in a learner's services.
MUTANTS += [
    Mutant(
        "untyped-fingerprint-helper",
        path="app/services/transfers.py",
        find='    return hashlib.sha256(f"{source_id}:{target_id}:{amount}".encode()).hexdigest()\n',
        replace='    return _digest(f"{source_id}:{target_id}:{amount}")\n\n\ndef _digest(text):\n    return hashlib.sha256(text.encode()).hexdigest()\n',
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="missing a type annotation",
        why="an untyped helper switches mypy off for everything that flows through it",
    ),
    Mutant(
        "unused-import-left-behind",
        path="app/services/accounts.py",
        find="from app.services.errors import AccountNotFound, InvalidAmount\n",
        replace="from app.services.errors import AccountNotFound, InsufficientFunds, InvalidAmount\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="F401",
        why="an import nothing uses is dead code ruff reports on every run",
    ),
]

# Found by an independent review (wrong solutions written without seeing the checks).
MUTANTS += [
    # --- step 2: a read takes no lock; the amount is refused before any query ---------------------
    Mutant(
        "statement-locks-the-row",
        find="if await self.accounts.get(account_id) is None:",
        replace="if await self.accounts.get_for_update(account_id) is None:",
        killed_by=["test_reading_an_account_or_its_statement_takes_no_row_lock"],
        says="statement() waited for a row lock",
        why="a read takes FOR UPDATE: every statement of a busy account queues behind its transfers and deposits",
    ),
    Mutant(
        "get-locks-the-row",
        find="""        account = await self.accounts.get(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account
""",
        replace="""        account = await self.accounts.get_for_update(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account
""",
        killed_by=["test_reading_an_account_or_its_statement_takes_no_row_lock"],
        says="get() waited for a row lock",
        why="GET of an account waits for every transfer on it, and blocks them in turn: a read never locks",
    ),
    Mutant(
        "deposit-amount-checked-after-the-lock",
        find="""        if amount <= 0:
            raise InvalidAmount(amount)
        # The lock makes""",
        replace="""        # The lock makes""",
        also=[
            Edit(
                find="""            raise AccountNotFound(account_id)
        account.balance += amount
""",
                replace="""            raise AccountNotFound(account_id)
        if amount <= 0:
            raise InvalidAmount(amount)
        account.balance += amount
""",
                path=ACCOUNTS,
            )
        ],
        killed_by=["test_a_deposit_of_zero_or_less_is_refused"],
        says="the amount needs no database",
        why="a request the rules refuse on its face takes a row lock first: it queues behind transfers for nothing",
    ),
    # --- step 3: cheap rules first, the rows handed back in request order, both rows locked -------
    Mutant(
        "same-account-checked-after-the-locks",
        find="""        if source_id == target_id:
            raise SameAccount()
        transfer_id""",
        replace="""        transfer_id""",
        also=[
            Edit(
                find="""        source, target = await self._lock_both(source_id, target_id)
        if source.currency""",
                replace="""        source, target = await self._lock_both(source_id, target_id)
        if source is target:
            raise SameAccount()
        if source.currency""",
                path=TRANSFERS,
            )
        ],
        killed_by=["test_a_transfer_to_the_same_account_is_refused"],
        says="before the key, the locks",
        why="a rule that needs no database is checked after claiming the key and locking the row: queries for nothing",
    ),
    Mutant(
        "amount-checked-after-the-locks",
        find="""        if amount <= 0:
            raise InvalidAmount(amount)
        if source_id == target_id:""",
        replace="""        if source_id == target_id:""",
        also=[
            Edit(
                find="""            raise CurrencyMismatch(source.currency, target.currency)
""",
                replace="""            raise CurrencyMismatch(source.currency, target.currency)
        if amount <= 0:
            raise InvalidAmount(amount)
""",
                path=TRANSFERS,
            )
        ],
        killed_by=["test_a_transfer_of_zero_or_less_is_refused"],
        says="before the key, the locks",
        why="a transfer of 0 locks two rows before it is refused: it queues behind real transfers for nothing",
    ),
    Mutant(
        "lock-both-unpacks-in-id-order",
        find="return locked[source_id], locked[target_id]",
        replace="source, target = locked.values()\n        return source, target",
        killed_by=[
            "test_a_transfer_moves_the_amount_from_source_to_target",
            "test_a_transfer_between_two_currencies_is_refused",
            "test_a_transfer_larger_than_the_balance_is_refused",
            "test_a_transfer_of_the_whole_balance_is_allowed",
            "test_concurrent_overdrafts_never_make_a_balance_negative",
            "test_the_same_key_for_the_opposite_direction_is_refused",
        ],
        says="request order",
        why="the rows come back in id order: in one direction the target pays the source, and every error names it",
    ),
    Mutant(
        "lock-both-without-the-none-check",
        find="""            account = await self.accounts.get_for_update(account_id)
            if account is None:
                raise AccountNotFound(account_id)
            locked[account_id] = account""",
        replace="""            account = await self.accounts.get_for_update(account_id)
            locked[account_id] = account  # type: ignore[assignment]""",
        killed_by=["test_a_transfer_with_an_unknown_account_is_refused"],
        says="answered None",
        why="an unknown account id becomes AttributeError on None: a 500 where a 404 AccountNotFound belongs",
    ),
    Mutant(
        "only-the-source-locked",
        find="""        for account_id in sorted((source_id, target_id)):
            account = await self.accounts.get_for_update(account_id)""",
        replace="""        for account_id in sorted((source_id, target_id)):
            if account_id == source_id:
                account = await self.accounts.get_for_update(account_id)
            else:
                account = await self.accounts.get(account_id)""",
        killed_by=[
            "test_a_transfer_locks_the_account_with_the_smaller_id_first",
            "test_sixty_concurrent_transfers_keep_the_total_and_never_deadlock",
            "test_concurrent_overdrafts_never_make_a_balance_negative",
        ],
        says="lock both rows",
        why="the target is read without its lock: concurrent credits to it are lost, and crossing transfers deadlock",
    ),
    # --- step 4: the key's table as the model declares it, a claim that leaves the transaction alone ---
    Mutant(
        "migration-without-the-primary-key",
        find="""        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
""",
        replace="",
        killed_by=[
            "test_the_migrated_database_matches_the_models",
            "test_a_refused_transfer_does_not_use_up_its_key",
            "test_the_same_key_and_request_replay_the_first_transfer",
        ],
        says="primary key",
        why="without the primary key nothing stops two rows with one key, and ON CONFLICT (key) has no arbiter",
    ),
    Mutant(
        "migration-without-the-created-at-default",
        find='sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),',
        replace='sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),',
        killed_by=["test_the_migrated_database_matches_the_models", "test_a_refused_transfer_does_not_use_up_its_key"],
        says="has no default",
        why="the hand-edited migration drops the model's server default: every claim inserts a NULL created_at",
    ),
    Mutant(
        "claim-rolls-back-the-request",
        find="""        statement = (
            insert(IdempotencyKey)
            .values(key=key, request_hash=request_hash, transfer_id=transfer_id)
            .on_conflict_do_nothing(index_elements=[IdempotencyKey.key])
            .returning(IdempotencyKey.key)
        )
        if (await self.session.execute(statement)).scalar_one_or_none() is not None:
            return None
""",
        replace="""        try:
            self.session.add(IdempotencyKey(key=key, request_hash=request_hash, transfer_id=transfer_id))
            await self.session.flush()
            return None
        except IntegrityError:
            await self.session.rollback()
""",
        also=[
            Edit(
                find="from sqlalchemy.dialects.postgresql import insert\n",
                replace="from sqlalchemy.exc import IntegrityError\n",
                path=KEYS,
            )
        ],
        killed_by=[
            "test_the_same_key_and_request_replay_the_first_transfer",
            "test_the_same_key_with_another_request_is_refused",
            "test_the_same_key_for_the_opposite_direction_is_refused",
        ],
        says="session.rollback()",
        why="a repository rolls back the request's whole transaction on a duplicate key: the first transfer's key is gone",
    ),
    Mutant(
        "claim-sleeps-for-the-other-request",
        find="""        # A new statement sees what committed meanwhile (READ COMMITTED): the first request's row.
""",
        replace="""        # Give the first request a moment to commit its row.
        time.sleep(0.05)
""",
        also=[Edit(find="import uuid\n", replace="import time\nimport uuid\n", path=KEYS)],
        killed_by=["test_no_async_function_blocks_the_event_loop"],
        says="time.sleep",
        why="a blocking sleep inside async def freezes every request of the process while it waits",
    ),
    Mutant(
        "deposit-sleeps-before-the-lock",
        find="""        # The lock makes "read the balance""",
        replace="""        time.sleep(0.01)  # let a concurrent deposit finish first
        # The lock makes "read the balance""",
        also=[Edit(find="import uuid\n", replace="import time\nimport uuid\n", path=ACCOUNTS)],
        killed_by=["test_no_async_function_blocks_the_event_loop"],
        says="blocks the event loop",
        why="time.sleep in an async service stops the event loop: one deposit stalls every request of the worker",
    ),
]

# Found by a learner's walk-through (notes/walk-05.md): green before these checks.
MUTANTS += [
    # --- step 3: a database error ends the transaction; nothing inside it is tried again ----------
    Mutant(
        "lock-read-retried-on-every-database-error",
        find="""            account = await self.accounts.get_for_update(account_id)
            if account is None:
                raise AccountNotFound(account_id)
            locked[account_id] = account""",
        replace="""            for attempt in range(3):
                try:
                    account = await self.accounts.get_for_update(account_id)
                    break
                except DBAPIError:
                    # A deadlock or a hiccup of the connection: back off, then try again.
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.05 * 2**attempt)
            if account is None:
                raise AccountNotFound(account_id)
            locked[account_id] = account""",
        also=[
            Edit(
                find="import hashlib\n",
                replace="import asyncio\nimport hashlib\n",
                path=TRANSFERS,
            ),
            Edit(
                find="from sqlalchemy.ext.asyncio import AsyncSession\n",
                replace="from sqlalchemy.exc import DBAPIError\nfrom sqlalchemy.ext.asyncio import AsyncSession\n",
                path=TRANSFERS,
            ),
        ],
        killed_by=["test_a_database_error_during_a_transfer_is_raised_not_retried"],
        says="retried it inside the same transaction",
        why="after a database error the transaction is aborted: every retry in it fails, or 'succeeds' on a fake error",
    ),
    Mutant(
        "deadlock-retried-around-the-locks",
        find="""        source, target = await self._lock_both(source_id, target_id)
        if source.currency != target.currency:""",
        replace="""        for attempt in range(3):
            try:
                source, target = await self._lock_both(source_id, target_id)
                break
            except OperationalError as error:
                # PostgreSQL broke a deadlock and chose this transfer: take the locks again.
                if "deadlock" not in str(error) or attempt == 2:
                    raise
                await asyncio.sleep(0.1)
        if source.currency != target.currency:""",
        also=[
            Edit(find="import hashlib\n", replace="import asyncio\nimport hashlib\n", path=TRANSFERS),
            Edit(
                find="from sqlalchemy.ext.asyncio import AsyncSession\n",
                replace="from sqlalchemy.exc import OperationalError\nfrom sqlalchemy.ext.asyncio import AsyncSession\n",
                path=TRANSFERS,
            ),
        ],
        killed_by=["test_a_database_error_during_a_transfer_is_raised_not_retried"],
        says="no retry inside it can succeed",
        why="a deadlock aborts the transaction: the retry inside it fails on 'current transaction is aborted'",
    ),
    Mutant(
        "lock-read-retried-with-time-sleep",
        find="""            account = await self.accounts.get_for_update(account_id)
            if account is None:
                raise AccountNotFound(account_id)
            locked[account_id] = account""",
        replace="""            for attempt in range(3):
                try:
                    account = await self.accounts.get_for_update(account_id)
                    break
                except DBAPIError:
                    if attempt == 2:
                        raise
                    time.sleep(0.05 * 2**attempt)
            if account is None:
                raise AccountNotFound(account_id)
            locked[account_id] = account""",
        also=[
            Edit(find="import hashlib\n", replace="import hashlib\nimport time\n", path=TRANSFERS),
            Edit(
                find="from sqlalchemy.ext.asyncio import AsyncSession\n",
                replace="from sqlalchemy.exc import DBAPIError\nfrom sqlalchemy.ext.asyncio import AsyncSession\n",
                path=TRANSFERS,
            ),
        ],
        killed_by=["test_no_async_function_blocks_the_event_loop"],
        says="any retry around it: a database error goes up to get_session (step 3)",
        why="a blocking sleep freezes the process, and the retry it paces cannot work in an aborted transaction",
    ),
    Mutant(
        "overdraft-left-to-the-check-constraint",
        find="""        # Read under the lock: no other transaction can spend this balance before we commit.
        if source.balance < amount:
            raise InsufficientFunds(source.id, source.balance, amount)
        source.balance -= amount
        target.balance += amount
        await self.entries.add_all(
            [
                Entry(account_id=source.id, amount=-amount, transfer_id=transfer_id),
                Entry(account_id=target.id, amount=amount, transfer_id=transfer_id),
            ]
        )
""",
        replace="""        balance = source.balance
        source.balance -= amount
        target.balance += amount
        try:
            await self.entries.add_all(
                [
                    Entry(account_id=source.id, amount=-amount, transfer_id=transfer_id),
                    Entry(account_id=target.id, amount=amount, transfer_id=transfer_id),
                ]
            )
        except IntegrityError:
            # The CHECK (balance >= 0) refused the overdraft.
            raise InsufficientFunds(source.id, balance, amount) from None
""",
        also=[
            Edit(
                find="from sqlalchemy.ext.asyncio import AsyncSession\n",
                replace="from sqlalchemy.exc import IntegrityError\nfrom sqlalchemy.ext.asyncio import AsyncSession\n",
                path=TRANSFERS,
            )
        ],
        killed_by=["test_a_transfer_larger_than_the_balance_is_refused"],
        says="The CHECK is the last line of defence",
        why="the rule is the database's error: the transaction is dead when the service answers, the rule untested",
    ),
    # --- step 4: a replay moves no money and takes no lock; the table as the model declares it -----
    Mutant(
        "replay-locks-the-source",
        find="source = await self.accounts.get(source_id)",
        replace="source = await self.accounts.get_for_update(source_id)",
        killed_by=["test_a_replay_answers_while_another_transaction_holds_the_accounts"],
        says="the replay locks an account",
        why="a retry that only replays queues behind every transfer of a busy account, for a currency it could read",
    ),
    Mutant(
        "replay-locks-both-accounts",
        find="""                source = await self.accounts.get(source_id)
                # Unreachable while accounts are never deleted (a stored key's source exists); kept for
                # the type checker and for the day they are. Coverage leaves it out of its count.
                if source is None:  # pragma: no cover
                    raise AccountNotFound(source_id)
""",
        replace="""                source, _ = await self._lock_both(source_id, target_id)
""",
        killed_by=["test_a_replay_answers_while_another_transaction_holds_the_accounts"],
        says="the replay locks an account",
        why="the replay reuses the transfer's locking path: two row locks taken for a request that changes nothing",
    ),
    Mutant(
        "migration-key-as-varchar",
        find='sa.Column("key", sa.Text(), nullable=False),',
        replace='sa.Column("key", sa.String(length=64), nullable=False),',
        killed_by=["test_the_migrated_database_matches_the_models"],
        says="key is VARCHAR(64) in the database, TEXT in the model",
        why="the hand-edited migration caps the key at 64 characters: a longer client key becomes a 500",
    ),
    Mutant(
        "migration-transfer-id-nullable",
        find='sa.Column("transfer_id", sa.Uuid(), nullable=False),',
        replace='sa.Column("transfer_id", sa.Uuid(), nullable=True),',
        killed_by=["test_the_migrated_database_matches_the_models"],
        says="transfer_id accepts NULL in the database, is NOT NULL in the model",
        why="a key row without its transfer: a replay would answer with no transfer id at all",
    ),
]
