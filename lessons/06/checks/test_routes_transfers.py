"""Lesson 06 checks, step 4: POST /api/v1/transfers moves money, and an Idempotency-Key makes a retry safe."""

import uuid
from typing import Any

import httpx
import pytest
from fastapi import Response

from workshop.grading import load

from .conftest import Ledger, balance, deposit, expect_status, open_account

pytestmark = pytest.mark.step(4)


async def funded_pair(http: httpx.AsyncClient, funds: int = 1000, currency: str = "EUR") -> tuple[str, str]:
    """Two accounts in `currency`; the first holds `funds`."""
    source = await open_account(http, owner="Source", currency=currency)
    target = await open_account(http, owner="Target", currency=currency)
    await deposit(http, source["id"], funds)
    return source["id"], target["id"]


def transfer(source: str, target: str, amount: int) -> dict[str, Any]:
    return {"source_id": source, "target_id": target, "amount": amount}


def difference(first: httpx.Response, retry: httpx.Response) -> str:
    """How a retry's answer differs from the first one, in words."""
    if retry.status_code != first.status_code:
        return f"{retry.status_code} where the first attempt answered {first.status_code}"
    try:
        before, after = first.json(), retry.json()
    except ValueError:
        return f"{retry.text[:120]!r} where the first attempt answered {first.text[:120]!r}"
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return f"{retry.text[:120]} where the first attempt answered {first.text[:120]}"
    changed = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    shown = ", ".join(f"{key}: {before.get(key, '(absent)')!r} then {after.get(key, '(absent)')!r}" for key in changed)
    return f"another body ({shown or 'the same fields, other bytes'})"


async def test_a_transfer_moves_money_and_answers_201(ledger: Ledger) -> None:
    """Hint: `await transfers.transfer(source_id=…, …)`, then `TransferRead.model_validate(result)`."""
    async with ledger() as http:
        source, target = await funded_pair(http, currency="CHF")
        response = await http.post("/api/v1/transfers", json=transfer(source, target, 300))
        balances = [await balance(http, source), await balance(http, target)]
    expect_status(response, 201, "POST /api/v1/transfers of 300 from an account holding 1000", 4, "with the transfer")
    body = response.json()
    shown = {key: body.get(key) for key in ("source_id", "target_id", "amount", "currency")}
    assert shown == {"source_id": source, "target_id": target, "amount": 300, "currency": "CHF"} and body.get(
        "transfer_id"
    ), (
        f"Lesson 06: a transfer of 300 between two CHF accounts answered {body}; expected a TransferRead of what "
        "the service did: its transfer_id, both ids, amount 300 and currency CHF (step 4)"
    )
    assert balances == [700, 300], (
        f"Lesson 06: after moving 300 of 1000 the balances are {balances}; expected [700, 300] (step 4)"
    )


async def test_a_retry_with_the_same_idempotency_key_moves_money_once(ledger: Ledger) -> None:
    """Hint: the parameter `idempotency_key: Annotated[str | None, Header()] = None` reads `Idempotency-Key`."""
    async with ledger() as http:
        source, target = await funded_pair(http)
        key = {"Idempotency-Key": "rent-2026-06"}
        first = await http.post("/api/v1/transfers", json=transfer(source, target, 300), headers=key)
        retry = await http.post("/api/v1/transfers", json=transfer(source, target, 300), headers=key)
        balances = [await balance(http, source), await balance(http, target)]
    expect_status(first, 201, "the first transfer with an Idempotency-Key", 4, "with the transfer")
    assert balances == [700, 300], (
        f"Lesson 06: the same transfer sent twice with one Idempotency-Key left balances {balances}; expected "
        "[700, 300]: pass the header to the service as idempotency_key (step 4)"
    )
    if not retry.is_success:
        expect_status(retry, first.status_code, "the retry with the same Idempotency-Key", 4, "like the first attempt")
    assert (retry.status_code, retry.text) == (first.status_code, first.text), (
        f"Lesson 06: the retry with the same Idempotency-Key answered {difference(first, retry)}; a replay answers "
        "exactly what the first attempt answered, status and body (step 4)"
    )


async def test_a_replayed_transfer_says_so_in_a_header(ledger: Ledger) -> None:
    """Hint: take `response: Response` and set `response.headers[REPLAYED_HEADER] = "true"` on a replay."""
    async with ledger() as http:
        source, target = await funded_pair(http)
        key = {"Idempotency-Key": "invoice-17"}
        first = await http.post("/api/v1/transfers", json=transfer(source, target, 100), headers=key)
        retry = await http.post("/api/v1/transfers", json=transfer(source, target, 100), headers=key)
    expect_status(first, 201, "the first transfer with an Idempotency-Key", 4, "with the transfer")
    expect_status(retry, 201, "the retry with the same Idempotency-Key", 4, "with the same transfer")
    assert "idempotent-replayed" not in first.headers, (
        f"Lesson 06: the first transfer with a new key says Idempotent-Replayed: "
        f"{first.headers['idempotent-replayed']!r}; only a replay carries the header, a first transfer none at "
        "all (step 4)"
    )
    assert retry.headers.get("idempotent-replayed") == "true", (
        f"Lesson 06: the replay answered {retry.status_code} without `Idempotent-Replayed: true`; set it when "
        "the service says result.replayed (step 4)"
    )


async def test_the_transfer_route_returns_a_transfer_read() -> None:
    """Hint: a route's answer is its DTO, built from the service's TransferResult; the annotation promises it."""
    route = load("app.routers.v1.transfers").create_transfer
    TransferCreate, TransferRead = (
        getattr(load("app.schemas.transfers"), name) for name in ("TransferCreate", "TransferRead")
    )
    ids = {"source_id": uuid.UUID(int=1), "target_id": uuid.UUID(int=2)}
    result = load("app.services.transfers").TransferResult(
        transfer_id=uuid.UUID(int=3), amount=10, currency="EUR", replayed=False, **ids
    )

    class TransferServiceStandIn:
        async def transfer(self, *args: Any, **kwargs: Any) -> Any:
            return result

    answer = await route(
        body=TransferCreate(amount=10, **ids),
        transfers=TransferServiceStandIn(),
        response=Response(),
        idempotency_key=None,
    )
    came = ", the service's object as it came," if answer is result else ","
    assert isinstance(answer, TransferRead), (
        f"Lesson 06: create_transfer() in app/routers/v1/transfers.py returned {type(answer).__name__}{came} not a "
        "TransferRead. FastAPI converts it through the return annotation, so nothing failed, but the route's "
        "contract is its DTO: build it from what the service returned, and a type checker sees the route keep its "
        "word (step 4)"
    )
