"""Hints that `uv run workshop hint 05` reveals one at a time, per failing check: a nudge, then more, then the code.

The README's hints only nudge; the answers live here, one `workshop hint` call at a time.
"""

OPEN = [
    "A new account starts empty. Which repository method adds a row, and why does it flush?",
    "Build the Account with the owner, the currency and a zero balance, and hand it to the repository's `add`: its "
    "flush gives the account its id and created_at.",
    "`return await self.accounts.add(Account(owner=owner, currency=currency, balance=0))`",
]
GET = [
    "The repository answers None for an id it does not know. What should a caller of the service get instead?",
    "Ask `self.accounts.get`; when it answers None, raise the domain error for a missing account, with its id.",
    "```\naccount = await self.accounts.get(account_id)\nif account is None:\n    raise AccountNotFound(account_id)\n"
    "return account\n```",
]
LIST = [
    "The repository already pages; the service passes the page through.",
    "`return await self.accounts.list(limit=limit, offset=offset)`",
]
DEPOSIT = [
    "Three things in order: refuse what the rules refuse without the database, lock the row you change, then change "
    "it and write its line in the statement.",
    "The locking read is `get_for_update` (None for an unknown id); the statement line is one Entry of the amount "
    "with no transfer_id, written through `self.entries.add`.",
    "```\nif amount <= 0:\n    raise InvalidAmount(amount)\naccount = await self.accounts.get_for_update(account_id)\n"
    "if account is None:\n    raise AccountNotFound(account_id)\naccount.balance += amount\n"
    "await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))\nreturn account\n```",
]
STATEMENT = [
    '"No such account" and "no entries yet" are two answers. A read takes no lock.',
    "Check that the account exists with the plain `get` (no lock), raise AccountNotFound if not, then return the "
    "entries repository's page for it.",
    "```\nif await self.accounts.get(account_id) is None:\n    raise AccountNotFound(account_id)\n"
    "return await self.entries.for_account(account_id, limit=limit, offset=offset)\n```",
]
CHEAP_RULES = [
    "Which rules need no database at all? Check those first, before any query.",
    "At the top of `transfer`: an amount of zero or less is InvalidAmount(amount); the same id twice is SameAccount().",
]
LOCK_BOTH = [
    "Which order of the two locks is the same for A→B and for B→A?",
    "Lock in sorted id order with `get_for_update`, remember each row by its id, then hand them back as "
    "(source, target). A None from the repository is AccountNotFound with that id.",
    "```\nlocked: dict[uuid.UUID, Account] = {}\nfor account_id in sorted((source_id, target_id)):\n"
    "    account = await self.accounts.get_for_update(account_id)\n    if account is None:\n"
    "        raise AccountNotFound(account_id)\n    locked[account_id] = account\n"
    "return locked[source_id], locked[target_id]\n```",
]
TRANSFER = [
    "Everything the rules read (currency, balance) comes from the rows `_lock_both` returned, under their locks; "
    "the money moves as two entries that sum to zero.",
    "After `_lock_both`: CurrencyMismatch(source's, target's), then InsufficientFunds(source.id, balance, amount) "
    "when the balance is less than the amount; then move the money and write both legs with one `add_all`.",
    "```\nsource, target = await self._lock_both(source_id, target_id)\n"
    "if source.currency != target.currency:\n    raise CurrencyMismatch(source.currency, target.currency)\n"
    "if source.balance < amount:\n    raise InsufficientFunds(source.id, source.balance, amount)\n"
    "source.balance -= amount\ntarget.balance += amount\nawait self.entries.add_all(\n    [\n"
    "        Entry(account_id=source.id, amount=-amount, transfer_id=transfer_id),\n"
    "        Entry(account_id=target.id, amount=amount, transfer_id=transfer_id),\n    ]\n)\n"
    "return TransferResult(transfer_id=transfer_id, source_id=source.id, target_id=target.id, amount=amount,\n"
    "                      currency=source.currency, replayed=False)\n```",
]
CLAIM = [
    "Insert first, look second: a look-up cannot see a key another request wrote but has not committed yet.",
    "Look up PostgreSQL's `insert()` in sqlalchemy.dialects.postgresql: `.on_conflict_do_nothing(index_elements=…)` "
    "and `.returning(…)`. A row back means the key is yours (return None); nothing back means SELECT the row that "
    "is there and return it.",
    "```\nstatement = (\n    insert(IdempotencyKey)\n"
    "    .values(key=key, request_hash=request_hash, transfer_id=transfer_id)\n"
    "    .on_conflict_do_nothing(index_elements=[IdempotencyKey.key])\n    .returning(IdempotencyKey.key)\n)\n"
    "if (await self.session.execute(statement)).scalar_one_or_none() is not None:\n    return None\n"
    "return (await self.session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key))).one()\n```",
]
REPLAY = [
    "`claim` answers None (the key is yours: carry on) or the earlier row: compare its fingerprint with this one's.",
    "Same fingerprint: answer a TransferResult with the earlier row's transfer_id and replayed=True, and move nothing. "
    "Another fingerprint: IdempotencyConflict(key). The fingerprint is `request_fingerprint(source_id, target_id, "
    "amount)`, in the request's order.",
    "```\nfingerprint = request_fingerprint(source_id, target_id, amount)\n"
    "earlier = await self.keys.claim(idempotency_key, request_hash=fingerprint, transfer_id=transfer_id)\n"
    "if earlier is not None:\n    if earlier.request_hash != fingerprint:\n"
    "        raise IdempotencyConflict(idempotency_key)\n    source = await self.accounts.get(source_id)\n"
    "    if source is None:\n        raise AccountNotFound(source_id)\n"
    "    return TransferResult(transfer_id=earlier.transfer_id, source_id=source_id, target_id=target_id,\n"
    "                          amount=amount, currency=source.currency, replayed=True)\n```",
]
MIGRATION = [
    "Let Alembic write the draft (step 4's commands), then read it against app/models/idempotency.py: every column's "
    "type, nullability and server default, and the primary key.",
    "`uv run alembic check` in lessons/05 says whether the database still differs from the models; "
    "`uv run alembic downgrade -1` then `upgrade head` proves that downgrade() undoes upgrade().",
    'upgrade(): `op.create_table("idempotency_keys", …)` with the four columns as the model has them and '
    '`sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys"))`; downgrade(): '
    '`op.drop_table("idempotency_keys")`.',
]

