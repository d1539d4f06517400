"""Lesson 09 checks, step 6: a user sees, and moves money out of, their own accounts only.

Ada and Grace sign up and log in over HTTP (`signed_in`); each opens accounts with her own token.
Another user's account answers exactly what an account that does not exist answers: 404
account_not_found. The last checks call the services directly: the rule lives there, not in a route.
"""

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from workshop.grading import load
from workshop.statements import statements_sent

from .conftest import Ledger, SignedIn, error_code, expect_status, explain, lesson_error, open_account, signed_in

pytestmark = pytest.mark.step(6)


async def balance(http: httpx.AsyncClient, who: SignedIn, account: dict[str, Any]) -> object:
    response = await http.get(f"/api/v1/accounts/{account['id']}", headers=who.headers)
    expect_status(response, 200, "GET /api/v1/accounts/{id} of one's own account", 6, "with the account")
    return response.json().get("balance")


async def test_a_user_lists_only_their_own_accounts(ledger: Ledger) -> None:
    """Hint: the repository's list() filters `WHERE user_id = :user_id`; the service passes self.user_id."""
    async with ledger() as http:
        ada, grace = await signed_in(http, "ada"), await signed_in(http, "grace")
        hers = await open_account(http, ada)
        theirs = await open_account(http, grace)
        response = await http.get("/api/v1/accounts", headers=ada.headers)
    expect_status(response, 200, "GET /api/v1/accounts with a valid token", 6, "with a page of accounts")
    listed = {item.get("id") for item in response.json().get("items", [])}
    assert theirs["id"] not in listed, (
        "Lesson 09: GET /api/v1/accounts with Ada's token lists Grace's account: every user reads every "
        "balance. Page only the accounts WHERE user_id is the service's user (step 6)"
    )
    assert listed == {hers["id"]}, (
        f"Lesson 09: GET /api/v1/accounts with Ada's token listed {sorted(listed)}; expected her one account, "
        f"{hers['id']} (step 6)"
    )


async def test_a_users_pages_are_full_pages_of_their_own_accounts(ledger: Ledger) -> None:
    """Hint: the `WHERE user_id = :user_id` goes into the query, before ORDER BY, LIMIT and OFFSET: a filter
    applied to a page afterwards leaves it short.
    """
    async with ledger() as http:
        ada, grace = await signed_in(http, "ada"), await signed_in(http, "grace")
        hers = []
        for _ in range(2):  # Grace's and Ada's accounts opened in turn: every page of all accounts holds both
            await open_account(http, grace)
            hers.append((await open_account(http, ada))["id"])
        first = await http.get("/api/v1/accounts", params={"limit": 2, "offset": 0}, headers=ada.headers)
    expect_status(first, 200, "GET /api/v1/accounts?limit=2 with Ada's token", 6, "with a page of accounts")
    listed = [item.get("id") for item in first.json().get("items", [])]
    assert listed == hers, (
        f"Lesson 09: Ada has 2 accounts, and GET /api/v1/accounts?limit=2 with her token listed {listed}, not "
        f"{hers}: the page was cut from everybody's accounts, then filtered, so it comes back short and her later "
        "accounts fall off it. Filter WHERE user_id = :user_id in the query, before the order and the page (step 6)"
    )


