"""Lesson 06 checks, step 5: every refusal answers the right status with `{"error": {"code", "message"}}`.

Domain errors come from your services (lesson 05) and reach one handler; invalid requests never
reach a service: FastAPI refuses them with 422, and your second handler gives them the same body.
"""

import ast
import uuid

import pytest
import starlette.status

from workshop import grading
from workshop.grading import load

from .conftest import Ledger, deposit, expect_error, explain, open_account

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
    details = response.json()["error"].get("details")
    problems = [
        (problem.get("location"), problem.get("type"))
        for problem in (details if isinstance(details, list) else [])
        if isinstance(problem, dict)
    ]
    assert ("body.balance", "extra_forbidden") in problems, (
        f"Lesson 06: the 422 for an unknown field 'balance' lists error.details {details!r}; expected one "
        'FieldProblem per problem, here {"location": "body.balance", "message": …, "type": "extra_forbidden"}: '
        "its loc joined with dots (step 5)"
    )


async def test_a_malformed_uuid_answers_422(ledger: Ledger) -> None:
    """Hint: a path parameter typed `uuid.UUID` is validated like a body field."""
    async with ledger() as http:
        response = await http.get("/api/v1/accounts/not-a-uuid")
    if response.status_code == 500:
        said, _ = explain(response)
        raise AssertionError(
            f"Lesson 06: GET /api/v1/accounts/not-a-uuid reached your code and crashed it: {said}. Type the path "
            "parameter account_id: uuid.UUID, so that FastAPI refuses a malformed id with a 422 before any code "
            "runs (step 3)"
        )
    expect_error(response, 422, "validation_error", "GET /api/v1/accounts/not-a-uuid")
    assert "account_id" in response.text, (
        f"Lesson 06: the 422 for a malformed id does not name account_id: {response.text[:200]} (step 5)"
    )


async def test_a_page_beyond_the_largest_limit_answers_422(ledger: Ledger) -> None:
    """Hint: `Query(ge=1, le=MAX_LIMIT)` bounds the page size, so no client can ask for the whole table."""
    async with ledger() as http:
        answers = {limit: await http.get("/api/v1/accounts", params={"limit": limit}) for limit in (0, 1000)}
        offset = await http.get("/api/v1/accounts", params={"offset": -1})
    bounds = "bound the query parameters with Query(ge=…, le=…)"
    for limit, response in answers.items():
        expect_error(response, 422, "validation_error", f"GET /api/v1/accounts?limit={limit}", bounds)
    expect_error(offset, 422, "validation_error", "GET /api/v1/accounts?offset=-1", bounds)


async def test_an_offset_beyond_a_bigint_answers_422_not_500(ledger: Ledger) -> None:
    """Hint: PostgreSQL's OFFSET is a bigint; bound the query parameter before the number reaches the database."""
    async with ledger() as http:
        account = await open_account(http)
        answers = {
            "GET /api/v1/accounts?offset=2**63": await http.get("/api/v1/accounts", params={"offset": 2**63}),
            "GET /api/v1/accounts/{id}/entries?offset=2**63": await http.get(
                f"/api/v1/accounts/{account['id']}/entries", params={"offset": 2**63}
            ),
        }
    for what, response in answers.items():
        past = f"{what} (one past PostgreSQL's largest bigint)"
        expect_error(response, 422, "validation_error", past, "bound offset by MAX_OFFSET")


async def test_a_validation_error_does_not_echo_what_was_sent(ledger: Ledger) -> None:
    """Hint: an entry of `error.errors()` carries the client's `input`; keep only where, what and which type."""
    card = "4111111111111111"
    async with ledger() as http:
        account = await open_account(http)
        response = await http.post(
            f"/api/v1/accounts/{account['id']}/deposits", json={"amount": 10, "card_number": card}
        )
    expect_error(response, 422, "validation_error", "a deposit with an extra field 'card_number'")
    assert card not in response.text, (
        f"Lesson 06: the 422 for an extra field echoes the value the client sent ({card}): {response.text[:240]}. "
        "An error body ends up in logs and browser consoles; do not echo the input, name the field (step 5)"
    )


def test_a_rule_added_later_answers_422() -> None:
    """Hint: a DomainError that `status_for` does not list by name is still a rule the request breaks."""
    services, routers = load("app.services.errors"), load("app.routers.errors")

    class DailyLimitExceeded(services.DomainError):  # type: ignore[misc,name-defined]
        code = "daily_limit_exceeded"

    unlisted = {
        "a DomainError it does not list (a rule a service adds later)": DailyLimitExceeded("more than the daily limit"),
        'a plain DomainError (code "domain_error", a rule that has no class of its own yet)': services.DomainError(
            "refused by a rule"
        ),
    }
    for what, refusal in unlisted.items():
        try:
            status = routers.status_for(refusal)
        except NotImplementedError:
            raise
        except Exception as error:
            raise AssertionError(
                f"Lesson 06: status_for() raised {type(error).__name__}: {error} for {what}; answer it 422, never "
                "a 500 (step 5)"
            ) from None
        assert status == 422, (
            f"Lesson 06: status_for() answers {status} for {what}; a rule the request breaks is a 422, never a "
            "500 or a 400, whatever its code says. Decide by the error's class, and let every other DomainError "
            "fall through to 422 (step 5)"
        )


def test_the_app_names_no_deprecated_status() -> None:
    """Hint: Starlette renamed some statuses after RFC 9110; the old names still work, and warn on every use."""
    grading.require_finished(["app/routers"], "the status names are graded in your routers", 5)
    deprecated = set(getattr(starlette.status, "__deprecated__", {}))
    app_dir = grading.folder() / "app"
    found: list[str] = []
    for path in sorted(app_dir.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue  # reported with its line by the checks that import it
        for node in ast.walk(tree):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name is None and isinstance(node, ast.alias):
                name = node.name
            if name in deprecated:
                where = f"{path.relative_to(grading.folder()).as_posix()}:{getattr(node, 'lineno', '?')}"
                found.append(f"{where} uses {name}")
    more = f" ({len(found) - 1} more)" if len(found) > 1 else ""
    assert not found, (
        f"Lesson 06: {found[0]}, a deprecated status name{more}: Starlette warns on every use, and its warning "
        "names the current one. A name the library is retiring does not belong in new code (step 5)"
    )