NO_COMMIT = [
    "Who ends the request's transaction? (lesson 02's get_session)",
    "Repositories flush; the service calls no commit() (and no rollback()): one commit per request, in get_session, "
    "makes a transfer all or nothing.",
]
THROUGH_REPOSITORIES = [
    "Every query, lock and write the service needs already has a repository method.",
    "Use `self.accounts` (get, get_for_update, list, add) and `self.entries` (add, add_all, for_account); no select(), "
    "no session calls and nothing of FastAPI in app/services.",
]

HINTS = {
    # step 1
    "test_open_creates_an_empty_account": OPEN,
    "test_get_returns_the_account_with_that_id": GET,
    "test_get_raises_account_not_found_for_an_unknown_id": GET,
    "test_list_returns_pages_of_accounts_oldest_first": LIST,
    # step 2
    "test_a_deposit_adds_to_the_balance": DEPOSIT,
    "test_a_deposit_writes_one_entry_without_a_transfer_id": DEPOSIT,
    "test_a_deposit_of_zero_or_less_is_refused[0]": DEPOSIT,
    "test_a_deposit_of_zero_or_less_is_refused[-50]": DEPOSIT,
    "test_a_deposit_into_an_unknown_account_is_refused": DEPOSIT,
    "test_concurrent_deposits_are_never_lost": [
        "Two deposits that read the same balance each write their own sum: one is lost. race.ipynb, section 2.",
        *DEPOSIT[1:],
    ],
    "test_the_statement_lists_the_entries_of_that_account_only": STATEMENT,
    "test_the_statement_of_an_unknown_account_is_refused": STATEMENT,
    "test_reading_an_account_or_its_statement_takes_no_row_lock": [
        "A lock is for the row you are about to change. Which of the repository's reads takes none?",
        "`get` and `statement` read with `self.accounts.get`, never `get_for_update`.",
    ],
    # step 3
    "test_a_transfer_of_zero_or_less_is_refused[0]": CHEAP_RULES,
    "test_a_transfer_of_zero_or_less_is_refused[-10]": CHEAP_RULES,
    "test_a_transfer_to_the_same_account_is_refused": CHEAP_RULES,
    "test_a_transfer_with_an_unknown_account_is_refused[source]": LOCK_BOTH,
    "test_a_transfer_with_an_unknown_account_is_refused[target]": LOCK_BOTH,
    "test_a_transfer_moves_the_amount_from_source_to_target": [*TRANSFER[:1], LOCK_BOTH[1], *TRANSFER[1:]],
    "test_a_transfer_writes_two_entries_that_sum_to_zero_and_share_its_id": TRANSFER,
    "test_a_transfer_between_two_currencies_is_refused": TRANSFER,
    "test_a_transfer_larger_than_the_balance_is_refused": TRANSFER,
    "test_a_transfer_of_the_whole_balance_is_allowed": TRANSFER,
    "test_a_transfer_locks_the_account_with_the_smaller_id_first": LOCK_BOTH,
    "test_sixty_concurrent_transfers_keep_the_total_and_never_deadlock": LOCK_BOTH,
    "test_concurrent_overdrafts_never_make_a_balance_negative": [
        "The balance you compare with the amount must be the one you read under the lock.",
        *TRANSFER[1:],
    ],
    "test_a_database_error_during_a_transfer_is_raised_not_retried": [
        "What state is a PostgreSQL transaction in after one of its statements failed?",
        "Aborted: every later statement fails until the transaction rolls back. So the service catches no "
        "DBAPIError: the error goes up to get_session, which rolls back, and the client gets its answer.",
        "This lesson needs no retry. If a service ever retries deadlocks or serialization failures, it reruns the "
        "whole transaction (a new session, every statement again) from outside the service, never one statement "
        "inside the aborted transaction.",
    ],
    "test_a_transfer_never_commits": NO_COMMIT,
    "test_the_account_service_never_commits": NO_COMMIT,
    "test_a_transfer_that_fails_half_way_leaves_nothing_behind": NO_COMMIT,
    "test_a_transfer_reaches_the_database_only_through_repositories": THROUGH_REPOSITORIES,
    "test_the_account_service_reaches_the_database_only_through_repositories": THROUGH_REPOSITORIES,
    "test_the_services_import_no_queries_and_nothing_of_http": THROUGH_REPOSITORIES,
    # step 4
    "test_the_migrated_database_matches_the_models": MIGRATION,
    "test_the_idempotency_migration_can_be_undone": MIGRATION,
    "test_the_same_key_and_request_replay_the_first_transfer": [*CLAIM[:1], *REPLAY],
    "test_the_same_key_with_another_request_is_refused": REPLAY,
    "test_the_same_key_for_the_opposite_direction_is_refused": REPLAY,
    "test_a_replay_answers_while_another_transaction_holds_the_accounts": [
        "A replay moves no money. Does it need any row lock?",
        "The replay needs only the source's currency: read it with `self.accounts.get` (a plain SELECT), not "
        "`get_for_update` or `_lock_both`.",
    ],
    "test_a_request_waits_for_its_key_before_it_locks_any_account": [
        "What does a request with a known key hold while it waits for that key?",
        "Claim the key first in `transfer` (right after the cheap rules), and lock the accounts only after it.",
    ],
    "test_two_requests_with_one_key_at_the_same_time_move_the_money_once": CLAIM,
    "test_a_refused_transfer_does_not_use_up_its_key": [
        "The key lives or dies with the transfer's transaction.",
        "`claim` inserts and returns; it never commits and never rolls back: get_session does, for the whole request.",
    ],
    "test_no_async_function_blocks_the_event_loop": [
        "Inside `async def`, the only waiting is `await`. What were you waiting for?",
        "PostgreSQL already makes a transfer wait for a lock or a key. Delete the sleep, and any retry loop around it.",
    ],
}
