"""The app with real commits (`live_client`): what only shows when transactions really run at once.

Each request gets its own session and connection from the app's pool, as in production, and the
requests of one test run concurrently (asyncio.gather). A test inside one rolled-back transaction
cannot show a lost update or a deadlock: there is only one transaction.
"""

import asyncio
from typing import Any

import httpx

ACCOUNTS = "/api/v1/accounts"


async def account(client: httpx.AsyncClient, balance: int = 0) -> str:
    opened = await client.post(ACCOUNTS, json={"owner": "Owner", "currency": "EUR"})
    account_id: str = opened.json()["id"]
    if balance:
        await client.post(f"{ACCOUNTS}/{account_id}/deposits", json={"amount": balance})
    return account_id


async def balance(client: httpx.AsyncClient, account_id: str) -> int:
    found: int = (await client.get(f"{ACCOUNTS}/{account_id}")).json()["balance"]
    return found


def failures(responses: list[httpx.Response | BaseException], expected: int) -> list[Any]:
    """The requests that raised, or answered other than `expected`."""
    return [
        response if isinstance(response, BaseException) else (response.status_code, response.text)
        for response in responses
        if isinstance(response, BaseException) or response.status_code != expected
    ]


async def test_crossing_transfers_neither_deadlock_nor_lose_money(live_client: httpx.AsyncClient) -> None:
    a, b = await account(live_client, 1000), await account(live_client, 1000)
    requests = [(a, b, 7), (b, a, 5)] * 15  # 30 transfers, both directions, all at once

    responses = await asyncio.gather(
        *(
            live_client.post("/api/v1/transfers", json={"source_id": s, "target_id": t, "amount": n})
            for s, t, n in requests
        ),
        return_exceptions=True,
    )

    assert failures(responses, 201) == []
    # a sent 15 transfers of 7 and received 15 of 5; b the other way round. Nothing lost, nothing made up.
    assert (await balance(live_client, a), await balance(live_client, b)) == (970, 1030)


async def test_concurrent_deposits_are_all_counted(live_client: httpx.AsyncClient) -> None:
    target = await account(live_client)

    responses = await asyncio.gather(
        *(live_client.post(f"{ACCOUNTS}/{target}/deposits", json={"amount": 10}) for _ in range(20)),
        return_exceptions=True,
    )

    assert failures(responses, 201) == []
    assert await balance(live_client, target) == 200


async def test_a_refused_transfer_does_not_use_up_its_idempotency_key(live_client: httpx.AsyncClient) -> None:
    source, target = await account(live_client, 100), await account(live_client)
    key = {"Idempotency-Key": "order-42"}
    body = {"source_id": source, "target_id": target, "amount": 300}

    refused = await live_client.post("/api/v1/transfers", json=body, headers=key)
    await live_client.post(f"{ACCOUNTS}/{source}/deposits", json={"amount": 200})
    retried = await live_client.post("/api/v1/transfers", json=body, headers=key)

    assert refused.status_code == 409
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert (await balance(live_client, source), await balance(live_client, target)) == (0, 300)
