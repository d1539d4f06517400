"""Lesson 06 checks, step 4: POST /api/v1/transfers moves money, and an Idempotency-Key makes a retry safe."""

from typing import Any

import httpx
import pytest

from .conftest import Ledger, balance, deposit, open_account

pytestmark = pytest.mark.step(4)


async def funded_pair(http: httpx.AsyncClient, funds: int = 1000) -> tuple[str, str]:
    """Two EUR accounts; the first holds `funds`."""
    source = await open_account(http, owner="Source")
    target = await open_account(http, owner="Target")
    await deposit(http, source["id"], funds)
    return source["id"], target["id"]


def transfer(source: str, target: str, amount: int) -> dict[str, Any]:
    return {"source_id": source, "target_id": target, "amount": amount}


async def test_a_transfer_moves_money_and_answers_201(ledger: Ledger) -> None:
    """Hint: `await transfers.transfer(source_id=…, …)`, then `TransferRead.model_validate(result)`."""
    async with ledger() as http:
        source, target = await funded_pair(http)
        response = await http.post("/api/v1/transfers", json=transfer(source, target, 300))
        balances = [await balance(http, source), await balance(http, target)]
    assert response.status_code == 201, (
        f"Lesson 06: POST /api/v1/transfers answered {response.status_code} {response.text[:160]}; "
        "expected 201 (step 4)"
    )
    body = response.json()
    shown = {key: body.get(key) for key in ("source_id", "target_id", "amount", "currency")}
    assert shown == {"source_id": source, "target_id": target, "amount": 300, "currency": "EUR"} and body.get(
        "transfer_id"
    ), f"Lesson 06: the transfer answered {body}; expected a TransferRead of it (step 4)"
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
    assert first.status_code == 201, (
        f"Lesson 06: the first transfer answered {first.status_code} {first.text[:160]} (step 4)"
    )
    assert balances == [700, 300], (
        f"Lesson 06: the same transfer sent twice with one Idempotency-Key left balances {balances}; expected "
        "[700, 300]: pass the header to the service as idempotency_key (step 4)"
    )
    assert (retry.status_code, retry.json()) == (201, first.json()), (
        f"Lesson 06: the retry answered {retry.status_code} {retry.text[:160]}; expected the first answer again, "
        f"201 {first.text[:160]} (step 4)"
    )


async def test_a_replayed_transfer_says_so_in_a_header(ledger: Ledger) -> None:
    """Hint: take `response: Response` and set `response.headers[REPLAYED_HEADER] = "true"` on a replay."""
    async with ledger() as http:
        source, target = await funded_pair(http)
        key = {"Idempotency-Key": "invoice-17"}
        first = await http.post("/api/v1/transfers", json=transfer(source, target, 100), headers=key)
        retry = await http.post("/api/v1/transfers", json=transfer(source, target, 100), headers=key)
    assert "idempotent-replayed" not in first.headers, (
        "Lesson 06: the first transfer with a new key says Idempotent-Replayed; only a replay may (step 4)"
    )
    assert retry.headers.get("idempotent-replayed") == "true", (
        f"Lesson 06: the replay answered {retry.status_code} without `Idempotent-Replayed: true`; set it when "
        "the service says result.replayed (step 4)"
    )
