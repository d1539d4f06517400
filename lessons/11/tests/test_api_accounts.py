"""The accounts endpoints over HTTP: what a client sends, and the status and body it gets back.

The rules themselves are tested on the services; these tests pin the contract a client relies on:
the status of each answer, its body, and the error body `{"error": {"code": …, "message": …}}`.
"""

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from app.models import User

ACCOUNTS = "/api/v1/accounts"


async def open_account(client: httpx.AsyncClient, owner: str = "Ada", currency: str = "EUR") -> dict[str, Any]:
    response = await client.post(ACCOUNTS, json={"owner": owner, "currency": currency})
    assert response.status_code == 201, response.text
    account: dict[str, Any] = response.json()
    return account


async def test_opening_an_account_answers_201_with_the_account(client: httpx.AsyncClient) -> None:
    response = await client.post(ACCOUNTS, json={"owner": "Ada", "currency": "EUR"})

    assert response.status_code == 201
    body = response.json()
    assert (body["owner"], body["currency"], body["balance"]) == ("Ada", "EUR", 0)
    assert uuid.UUID(body["id"])


async def test_a_deposit_answers_201_with_the_new_balance(client: httpx.AsyncClient) -> None:
    account = await open_account(client)

    response = await client.post(f"{ACCOUNTS}/{account['id']}/deposits", json={"amount": 1050})

    assert response.status_code == 201
    assert response.json()["balance"] == 1050


async def test_the_statement_shows_each_deposit(client: httpx.AsyncClient) -> None:
    account = await open_account(client)
    for amount in (100, 250):
        await client.post(f"{ACCOUNTS}/{account['id']}/deposits", json={"amount": amount})

    response = await client.get(f"{ACCOUNTS}/{account['id']}/entries")

    assert response.status_code == 200
    assert sorted(entry["amount"] for entry in response.json()["items"]) == [100, 250]


async def test_accounts_are_listed_in_pages(client: httpx.AsyncClient) -> None:
    ids = sorted([(await open_account(client, owner=f"Owner {number}"))["id"] for number in range(3)], key=uuid.UUID)

    first = await client.get(ACCOUNTS, params={"limit": 2})
    second = await client.get(ACCOUNTS, params={"limit": 2, "offset": 2})

    assert [account["id"] for account in first.json()["items"]] == ids[:2]
    assert [account["id"] for account in second.json()["items"]] == ids[2:]
    assert (second.json()["limit"], second.json()["offset"]) == (2, 2)


async def test_an_unknown_account_answers_404_account_not_found(client: httpx.AsyncClient) -> None:
    for path in (f"{ACCOUNTS}/{uuid.uuid4()}", f"{ACCOUNTS}/{uuid.uuid4()}/entries"):
        response = await client.get(path)

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "account_not_found"


async def test_an_invalid_request_answers_422_naming_each_invalid_field(client: httpx.AsyncClient) -> None:
    response = await client.post(ACCOUNTS, json={"owner": "", "currency": "euro"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert sorted(problem["location"] for problem in error["details"]) == ["body.currency", "body.owner"]


async def test_a_deposit_that_is_not_a_positive_integer_answers_422(client: httpx.AsyncClient) -> None:
    account = await open_account(client)

    for amount in (0, -5, 10.5, "10"):
        response = await client.post(f"{ACCOUNTS}/{account['id']}/deposits", json={"amount": amount})

        assert response.status_code == 422, amount


async def test_without_a_token_the_accounts_answer_401(guest: httpx.AsyncClient) -> None:
    response = await guest.get(ACCOUNTS)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "not_authenticated"


async def test_another_users_account_answers_404_as_if_it_did_not_exist(
    client: httpx.AsyncClient, stranger: User, headers_of: Callable[[User], dict[str, str]]
) -> None:
    mine = await open_account(client)
    as_stranger = headers_of(stranger)

    for response in (
        await client.get(f"{ACCOUNTS}/{mine['id']}", headers=as_stranger),
        await client.get(f"{ACCOUNTS}/{mine['id']}/entries", headers=as_stranger),
        await client.post(f"{ACCOUNTS}/{mine['id']}/deposits", json={"amount": 1}, headers=as_stranger),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "account_not_found"
    assert (await client.get(ACCOUNTS, headers=as_stranger)).json()["items"] == []
