"""A first test, to show the shape: the app starts, reaches its database, and answers over HTTP.

It asks for the `client` fixture (conftest.py): the app in-process, its requests' sessions inside
this test's transaction, so the account it opens is gone when the test ends. Write your own tests
in files of their own: test_services_*.py for the rules, test_api_*.py for HTTP, and so on.
"""

import httpx


async def test_an_account_opened_over_http_can_be_read_back(client: httpx.AsyncClient) -> None:
    opened = await client.post("/api/v1/accounts", json={"owner": "Ada Lovelace", "currency": "EUR"})
    account = opened.json()

    read = await client.get(f"/api/v1/accounts/{account['id']}")

    assert read.status_code == 200
    assert read.json() == account
