"""The seeded bugs of lesson 07: realistic mistakes in the app, each caught by a different kind of test.

Each is a find/replace on the lesson's app (the finished stage 06). `find` must occur exactly
once in its file; when the reference changes so that it no longer does, the check fails loudly
instead of grading against a bug that is not there. `missed` completes the sentence "your tests
did not notice when …"; `hint` says which test would have.
"""

from workshop.seeded import SeededBug

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
        missed="a transfer skipped the insufficient-funds check (the `if source.balance < amount` rule was gone)",
        hint="Transfer more than the balance with TransferService and expect InsufficientFunds itself: without the "
        "rule the database's CHECK constraint refuses instead, with an IntegrityError, which a test that accepts any "
        "error would not tell apart (step 3)",
    ),
    SeededBug(
        step=3,
        name="whole-balance-refused",
        path="app/services/transfers.py",
        find="if source.balance < amount:",
        replace="if source.balance <= amount:",
        missed="a transfer of the whole balance was refused as insufficient funds (`<=` where `<` belongs)",
        hint="Test the boundary: an account holding 500 can send exactly 500 and is left with 0 (step 3)",
    ),
    SeededBug(
        step=3,
        name="same-account-allowed",
        path="app/services/transfers.py",
        find="        if source_id == target_id:\n            raise SameAccount()\n",
        replace="",
        missed="a transfer from an account to itself went through (the SameAccount rule was gone)",
        hint="Transfer from an account to itself and expect SameAccount (step 3)",
    ),
    SeededBug(
        step=3,
        name="currency-unchecked",
        path="app/services/transfers.py",
        find="if source.currency != target.currency:",
        replace="if source.currency != source.currency:",
        missed="money moved from a EUR account to a USD account (the currency rule compared the source with itself)",
        hint="Open accounts in two currencies, transfer between them and expect CurrencyMismatch (step 3)",
    ),
    SeededBug(
        step=3,
        name="entry-wrong-sign",
        path="app/services/transfers.py",
        find="Entry(account_id=source.id, amount=-amount, transfer_id=transfer_id)",
        replace="Entry(account_id=source.id, amount=amount, transfer_id=transfer_id)",
        missed="a transfer wrote the source's entry as +amount: the balances were right, but its two entries no "
        "longer summed to zero",
        hint="After a transfer, read both statements and expect -amount on the source and +amount on the target, "
        "sharing one transfer_id (step 3)",
    ),
    SeededBug(
        step=3,
        name="fingerprint-ignores-amount",
        path="app/services/transfers.py",
        find='f"{source_id}:{target_id}:{amount}"',
        replace='f"{source_id}:{target_id}"',
        missed="an Idempotency-Key reused with a different amount replayed the first transfer instead of raising "
        "IdempotencyConflict (the request's fingerprint left out the amount)",
        hint="Reuse a key with the same two accounts but another amount, and expect IdempotencyConflict (step 3)",
    ),
    SeededBug(
        step=3,
        name="deposit-accepts-zero",
        path="app/services/accounts.py",
        find="if amount <= 0:",
        replace="if amount < 0:",
        missed="AccountService.deposit accepted an amount of 0 (`< 0` where `<= 0` belongs)",
        hint="Over HTTP the DTO refuses 0 before the service runs, so only a service test sees this rule: deposit 0 "
        "with AccountService and expect InvalidAmount (step 3)",
    ),
    SeededBug(
        step=3,
        name="deposit-leaves-no-entry",
        path="app/services/accounts.py",
        find="        await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))\n",
        replace="",
        missed="a deposit raised the balance but wrote no entry, so it never showed on the statement",
        hint="After a deposit, read the statement and expect the deposit in it (steps 3 and 4)",
    ),
    SeededBug(
        step=3,
        name="accounts-page-skips-one",
        path="app/crud/accounts.py",
        find=".limit(limit).offset(offset)",
        replace=".limit(limit).offset(offset + 1)",
        missed="listing accounts skipped one account at the start of every page (an off-by-one offset)",
        hint="Open a few accounts, read them page by page (limit=2 at offsets 0, 2, 4) and expect every account "
        "exactly once, in id order (step 3)",
    ),
    SeededBug(
        step=4,
        name="deposit-answers-200",
        path="app/routers/v1/accounts.py",
        find='"/{account_id}/deposits",\n    status_code=status.HTTP_201_CREATED,',
        replace='"/{account_id}/deposits",\n    status_code=status.HTTP_200_OK,',
        missed="the deposits route answered 200 instead of 201 Created",
        hint="Assert the status code of every answer, not only its body: a deposit answers 201 (step 4)",
    ),
    SeededBug(
        step=4,
        name="insufficient-funds-answers-422",
        path="app/routers/errors.py",
        find="case InsufficientFunds() | IdempotencyConflict():",
        replace="case IdempotencyConflict():",
        missed="a transfer without enough money answered 422 instead of 409 Conflict (the error handler lost that "
        "mapping)",
        hint="A service test passes either way: the status is HTTP's business. POST a transfer larger than the "
        "balance and expect 409 with the code insufficient_funds (step 4)",
    ),
    SeededBug(
        step=4,
        name="unknown-fields-accepted",
        path="app/schemas/transfers.py",
        find='model_config = ConfigDict(extra="forbid")',
        replace="model_config = ConfigDict()",
        missed='a transfer request with a field the API does not know was accepted (extra="forbid" was gone): a '
        'client sending "currency": "USD" got a EUR transfer and a 201',
        hint='POST a transfer with one field too many (say "currency") and expect 422 (step 4)',
    ),
    SeededBug(
        step=4,
        name="idempotency-header-ignored",
        path="app/routers/v1/transfers.py",
        find="idempotency_key=idempotency_key,",
        replace="idempotency_key=None,",
        missed="the transfers route dropped the Idempotency-Key header, so a retried request moved the money twice",
        hint="A service test of idempotency cannot see this: POST the same transfer twice with one Idempotency-Key "
        "header and expect the balances to move once (step 4)",
    ),
    SeededBug(
        step=5,
        name="locks-in-request-order",
        path="app/services/transfers.py",
        find="for account_id in sorted((source_id, target_id)):",
        replace="for account_id in (source_id, target_id):",
        missed="a transfer locked its two accounts in request order instead of sorted id order, so two transfers "
        "crossing between the same accounts could deadlock",
        hint="Only transactions that really run at once show it: with live_client, send transfers A→B and B→A at "
        "the same time (asyncio.gather) and expect every one to answer 201 (step 5)",
    ),
    SeededBug(
        step=5,
        name="deposit-lost-update",
        path="app/services/accounts.py",
        find="account = await self.accounts.get_for_update(account_id)",
        replace="account = await self.accounts.get(account_id)",
        missed="a deposit read the balance without locking the row, so deposits made at the same time overwrote each "
        "other (a lost update)",
        hint="With live_client, make 20 deposits of 10 into one account at once and expect a balance of 200 (step 5)",
    ),
    SeededBug(
        step=5,
        name="failed-request-commits",
        path="app/dependencies/session.py",
        find="        except Exception:\n            await session.rollback()\n",
        replace="        except Exception:\n            await session.commit()\n",
        missed="the session dependency committed a request that failed: a refused transfer left its Idempotency-Key "
        "behind, and the retry replayed a transfer that never happened",
        hint="`client` replaces get_session, so only `live_client` runs the real one: have a transfer with a key "
        "refused (409), pay money in, retry with the same key, and expect the money to move (step 5)",
    ),
]
