"""Lesson 06 checks, step 3: the accounts endpoints call the AccountService and answer DTOs.

Each check opens its own accounts over HTTP; the database is rolled back when the check ends.
"""

import inspect
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from workshop.grading import load
from workshop.serving import Ledger, create_app, serving

from .conftest import balance, deposit, error_code, expect_status, open_account

pytestmark = pytest.mark.step(3)


async def test_post_accounts_opens_an_account_and_answers_201(ledger: Ledger) -> None:
    """Hint: `await accounts.open(owner=…, currency=…)`, then `AccountRead.model_validate(account)`."""
    async with ledger() as http:
        account = await open_account(http, owner="Ada Lovelace", currency="EUR")
    shown = {key: account.get(key) for key in ("owner", "currency", "balance")}
    assert shown == {"owner": "Ada Lovelace", "currency": "EUR", "balance": 0}, (
        f"Lesson 06: POST /api/v1/accounts answered {account}; expected the new account with balance 0 (step 3)"
    )
    assert "id" in account and "created_at" in account, (
        f"Lesson 06: the new account {account} has no id or created_at; return an AccountRead (step 3)"
    )


async def test_get_account_answers_the_account(ledger: Ledger) -> None:
    """Hint: type the path parameter `account_id: uuid.UUID`; `await accounts.get(account_id)`."""
    async with ledger() as http:
        opened = await open_account(http)
        response = await http.get(f"/api/v1/accounts/{opened['id']}")
    if error_code(response) == "account_not_found":
        raise AssertionError(
            "Lesson 06: GET /api/v1/accounts/{id} of the account POST /api/v1/accounts just answered is 404 "
            "account_not_found: the account it answered was never stored. Open it with the service "
            "(accounts.open), built on the request's session: SessionDep (step 3)"
        )
    expect_status(response, 200, "GET /api/v1/accounts/{id} of an account just opened", 3, "with the account")
    assert response.json() == opened, (
        f"Lesson 06: GET /api/v1/accounts/{{id}} answered {response.text[:200]}; expected the account as POST "
        f"answered it, {opened} (step 3)"
    )


async def test_accounts_are_listed_page_by_page(ledger: Ledger) -> None:
    """Hint: `limit` and `offset` are query parameters; pass them to `accounts.list(...)` and echo them in the Page."""
    async with ledger() as http:
        opened = {(await open_account(http, owner=f"Owner {n}"))["id"] for n in range(3)}
        seen: list[str] = []
        for offset in range(0, 100, 2):
            response = await http.get("/api/v1/accounts", params={"limit": 2, "offset": offset})
            expect_status(response, 200, f"GET /api/v1/accounts?limit=2&offset={offset}", 3, "with a page")
            page = response.json()
            items = page.get("items") if isinstance(page, dict) else None
            assert isinstance(items, list) and page.get("limit") == 2 and page.get("offset") == offset, (
                f"Lesson 06: GET /api/v1/accounts?limit=2&offset={offset} answered {str(page)[:200]}; expected "
                f'{{"items": [...], "limit": 2, "offset": {offset}}} (step 3)'
            )
            assert len(items) <= 2, f"Lesson 06: a page with limit=2 held {len(items)} accounts (step 3)"
            seen.extend(item["id"] for item in items)
            if len(items) < 2:
                break
    assert opened <= set(seen) and len(seen) == len(set(seen)), (
        "Lesson 06: paging through /api/v1/accounts with limit=2 missed or repeated an account; pass limit "
        "and offset to the service (step 3)"
    )


async def test_a_deposit_answers_201_with_the_new_balance(ledger: Ledger) -> None:
    """Hint: `await accounts.deposit(account_id, body.amount)` returns the account: answer it as an AccountRead."""
    async with ledger() as http:
        opened = await open_account(http)
        after = await deposit(http, opened["id"], 1050)
        stored = await balance(http, opened["id"])
    assert after.get("id") == opened["id"] and after.get("balance") == 1050, (
        f"Lesson 06: after depositing 1050 into a new account the answer was {after}; expected the account "
        "with balance 1050 (step 3)"
    )
    assert stored == 1050, f"Lesson 06: after the deposit GET shows balance {stored}; expected 1050 (step 3)"