ROUTES = {
    "read": ("GET", "/api/v1/accounts/{id}", None),
    "deposit": ("POST", "/api/v1/accounts/{id}/deposits", {"amount": 100}),
    "statement": ("GET", "/api/v1/accounts/{id}/entries", None),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
async def test_another_users_account_answers_404_like_a_missing_one(ledger: Ledger, route: str) -> None:
    """Hint: `_owned()`: None, or another user's: the same AccountNotFound. A 403 would confirm the account exists."""
    method, path, body = ROUTES[route]
    async with ledger() as http:
        ada, grace = await signed_in(http, "ada"), await signed_in(http, "grace")
        theirs = await open_account(http, grace, deposit=500)
        response = await http.request(method, path.format(id=theirs["id"]), json=body, headers=ada.headers)
        missing = await http.request(method, path.format(id=uuid.uuid4()), json=body, headers=ada.headers)
        after = await balance(http, grace, theirs)
    what = f"{method} {path} of another user's account (Grace's, with Ada's token)"
    expect_status(
        response,
        404,
        what,
        6,
        "account_not_found, as for an account that does not exist: a 403 would tell Ada that it does",
    )
    assert error_code(response) == error_code(missing) == "account_not_found", (
        f"Lesson 09: {what} answered {explain(response)}, an unknown id {explain(missing)}; both must answer "
        "account_not_found, so that nobody can tell another user's account from no account (step 6)"
    )
    assert after == 500, f"Lesson 09: after {what}, Grace's balance is {after}, not 500 (step 6)"


# Grace's account as Ada's source: whatever it holds, Ada must learn nothing from the answer. A rule checked
# before the owner (the currency, the balance) would answer 422 or 409 and tell her it exists, and what it holds.
SOURCES = {
    "with enough money": ("EUR", 1000),
    "with too little money": ("EUR", 100),
    "in another currency": ("USD", 1000),
}


@pytest.mark.parametrize("source", list(SOURCES))
async def test_money_never_leaves_another_users_account(ledger: Ledger, source: str) -> None:
    """Hint: right after both rows are locked, before any other rule, a source whose user_id is not self.user_id
    is AccountNotFound.
    """
    currency, holds = SOURCES[source]
    async with ledger() as http:
        ada, grace = await signed_in(http, "ada"), await signed_in(http, "grace")
        hers = await open_account(http, ada)
        theirs = await open_account(http, grace, currency=currency, deposit=holds)
        response = await http.post(
            "/api/v1/transfers",
            json={"source_id": theirs["id"], "target_id": hers["id"], "amount": 400},
            headers=ada.headers,
        )
        left = await balance(http, grace, theirs)
    assert response.status_code != 201 and left == holds, (
        f"Lesson 09: Ada's token moved 400 out of another user's account, Grace's (POST /api/v1/transfers "
        f"answered {response.status_code}; Grace has {left} of {holds} left): anyone who knows an account's id can "
        "empty it. Refuse a source that is not the user's (step 6)"
    )
    what = f"a transfer out of Grace's account {source} ({holds} {currency}), with Ada's token"
    if response.status_code != 404 or error_code(response) != "account_not_found":
        code = error_code(response)
        leak = f": that tells Ada the account exists, and something of what it holds ({code})" if code else ""
        raise lesson_error(
            f"{what} answered {explain(response)}{leak}. Expected 404 account_not_found, as for an account that "
            "does not exist: check the owner before any other rule (step 6)"
        )


async def test_money_may_go_to_another_users_account(ledger: Ledger) -> None:
    """Hint: only the source must be the user's: a payment goes to someone else's account."""
    async with ledger() as http:
        ada, grace = await signed_in(http, "ada"), await signed_in(http, "grace")
        hers = await open_account(http, ada, deposit=1000)
        theirs = await open_account(http, grace)
        response = await http.post(
            "/api/v1/transfers",
            json={"source_id": hers["id"], "target_id": theirs["id"], "amount": 250},
            headers=ada.headers,
        )
        received = await balance(http, grace, theirs)
    expect_status(
        response,
        201,
        "a transfer from Ada's account to Grace's, with Ada's token",
        6,
        "with the transfer: money may go to anyone's account, as a payment does",
    )
    assert received == 250, f"Lesson 09: Grace's account holds {received} after receiving 250 (step 6)"


async def test_another_users_idempotency_key_replays_nothing(ledger: Ledger) -> None:
    """Hint: put the user in request_fingerprint: the same key and body from another user is another request."""
    async with ledger() as http:
        ada, grace = await signed_in(http, "ada"), await signed_in(http, "grace")
        hers = await open_account(http, ada, deposit=1000)
        target = await open_account(http, ada)
        body = {"source_id": hers["id"], "target_id": target["id"], "amount": 100}
        first = await http.post("/api/v1/transfers", json=body, headers={**ada.headers, "Idempotency-Key": "rent-1"})
        expect_status(first, 201, "Ada's transfer with Idempotency-Key rent-1", 6, "with the transfer")
        again = await http.post("/api/v1/transfers", json=body, headers={**grace.headers, "Idempotency-Key": "rent-1"})
    assert again.status_code != 201, (
        f"Lesson 09: Grace sent Ada's Idempotency-Key with Ada's body and got 201 with Ada's transfer "
        f"{again.text[:120]}: a replay skips the owner check, so it shows another user's transfer. Put the user "
        "in request_fingerprint (step 6)"
    )


async def test_the_services_refuse_another_users_account_themselves(db_session: AsyncSession) -> None:
    """Hint: the rule lives in AccountService and TransferService: any caller (a route, a job, v2) gets it."""
    models = load("app.models")
    ada = models.User(email=f"ada-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    grace = models.User(email=f"grace-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    db_session.add_all([ada, grace])
    await db_session.flush()
    AccountService = load("app.services.accounts").AccountService
    TransferService = load("app.services.transfers").TransferService
    AccountNotFound = load("app.services.errors").AccountNotFound
    hers = await AccountService(db_session, ada.id).open(owner="Ada", currency="EUR")
    await AccountService(db_session, ada.id).deposit(hers.id, 500)
    mine = await AccountService(db_session, grace.id).open(owner="Grace", currency="EUR")
    grace_accounts, grace_transfers = AccountService(db_session, grace.id), TransferService(db_session, grace.id)
    attempts: dict[str, Callable[[], Awaitable[object]]] = {
        "AccountService(session, grace).get(ada's account)": lambda: grace_accounts.get(hers.id),
        "AccountService(session, grace).statement(ada's account)": lambda: grace_accounts.statement(hers.id),
        "TransferService(session, grace).transfer(from ada's account)": lambda: grace_transfers.transfer(
            source_id=hers.id, target_id=mine.id, amount=100
        ),
    }
    for what, attempt in attempts.items():
        try:
            found = await attempt()
        except AccountNotFound:
            continue
        except Exception as error:  # any other answer is the lesson's point, not a crash
            raise lesson_error(
                f"{what} raised {type(error).__name__} ({error}); expected AccountNotFound, the error of an account "
                "that does not exist: another user's account must look exactly like no account (step 6)"
            ) from error
        raise lesson_error(
            f"{what} returned {found!r}: the service gives one user another user's account when asked directly. "
            "A check in a route guards that route only; the service is where every caller passes (step 6)"
        )


async def test_a_deposit_still_locks_the_account_it_checks(db_session: AsyncSession) -> None:
    """Hint: `_owned(account_id, await self.accounts.get_for_update(account_id))`: the owner check reads the row
    under lesson 05's lock, not with a plain get.
    """
    models = load("app.models")
    ada = models.User(email=f"ada-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    db_session.add(ada)
    await db_session.flush()
    accounts = load("app.services.accounts").AccountService(db_session, ada.id)
    hers = await accounts.open(owner="Ada", currency="EUR")
    with statements_sent(db_session) as sent:
        await accounts.deposit(hers.id, 100)
    locked = [sql for sql in sent if re.search(r"\bFROM accounts\b.*\bFOR UPDATE\b", sql, re.IGNORECASE | re.DOTALL)]
    assert locked, (
        f"Lesson 09: AccountService.deposit() read the account without locking its row ({len(sent)} statements, "
        "none SELECT … FROM accounts … FOR UPDATE): two deposits at once both read the old balance and one is "
        "lost, lesson 05's race. Check the owner on the row get_for_update() returns (step 6)"
    )
