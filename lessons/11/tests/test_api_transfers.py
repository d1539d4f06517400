"""POST /api/v1/transfers over HTTP: the answer to each outcome, and the Idempotency-Key header.

The service tests prove the rules; these prove the mapping: which status and error code a client
sees for each refusal, and that the header really reaches the service.
"""

from typing import Any

import httpx
import pytest

TRANSFERS = "/api/v1/transfers"


async def account(client: httpx.AsyncClient, balance: int = 0, currency: str = "EUR") -> str:
    opened = await client.post("/api/v1/accounts", json={"owner": "Owner", "currency": currency})
    account_id: str = opened.json()["id"]
    if balance:
        await client.post(f"/api/v1/accounts/{account_id}/deposits", json={"amount": balance})
    return account_id


async def balance(client: httpx.AsyncClient, account_id: str) -> int:
    found: int = (await client.get(f"/api/v1/accounts/{account_id}")).json()["balance"]
    return found


def transfer(source: str, target: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {"source_id": source, "target_id": target, "amount": amount, **extra}


async def test_a_transfer_answers_201_with_the_transfer(client: httpx.AsyncClient) -> None:
    source, target = await account(client, 1000), await account(client)

    response = await client.post(TRANSFERS, json=transfer(source, target, 300))

    assert response.status_code == 201
    body = response.json()
    assert (body["source_id"], body["target_id"], body["amount"], body["currency"]) == (source, target, 300, "EUR")
    assert "idempotent-replayed" not in response.headers
    assert (await balance(client, source), await balance(client, target)) == (700, 300)


async def test_a_transfer_without_enough_money_answers_409_insufficient_funds(client: httpx.AsyncClient) -> None:
    source, target = await account(client, 100), await account(client)

    response = await client.post(TRANSFERS, json=transfer(source, target, 101))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_funds"


@pytest.mark.parametrize("code", ["same_account", "currency_mismatch"])
async def test_a_transfer_the_rules_refuse_answers_422_with_its_code(client: httpx.AsyncClient, code: str) -> None:
    source = await account(client, 1000)
    target = source if code == "same_account" else await account(client, currency="USD")

    response = await client.post(TRANSFERS, json=transfer(source, target, 100))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


async def test_a_transfer_from_an_unknown_account_answers_404(client: httpx.AsyncClient) -> None:
    target = await account(client)

    response = await client.post(TRANSFERS, json=transfer("0190a1b2-0000-7000-8000-000000000000", target, 100))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "account_not_found"


async def test_a_field_the_api_does_not_know_answers_422(client: httpx.AsyncClient) -> None:
    source, target = await account(client, 1000), await account(client)

    response = await client.post(TRANSFERS, json=transfer(source, target, 100, currency="USD"))

    assert response.status_code == 422
    assert await balance(client, source) == 1000


async def test_a_retry_with_the_same_key_moves_money_once_and_says_replayed(client: httpx.AsyncClient) -> None:
    source, target = await account(client, 1000), await account(client)
    key = {"Idempotency-Key": "rent-2026-06"}

    first = await client.post(TRANSFERS, json=transfer(source, target, 300), headers=key)
    retry = await client.post(TRANSFERS, json=transfer(source, target, 300), headers=key)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers.get("idempotent-replayed") == "true"
    assert (await balance(client, source), await balance(client, target)) == (700, 300)


async def test_a_key_reused_for_a_different_amount_answers_409(client: httpx.AsyncClient) -> None:
    source, target = await account(client, 1000), await account(client)
    key = {"Idempotency-Key": "invoice-17"}
    await client.post(TRANSFERS, json=transfer(source, target, 300), headers=key)

    response = await client.post(TRANSFERS, json=transfer(source, target, 500), headers=key)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert await balance(client, source) == 700