async def test_the_statement_lists_the_accounts_entries(ledger: Ledger) -> None:
    """Hint: `await accounts.statement(account_id, limit=…, offset=…)`; answer a Page of EntryRead."""
    async with ledger() as http:
        opened = await open_account(http)
        await deposit(http, opened["id"], 300)
        await deposit(http, opened["id"], 200)
        response = await http.get(f"/api/v1/accounts/{opened['id']}/entries")
    expect_status(response, 200, "GET /api/v1/accounts/{id}/entries", 3, "with a page of entries")
    page = response.json()
    items = page.get("items") if isinstance(page, dict) else None
    assert isinstance(items, list), (
        f"Lesson 06: the statement answered {str(page)[:200]}; expected a Page: "
        '{"items": [...], "limit": …, "offset": …} (step 3)'
    )
    assert items, (
        f"Lesson 06: after two deposits of 300 and 200 (each answered 201) the statement holds no entries: "
        f"{str(page)[:160]}. A deposit writes an entry: the service's accounts.deposit does, so call it rather "
        "than changing the balance yourself (step 3)"
    )
    amounts = sorted(item.get("amount") for item in items)
    assert amounts == [200, 300] and all(item.get("account_id") == opened["id"] for item in items), (
        f"Lesson 06: the statement after deposits of 300 and 200 is {str(page)[:200]}; expected a Page whose "
        "items are the two entries (step 3)"
    )


async def test_the_statement_is_read_page_by_page_newest_first(ledger: Ledger) -> None:
    """Hint: the statement takes `limit` and `offset` like the list of accounts; hand both to the service."""
    async with ledger() as http:
        opened = await open_account(http)
        for amount in (100, 200, 300):
            await deposit(http, opened["id"], amount)
        url = f"/api/v1/accounts/{opened['id']}/entries"
        pages = [await http.get(url, params={"limit": 2, "offset": offset}) for offset in (0, 2)]
    shown: list[object] = []
    for offset, response in zip((0, 2), pages, strict=True):
        expect_status(response, 200, f"GET /api/v1/accounts/{{id}}/entries?limit=2&offset={offset}", 3)
        page = response.json()
        items = page.get("items") if isinstance(page, dict) else None
        amounts = [item.get("amount") for item in items] if isinstance(items, list) else None
        shown.append({"amounts": amounts, "limit": page.get("limit"), "offset": page.get("offset")})
    expected = [{"amounts": [300, 200], "limit": 2, "offset": 0}, {"amounts": [100], "limit": 2, "offset": 2}]
    assert shown == expected, (
        f"Lesson 06: after deposits of 100, 200 and 300 the statement pages limit=2 at offsets 0 and 2 show "
        f"{shown}; expected {expected}: newest first, limit and offset passed to accounts.statement and "
        "echoed in the Page (step 3)"
    )


class CommitRefused(Exception):
    """Raised by the patched AsyncSession.commit: the database said no at COMMIT time."""


