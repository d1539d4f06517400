"""The seeded bugs of lesson 07: realistic mistakes in the app, each caught by a different kind of test.

Each is a find/replace on the lesson's app (the finished stage 06). `find` must occur exactly
once in its file; when the reference changes so that it no longer does, the check fails loudly
instead of grading against a bug that is not there. `missed` completes the sentence "your tests
did not notice when …" with what a user would see; `hints` are revealed one at a time by
`uv run workshop hint 07`, the nudge first, then what a test would do.

This file is the grader's, not a guide: your tests may not read it (they are stopped if they try).
"""

from workshop.graders.seeded import SeededBug

SEEDED_BUGS = [
    SeededBug(
        step=3,
        name="transfer-overdraws",
        path="app/services/transfers.py",
        find=(
            "        if source.balance < amount:\n"
            "            raise InsufficientFunds(source.id, source.balance, amount)\n"
        ),
        replace="",
        missed="a transfer of more than the balance was not refused with InsufficientFunds",
        hints=(
            "The rule lives in TransferService; a test of the service sees the exact error it raises.",
            (
                "Transfer more than the balance and expect InsufficientFunds itself, not any error: without the rule "
                "the database's CHECK constraint still refuses, with an IntegrityError."
            ),
        ),
    ),
    SeededBug(
        step=3,
        name="whole-balance-refused",
        path="app/services/transfers.py",
        find="if source.balance < amount:",
        replace="if source.balance <= amount:",
        missed="a transfer of the whole balance was refused",
        hints=(
            "Boundaries hide off-by-one mistakes: what may an account holding 500 send?",
            "Transfer exactly the balance and expect it to go through, leaving 0.",
        ),
    ),
    SeededBug(
        step=3,
        name="same-account-allowed",
        path="app/services/transfers.py",
        find="        if source_id == target_id:\n            raise SameAccount()\n",
        replace="",
        missed="a transfer from an account to itself went through",
        hints=(
            "Which transfers does TransferService refuse before it locks anything?",
            "Transfer from an account to itself and expect SameAccount.",
        ),
    ),
    SeededBug(
        step=3,
        name="currency-unchecked",
        path="app/services/transfers.py",
        find="if source.currency != target.currency:",
        replace="if source.currency != source.currency:",
        missed="money moved between accounts of two currencies",
        hints=(
            "Every rule of a transfer needs a test that breaks it on purpose; one of them is about currencies.",
            "Open a EUR and a USD account, transfer between them and expect CurrencyMismatch.",
        ),
    ),
    SeededBug(
        step=3,
        name="entry-wrong-sign",
        path="app/services/transfers.py",
        find="Entry(account_id=source.id, amount=-amount, transfer_id=transfer_id)",
        replace="Entry(account_id=source.id, amount=amount, transfer_id=transfer_id)",
        missed="a transfer's two entries no longer summed to zero",
        hints=(
            (
                "The balances can be right while the statement is wrong: read what a transfer writes, not only the "
                "balances."
            ),
            (
                "After a transfer, read both statements and expect -amount on the source and +amount on the target, "
                "with one transfer_id."
            ),
        ),
    ),
    SeededBug(
        step=3,
        name="fingerprint-ignores-amount",
        path="app/services/transfers.py",
        find='f"{source_id}:{target_id}:{amount}"',
        replace='f"{source_id}:{target_id}"',
        missed="an Idempotency-Key reused for a different amount replayed the first transfer",
        hints=(
            "A key means one request; what happens when it comes back with another request?",
            "Reuse a key with the same two accounts but another amount, and expect IdempotencyConflict.",
        ),
    ),
    SeededBug(
        step=3,
        name="deposit-accepts-zero",
        path="app/services/accounts.py",
        find="if amount <= 0:",
        replace="if amount < 0:",
        missed="a deposit of 0 reached the service and was accepted",
        hints=(
            "Over HTTP the DTO refuses 0 before the service runs: only a test of the service itself sees its own rule.",
            "Deposit 0 with AccountService and expect InvalidAmount.",
        ),
    ),
    SeededBug(
        step=3,
        name="deposit-leaves-no-entry",
        path="app/services/accounts.py",
        find="        await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))\n",
        replace="",
        missed="a deposit raised the balance but never appeared on the account's statement",
        hints=(
            "A deposit changes two things; do your tests look at both?",
            "After a deposit, read the statement and expect the deposit in it.",
        ),
    ),
    SeededBug(
        step=3,
        name="accounts-page-skips-one",
        path="app/crud/accounts.py",
        find=".limit(limit).offset(offset)",
        replace=".limit(limit).offset(offset + 1)",
        missed="listing accounts page by page skipped some accounts",
        hints=(
            "One page is easy to get right; what about the second and the third?",
            (
                "Open a few accounts, read them page by page (limit=2 at offsets 0, 2, 4) and expect every account "
                "exactly once, in id order."
            ),
        ),
    ),
    SeededBug(
        step=4,
        name="deposit-answers-200",
        path="app/routers/v1/accounts.py",
        find='"/{account_id}/deposits",\n    status_code=status.HTTP_201_CREATED,',
        replace='"/{account_id}/deposits",\n    status_code=status.HTTP_200_OK,',
        missed="a deposit answered 200 instead of 201 Created",
        hints=(
            "A client reads the status code before the body; do your HTTP tests?",
            "Assert the status code of every answer: a deposit answers 201.",
        ),
    ),
    SeededBug(
        step=4,
        name="insufficient-funds-answers-422",
        path="app/routers/errors.py",
        find="case InsufficientFunds() | IdempotencyConflict():",
        replace="case IdempotencyConflict():",
        missed="a transfer without enough money answered 422 instead of 409 Conflict",
        hints=(
            "The status of a refusal is decided in the HTTP layer: a service test passes either way.",
            "POST a transfer larger than the balance and expect 409 with the code insufficient_funds.",
        ),
    ),
    SeededBug(
        step=4,
        name="unknown-fields-accepted",
        path="app/schemas/transfers.py",
        find='model_config = ConfigDict(extra="forbid")',
        replace="model_config = ConfigDict()",
        missed="a transfer request with a field the API does not know was accepted",
        hints=(
            'What should the API say to a client that sends a field it does not know (a typo, or "currency")?',
            "POST a transfer with one field too many and expect 422.",
        ),
    ),
    SeededBug(
        step=4,
        name="idempotency-header-ignored",
        path="app/routers/v1/transfers.py",
        find="idempotency_key=idempotency_key,",
        replace="idempotency_key=None,",
        missed="a transfer retried over HTTP with the same Idempotency-Key moved the money twice",
        hints=(
            "A service test of idempotency cannot see whether the route passes the header on.",
            "POST the same transfer twice with one Idempotency-Key header and expect the balances to move once.",
        ),
    ),
    SeededBug(
        step=5,
        name="locks-in-request-order",
        path="app/services/transfers.py",
        find="for account_id in sorted((source_id, target_id)):",
        replace="for account_id in (source_id, target_id):",
        missed="two transfers crossing between the same two accounts at the same time could deadlock",
        hints=(
            "Only transactions that really run at the same time show this: the rolled-back `client` cannot.",
            (
                "With live_client, send transfers A→B and B→A at the same time (asyncio.gather) and expect every one "
                "to answer 201."
            ),
        ),
    ),
    SeededBug(
        step=5,
        name="deposit-lost-update",
        path="app/services/accounts.py",
        find="account = await self.accounts.get_for_update(account_id)",
        replace="account = await self.accounts.get(account_id)",
        missed="deposits made at the same time overwrote each other, and money vanished",
        hints=(
            "Only transactions that really run at the same time show this: the rolled-back `client` cannot.",
            "With live_client, make 20 deposits of 10 into one account at once and expect a balance of 200.",
        ),
    ),
    SeededBug(
        step=5,
        name="failed-request-commits",
        path="app/dependencies/session.py",
        find="        except Exception:\n            await session.rollback()\n",
        replace="        except Exception:\n            await session.commit()\n",
        missed="a request that failed still committed what it had written",
        hints=(
            "`client` replaces get_session; which fixture runs the app's real session dependency?",
            (
                "With live_client, have a transfer with a key refused (409), pay money in, retry with the same key, "
                "and expect the money to move."
            ),
        ),
    ),
    # The repositories: what only a test of the repository itself sees.
    SeededBug(
        step=3,
        name="statement-oldest-first",
        path="app/crud/entries.py",
        find=".order_by(Entry.created_at.desc(), Entry.id.desc())",
        replace=".order_by(Entry.created_at, Entry.id)",
        missed="an account's statement listed its entries oldest first",
        hints=(
            "Which order does EntryRepository promise for an account's entries, and which test would see it change?",
            "Add entries with EntryRepository and expect for_account to return them newest first (largest id first "
            "within one transaction).",
        ),
    ),
    SeededBug(
        step=3,
        name="statement-ignores-offset",
        path="app/crud/entries.py",
        find="            .limit(limit)\n            .offset(offset)\n",
        replace="            .limit(limit)\n",
        missed="the second page of an account's statement repeated the first",
        hints=(
            "A statement comes in pages; which of your tests reads a second one?",
            "Write three entries and read for_account with limit=2 at offsets 0 and 2: expect two, then the third.",
        ),
    ),
    SeededBug(
        step=3,
        name="repository-commits",
        path="app/crud/accounts.py",
        find="        await self.session.flush()\n        return account\n",
        replace="        await self.session.commit()\n        return account\n",
        missed="opening an account committed the transaction half-way through a request",
        hints=(
            "Repositories flush and never commit: the request's session dependency commits, once. Which test would "
            "notice a repository committing?",
            "In a repository test, replace session.commit with a function that fails (monkeypatch), then add an "
            "account and expect it to have an id.",
        ),
    ),
]
