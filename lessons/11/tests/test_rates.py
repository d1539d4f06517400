"""The rate service's client, against a mocked rate service (respx): never the real one.

respx replaces httpx's transport, so these tests see exactly the requests the client sends and
answer each as the test says: a timeout, a 503 then a rate, a body that is not JSON.
"""

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
import respx

from app.core.rates import RatesUnavailable, fetch_rate

BASE_URL = "https://rates.test"
LATEST = f"{BASE_URL}/latest"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=BASE_URL, timeout=httpx.Timeout(1.0)) as client:
        yield client


@respx.mock
async def test_a_rate_is_an_exact_decimal(client: httpx.AsyncClient) -> None:
    route = respx.get(LATEST, params={"base": "EUR", "symbols": "USD"}).mock(
        return_value=httpx.Response(200, json={"base": "EUR", "rates": {"USD": 0.285}})
    )
    assert await fetch_rate(client, "EUR", "USD", retries=2) == Decimal("0.285")
    assert route.call_count == 1


@respx.mock
async def test_a_5xx_is_retried_then_succeeds(client: httpx.AsyncClient) -> None:
    route = respx.get(LATEST).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"rates": {"USD": 1.25}})]
    )
    assert await fetch_rate(client, "EUR", "USD", retries=2) == Decimal("1.25")
    assert route.call_count == 2


@respx.mock
async def test_retries_stop_after_the_limit(client: httpx.AsyncClient) -> None:
    route = respx.get(LATEST).mock(return_value=httpx.Response(500))
    with pytest.raises(RatesUnavailable):
        await fetch_rate(client, "EUR", "USD", retries=2)
    assert route.call_count == 3


@respx.mock
async def test_a_timeout_is_retried_then_gives_up(client: httpx.AsyncClient) -> None:
    route = respx.get(LATEST).mock(side_effect=httpx.ConnectTimeout("too slow"))
    with pytest.raises(RatesUnavailable):
        await fetch_rate(client, "EUR", "USD", retries=1)
    assert route.call_count == 2


@respx.mock
async def test_a_4xx_is_not_retried(client: httpx.AsyncClient) -> None:
    route = respx.get(LATEST).mock(return_value=httpx.Response(404, json={"message": "not found"}))
    with pytest.raises(RatesUnavailable):
        await fetch_rate(client, "EUR", "XXX", retries=2)
    assert route.call_count == 1


@respx.mock
@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"rates": {}}', b'{"rates": {"USD": "a lot"}}'])
async def test_a_malformed_answer_is_unavailable(client: httpx.AsyncClient, body: bytes) -> None:
    respx.get(LATEST).mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(RatesUnavailable):
        await fetch_rate(client, "EUR", "USD", retries=0)
