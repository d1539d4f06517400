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
        # A lock-order deadlock needs transfers that crowd the same two accounts, as on a busy server; real
        # timing makes one crossing pair deadlock only now and then. So that grading never depends on luck, the
        # planted version takes its locks in request order only when three or more transfers reach their locks
        # together (one crossing pair always gets sorted locks), and then makes them overlap: until a lock has
        # failed once, a transfer holding its first lock waits (up to 2 s) while another could take a first lock
        # on another account. A test that sends crossing transfers in a crowd fails on every run; one pair,
        # transfers in one direction, or transfers sent one after another, never do.
        find=(
            "        for account_id in sorted((source_id, target_id)):\n"
            "            account = await self.accounts.get_for_update(account_id)\n"
            "            if account is None:\n"
            "                raise AccountNotFound(account_id)\n"
            "            locked[account_id] = account\n"
        ),
        replace=(
            '        crowd = vars(TransferService).get("crowd")\n'
            "        if crowd is None:\n"
            '            crowd = {"locking": 0, "wanting": {}, "first": 0, "failed": False}\n'
            '            setattr(TransferService, "crowd", crowd)\n'
            '        crowd["locking"] += 1\n'
            "        try:\n"
            "            for _ in range(5):  # the others sent with it arrive (a busy machine staggers them)\n"
            '                if crowd["locking"] > 2:\n'
            "                    break\n"
            '                await __import__("asyncio").sleep(0.02)\n'
            '            busy = crowd["locking"] > 2\n'
            "            order = (source_id, target_id) if busy else tuple(sorted((source_id, target_id)))\n"
            '            wanting = crowd["wanting"]\n'
            "            wanting[order[0]] = wanting.get(order[0], 0) + 1\n"
            "            for account_id in order:\n"
            "                try:\n"
            "                    account = await self.accounts.get_for_update(account_id)\n"
            "                except Exception:\n"
            '                    crowd["failed"] = True\n'
            "                    raise\n"
            "                finally:\n"
            "                    if account_id == order[0]:\n"
            "                        wanting[account_id] -= 1\n"
            "                if account is None:\n"
            "                    raise AccountNotFound(account_id)\n"
            "                locked[account_id] = account\n"
            '                if busy and account_id == order[0] and not crowd["failed"]:\n'
            '                    crowd["first"] += 1\n'
            '                    mine = crowd["first"]\n'
            "                    for _ in range(40):\n"
            "                        others = any(count for other, count in wanting.items() if other != account_id)\n"
            '                        if crowd["failed"] or crowd["first"] > mine or not others:\n'
            "                            break\n"
            '                        await __import__("asyncio").sleep(0.05)\n'
            "        finally:\n"
            '            crowd["locking"] -= 1\n'
        ),
        missed="transfers crossing between the same two accounts deadlocked when many ran at the same time, as on "
        "a busy server",
        hints=(
            "Only transactions that really run at the same time show this: the rolled-back `client` cannot.",
            (
                "With live_client, send 15 transfers A→B and 15 B→A at the same time (asyncio.gather) and expect "
                "every one to answer 201."
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
    # What only a precise assertion sees: the exact error, the exact code, both entries, the header.
    SeededBug(
        step=3,
        name="deposit-into-unknown-account-crashes",
        path="app/services/accounts.py",
        find=(
            "        if account is None:\n"
            "            raise AccountNotFound(account_id)\n"
            "        account.balance += amount\n"
        ),
        replace="        account.balance += amount\n",
        missed="a deposit into an account that does not exist crashed (an AttributeError, a 500) instead of "
        "raising AccountNotFound",
        hints=(
            "Which error does a deposit into an unknown id raise, and does your test expect that one, or any?",
            "Deposit into a random uuid with AccountService and expect AccountNotFound itself, not any exception.",
        ),
    ),
    SeededBug(
        step=3,
        name="statement-of-unknown-account-empty",
        path="app/services/accounts.py",
        find=(
            "        if await self.accounts.get(account_id) is None:\n"
            "            raise AccountNotFound(account_id)\n"
            "        return await self.entries.for_account("
        ),
        replace="        return await self.entries.for_account(",
        missed="the statement of an account that does not exist answered an empty list instead of "
        "AccountNotFound (a 404)",
        hints=(
            "An unknown account and an account without entries are two different answers: does a test tell them apart?",
            "Ask AccountService for the statement of a random uuid and expect AccountNotFound (over HTTP: 404).",
        ),
    ),
    SeededBug(
        step=3,
        name="fingerprint-ignores-target",
        path="app/services/transfers.py",
        find='f"{source_id}:{target_id}:{amount}"',
        replace='f"{source_id}:{amount}"',
        missed="an Idempotency-Key reused for a transfer to another account replayed the first transfer",
        hints=(
            "A key means one request: which parts of a request could change while the key stays the same?",
            "Reuse a key with the same source and amount but another target, and expect IdempotencyConflict.",
        ),
    ),
    SeededBug(
        step=3,
        name="lock-reads-a-stale-row",
        path="app/crud/accounts.py",
        find="            .execution_options(populate_existing=True)\n",
        replace="",
        missed="locking an account the session had already read returned the balance it read before, not the row "
        "as it is now",
        hints=(
            "get_for_update promises the row as it is under the lock, even when the session read it earlier. Which "
            "test of the repository would see an old value?",
            "In a repository test, add an account, change its balance with an SQL UPDATE on the session, then "
            "get_for_update it and expect the new balance.",
        ),
    ),
    SeededBug(
        step=3,
        name="transfer-entries-swapped",
        path="app/services/transfers.py",
        find=(
            "Entry(account_id=source.id, amount=-amount, transfer_id=transfer_id),\n"
            "                Entry(account_id=target.id, amount=amount, transfer_id=transfer_id),"
        ),
        replace=(
            "Entry(account_id=source.id, amount=amount, transfer_id=transfer_id),\n"
            "                Entry(account_id=target.id, amount=-amount, transfer_id=transfer_id),"
        ),
        missed="a transfer's entries were booked the wrong way round: money in on the source's statement, out "
        "on the target's, still summing to zero",
        hints=(
            "Two entries that sum to zero can still be wrong: which account's statement shows which sign?",
            "After a transfer of 300, expect -300 on the source's statement and +300 on the target's.",
        ),
    ),
    SeededBug(
        step=3,
        name="transfer-entries-unlinked",
        path="app/services/transfers.py",
        find="Entry(account_id=target.id, amount=amount, transfer_id=transfer_id)",
        replace="Entry(account_id=target.id, amount=amount, transfer_id=None)",
        missed="a transfer's entries no longer shared its transfer id: the receiving side showed as a deposit",
        hints=(
            "A statement line says where the money came from: which test reads the transfer id of both entries?",
            "After a transfer, expect both entries to carry the transfer_id the transfer returned.",
        ),
    ),
    SeededBug(
        step=4,
        name="insufficient-funds-wrong-code",
        path="app/services/errors.py",
        find='    code = "insufficient_funds"\n',
        replace='    code = "insufficient_balance"\n',
        missed='a transfer without enough money answered the error code "insufficient_balance" instead of '
        '"insufficient_funds": clients branch on that code',
        hints=(
            "A client reads the status and then the error code: do your HTTP tests read both?",
            'POST a transfer larger than the balance and expect 409 and the code "insufficient_funds".',
        ),
    ),
    SeededBug(
        step=4,
        name="amount-accepts-strings",
        path="app/schemas/accounts.py",
        find="Field(strict=True, gt=0, le=MAX_AMOUNT,",
        replace="Field(gt=0, le=MAX_AMOUNT,",
        missed='a deposit with the amount "10" (a string) was accepted as 10 instead of refused with 422',
        hints=(
            "The API takes amounts as JSON integers only. Which inputs besides 0 and negatives should it refuse?",
            'POST deposits of 10.5 and of "10" and expect 422 for each.',
        ),
    ),
    SeededBug(
        step=4,
        name="validation-error-without-details",
        path="app/routers/errors.py",
        find=', message=f"The request is not valid. {summary}", details=problems)',
        replace=', message=f"The request is not valid. {summary}")',
        missed="an invalid request answered 422 without saying which fields were wrong (no details)",
        hints=(
            "A 422 is half the answer: the body says what was wrong. Do your tests read it?",
            'Send a request with two invalid fields and expect the code "validation_error" and one detail per '
            "field, with its location.",
        ),
    ),
    SeededBug(
        step=4,
        name="replay-not-marked",
        path="app/routers/v1/transfers.py",
        find='    if result.replayed:\n        response.headers[REPLAYED_HEADER] = "true"\n',
        replace="",
        missed="a retried transfer was answered without Idempotent-Replayed: true, so the client could not tell "
        "a replay from a new transfer",
        hints=(
            "A replay answers 201 like a new transfer: what tells the client it was a replay?",
            "POST the same transfer twice with one Idempotency-Key and expect the second answer to carry "
            "Idempotent-Replayed: true and the same body.",
        ),
    ),
]
