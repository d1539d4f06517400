"""API v2 over HTTP, and v1's deprecation (lesson 11): what a client of each version relies on."""

import logging
import uuid
from typing import Any

import httpx
import pytest
import respx

from app.core.config import Settings

V2 = "/api/v2/accounts"
PROBLEM_JSON = "application/problem+json"


async def open_accounts(client: httpx.AsyncClient, count: int) -> list[str]:
    ids = []
    for number in range(count):
        response = await client.post(V2, json={"owner": f"Owner {number}", "currency": "EUR"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def pages(client: httpx.AsyncClient, limit: int) -> list[list[str]]:
    found: list[list[str]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        body = (await client.get(V2, params=params)).json()
        found.append([account["id"] for account in body["items"]])
        if body["next_cursor"] is None:
            return found
        params["cursor"] = body["next_cursor"]


async def test_a_v2_error_is_a_problem_detail(client: httpx.AsyncClient) -> None:
    path = f"{V2}/{uuid.uuid4()}"

    response = await client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert (body["status"], body["instance"], body["code"]) == (404, path, "account_not_found")


async def test_a_v2_validation_problem_lists_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post(V2, json={"owner": "", "currency": "euro"})

    assert response.status_code == 422
    assert {error["location"] for error in response.json()["errors"]} == {"body.owner", "body.currency"}


async def test_v2_pages_list_every_account_once_newest_first(client: httpx.AsyncClient) -> None:
    newest_first = list(reversed(await open_accounts(client, 5)))

    assert await pages(client, 2) == [newest_first[0:2], newest_first[2:4], newest_first[4:]]


async def test_v2_pages_do_not_move_when_accounts_are_opened(client: httpx.AsyncClient) -> None:
    ids = await open_accounts(client, 4)
    first = (await client.get(V2, params={"limit": 2})).json()
    await open_accounts(client, 2)

    second = (await client.get(V2, params={"limit": 2, "cursor": first["next_cursor"]})).json()

    assert [account["id"] for account in second["items"]] == ids[1::-1]


async def test_a_changed_cursor_is_refused(client: httpx.AsyncClient) -> None:
    await open_accounts(client, 2)
    cursor = (await client.get(V2, params={"limit": 1})).json()["next_cursor"]
    changed = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")

    response = await client.get(V2, params={"cursor": changed})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


async def test_v1_answers_carry_deprecation_and_sunset(client: httpx.AsyncClient, guest: httpx.AsyncClient) -> None:
    for response in (await client.get("/api/v1/accounts"), await guest.get("/api/v1/accounts")):
        assert response.headers["deprecation"].startswith("@")
        assert response.headers["sunset"].endswith(" GMT")
        assert 'rel="deprecation"' in response.headers["link"]
    assert "deprecation" not in (await client.get(V2)).headers


@respx.mock
async def test_a_v2_quote_without_a_rate_service_is_a_503_problem(
    client: httpx.AsyncClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    respx.get(url__startswith=settings.rates_url).mock(side_effect=httpx.ConnectError("refused"))

    with caplog.at_level(logging.INFO):
        response = await client.get("/api/v2/quotes", params={"base": "EUR", "target": "USD", "amount": 100})

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "rates_unavailable"
    assert any(getattr(record, "code", None) == "rates_unavailable" for record in caplog.records)  # logged, as in v1