async def test_a_commit_that_fails_is_never_answered_with_2xx(app_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: build the services on `SessionDep`, whose `scope="function"` commits before the response is sent."""

    async def refuse(self: AsyncSession) -> None:
        raise CommitRefused("the database refused the commit (a constraint checked at COMMIT)")

    monkeypatch.setattr(AsyncSession, "commit", refuse)
    application = create_app()  # your real get_session this time: its commit is the one that fails
    errors: list[BaseException] = []
    async with serving(application, errors) as http:
        response = await http.post("/api/v1/accounts", json={"owner": "Ada", "currency": "EUR"})
    for error in errors:
        if not isinstance(error, CommitRefused):
            raise error  # not the commit: something else broke first (a stub, or a bug)
    assert errors or not response.is_success, (
        f"Lesson 06: POST /api/v1/accounts answered {response.status_code} but never committed: the account it "
        "answered was never stored. Open it with the service, built on the request's session: SessionDep (step 3)"
    )
    assert errors, (
        f"Lesson 06: POST /api/v1/accounts answered {response.status_code} {response.text[:200]} before anything "
        "reached a commit; this check needs the route to open the account first (step 3)"
    )
    assert not response.is_success, (
        f"Lesson 06: the commit failed, yet the client was told {response.status_code}: the commit ran after "
        'the response. Build the services on SessionDep (Depends(get_session, scope="function")) (step 3)'
    )


class ServiceStandIn:
    """An AccountService that answers every call with the same unsaved Account (or its one Entry)."""

    def __init__(self) -> None:
        models = load("app.models")
        self.account = models.Account(
            id=uuid.UUID(int=7), owner="Ada", currency="EUR", balance=1050, created_at=datetime(2026, 1, 2, tzinfo=UTC)
        )
        self.entry = models.Entry(
            id=uuid.UUID(int=8),
            account_id=self.account.id,
            amount=1050,
            transfer_id=None,
            created_at=datetime(2026, 1, 2, tzinfo=UTC),
        )

    async def open(self, *args: Any, **kwargs: Any) -> Any:
        return self.account

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.account

    async def list(self, *args: Any, **kwargs: Any) -> Any:
        return [self.account]

    async def deposit(self, *args: Any, **kwargs: Any) -> Any:
        return self.account

    async def statement(self, *args: Any, **kwargs: Any) -> Any:
        return [self.entry]


# Each account route's parameters as given: the check below calls the routes with exactly these.
GIVEN_PARAMETERS = {
    "open_account": ("body", "accounts"),
    "list_accounts": ("accounts", "limit", "offset"),
    "get_account": ("account_id", "accounts"),
    "deposit": ("account_id", "body", "accounts"),
    "statement": ("account_id", "accounts", "limit", "offset"),
}


async def test_the_account_routes_return_read_models_not_the_services_objects() -> None:
    """Hint: a route's answer is its DTO, built from what the service returned; the annotation promises it."""
    routes = load("app.routers.v1.accounts")
    schemas, common = load("app.schemas.accounts"), load("app.schemas.common")
    service = ServiceStandIn()
    account_id = service.account.id
    calls: dict[str, tuple[Callable[[], Any], type[BaseModel]]] = {
        "open_account": (
            lambda: routes.open_account(body=schemas.AccountCreate(owner="Ada", currency="EUR"), accounts=service),
            schemas.AccountRead,
        ),
        "list_accounts": (lambda: routes.list_accounts(accounts=service, limit=10, offset=0), schemas.AccountRead),
        "get_account": (lambda: routes.get_account(account_id=account_id, accounts=service), schemas.AccountRead),
        "deposit": (
            lambda: routes.deposit(account_id=account_id, body=schemas.DepositCreate(amount=5), accounts=service),
            schemas.AccountRead,
        ),
        "statement": (
            lambda: routes.statement(account_id=account_id, accounts=service, limit=10, offset=0),
            schemas.EntryRead,
        ),
    }
    for name, (call, dto) in calls.items():
        signature = inspect.signature(getattr(routes, name))
        unknown = [parameter for parameter in signature.parameters if parameter not in GIVEN_PARAMETERS[name]]
        assert not unknown, (
            f"Lesson 06: {name}() in app/routers/v1/accounts.py takes {', '.join(unknown)}, a parameter the given "
            f"route does not have ({', '.join(GIVEN_PARAMETERS[name])}). A route gets the request's data and its "
            "service, `accounts: AccountServiceDep`; the session and the repositories stay behind the service (step 3)"
        )
        answer = await call()
        if name not in ("list_accounts", "statement"):
            got = None if isinstance(answer, dto) else type(answer).__name__
            wanted = dto.__name__
        else:
            wanted = f"a Page of {dto.__name__}"
            wrong = [item for item in getattr(answer, "items", []) if not isinstance(item, dto)]
            got = (
                type(answer).__name__
                if not isinstance(answer, common.Page)
                else f"a Page whose items are {type(wrong[0]).__name__}"
                if wrong
                else None
            )
        as_it_came = got is not None and any(kind in got for kind in ("Account", "Entry", "list"))
        came = ", the service's object as it came," if as_it_came else ","
        assert got is None, (
            f"Lesson 06: {name}() in app/routers/v1/accounts.py returned {got}{came} not {wanted}. FastAPI "
            "converts it through the return annotation, so nothing failed, but the route's contract is its DTO: "
            "build it from what the service returned, and a type checker sees the route keep its word (step 3)"
        )
