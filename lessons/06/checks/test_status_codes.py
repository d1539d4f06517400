"""Lesson 06 checks, step 5: every refusal answers the right status with `{"error": {"code", "message"}}`.

Domain errors come from your services (lesson 05) and reach one handler; invalid requests never
reach a service: FastAPI refuses them with 422, and your second handler gives them the same body.
"""

import uuid

import pytest

from .conftest import Ledger, deposit, expect_error, open_account

pytestmark = pytest.mark.step(5)


async def test_an_unknown_account_answers_404(ledger: Ledger) -> None:
    """Hint: `status_for(error)` maps AccountNotFound to 404; the handler answers ErrorBody with that status."""
    nobody = uuid.UUID(int=1)
    async with ledger() as http:
        read = await http.get(f"/api/v1/accounts/{nobody}")
        paid = await http.post(f"/api/v1/accounts/{nobody}/deposits", json={"amount": 5})
        statement = await http.get(f"/api/v1/accounts/{nobody}/entries")
    expect_error(read, 404, "account_not_found", "GET of an unknown account")
    expect_error(paid, 404, "account_not_found", "a deposit into an unknown account")
    expect_error(statement, 404, "account_not_found", "the statement of an unknown account")


async def test_a_transfer_beyond_the_balance_answers_409(ledger: Ledger) -> None:
    """Hint: 409 Conflict: the request is fine, the state of the ledger refuses it."""
    async with ledger() as http:
        source, target = await open_account(http), await open_account(http)
        await deposit(http, source["id"], 100)
        response = await http.post(
            "/api/v1/transfers", json={"source_id": source["id"], "target_id": target["id"], "amount": 101}
        )
    expect_error(response, 409, "insufficient_funds", "a transfer of 101 from an account holding 100")


async def test_an_idempotency_key_reused_for_another_transfer_answers_409(ledger: Ledger) -> None:
    """Hint: IdempotencyConflict is a conflict with an earlier request: 409."""
    async with ledger() as http:
        source, target = await open_account(http), await open_account(http)
        await deposit(http, source["id"], 100)
        key = {"Idempotency-Key": "once-only"}
        body = {"source_id": source["id"], "target_id": target["id"], "amount": 10}
        await http.post("/api/v1/transfers", json=body, headers=key)
        response = await http.post("/api/v1/transfers", json={**body, "amount": 20}, headers=key)
    expect_error(response, 409, "idempotency_conflict", "a second, different transfer with the same Idempotency-Key")


async def test_a_transfer_to_the_same_account_answers_422(ledger: Ledger) -> None:
    """Hint: a rule refuses the content of the request: 422 Unprocessable Content."""
    async with ledger() as http:
        account = await open_account(http)
        await deposit(http, account["id"], 100)
        response = await http.post(
            "/api/v1/transfers", json={"source_id": account["id"], "target_id": account["id"], "amount": 10}
        )
    expect_error(response, 422, "same_account", "a transfer from an account to itself")


async def test_a_transfer_between_currencies_answers_422(ledger: Ledger) -> None:
    """Hint: CurrencyMismatch is a rule the request breaks, like SameAccount: 422."""
    async with ledger() as http:
        euros, dollars = await open_account(http, currency="EUR"), await open_account(http, currency="USD")
        await deposit(http, euros["id"], 100)
        response = await http.post(
            "/api/v1/transfers", json={"source_id": euros["id"], "target_id": dollars["id"], "amount": 10}
        )
    expect_error(response, 422, "currency_mismatch", "a transfer from EUR to USD")


async def test_zero_negative_or_fractional_amounts_answer_422(ledger: Ledger) -> None:
    """Hint: the schema refuses them before any service runs; the validation handler gives them the error body."""
    async with ledger() as http:
        account = await open_account(http)
        answers = {
            amount: await http.post(f"/api/v1/accounts/{account['id']}/deposits", json={"amount": amount})
            for amount in (0, -5, 10.5, "10")
        }
    for amount, response in answers.items():
        expect_error(response, 422, "validation_error", f"a deposit of {amount!r}")


async def test_an_unknown_field_answers_422_naming_it(ledger: Ledger) -> None:
    """Hint: turn each of `error.errors()` into a FieldProblem: its `loc` joined with dots, its `msg`, its `type`."""
    async with ledger() as http:
        response = await http.post("/api/v1/accounts", json={"owner": "Ada", "currency": "EUR", "balance": 10**6})
    expect_error(response, 422, "validation_error", "POST /api/v1/accounts with an extra field 'balance'")
    assert "balance" in response.text, (
        f"Lesson 06: the 422 for an unknown field 'balance' does not name it: {response.text[:200]}; list each "
        "problem's location in error.details (step 5)"
    )


async def test_a_malformed_uuid_answers_422(ledger: Ledger) -> None:
    """Hint: a path parameter typed `uuid.UUID` is validated like a body field."""
    async with ledger() as http:
        response = await http.get("/api/v1/accounts/not-a-uuid")
    expect_error(response, 422, "validation_error", "GET /api/v1/accounts/not-a-uuid")
    assert "account_id" in response.text, (
        f"Lesson 06: the 422 for a malformed id does not name account_id: {response.text[:200]} (step 5)"
    )


async def test_a_page_beyond_the_largest_limit_answers_422(ledger: Ledger) -> None:
    """Hint: `Query(ge=1, le=MAX_LIMIT)` bounds the page size, so no client can ask for the whole table."""
    async with ledger() as http:
        answers = {limit: await http.get("/api/v1/accounts", params={"limit": limit}) for limit in (0, 1000)}
        offset = await http.get("/api/v1/accounts", params={"offset": -1})
    for limit, response in answers.items():
        expect_error(response, 422, "validation_error", f"GET /api/v1/accounts?limit={limit}")
    expect_error(offset, 422, "validation_error", "GET /api/v1/accounts?offset=-1")
