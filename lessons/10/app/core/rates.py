"""The exchange-rate service, over HTTP: one `httpx.AsyncClient` for the whole process.

The app's lifespan (app/main.py) builds the client with `create_http_client` when the server starts and
closes it when the server stops: one pool of connections, reused by every request. Opening a client
per request would pay a new TCP (and TLS) handshake each time, and leak sockets when one is not closed.

    GET {rates_url}/latest?base=EUR&symbols=USD   →   {"base": "EUR", "rates": {"USD": 1.0842}, …}

Every call has a timeout. A 5xx or a failed connection is tried again, a bounded number of times; a
4xx is the caller's mistake and is never retried. Whatever goes wrong ends as `RatesUnavailable`.
Rates are `Decimal`, read from the JSON text itself: a float cannot hold 1.0842 exactly.
"""

import json
import logging
from decimal import Decimal, InvalidOperation

import httpx

from app.core.config import Settings

logger = logging.getLogger(__name__)


class RatesUnavailable(Exception):
    """The rate service could not give a rate: unreachable, too slow, failing, or answering nonsense."""


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    """The one client of the rate service, with its base URL and a timeout on every phase of a call."""
    # TODO Lesson 10: an httpx.AsyncClient with base_url=settings.rates_url and httpx.Timeout(settings.rates_timeout) (step 4)
    return httpx.AsyncClient()  # a placeholder so that the app starts: no base URL, no timeout of yours


def parse_rate(body: bytes, target: str) -> Decimal:
    """The rate for `target` in a response body; RatesUnavailable when the body is not what the service promises."""
    # TODO Lesson 10: json.loads with parse_float=Decimal, then body["rates"][target]; a body that is not JSON or lacks the rate raises RatesUnavailable (step 5)
    return Decimal(1)  # a placeholder: every rate is 1, whatever the body says


async def fetch_rate(client: httpx.AsyncClient, base: str, target: str, retries: int) -> Decimal:
    """How many units of `target` one unit of `base` buys, asked of the rate service with bounded retries."""
    raise NotImplementedError("Lesson 10: 1 + retries attempts at most: a connection error, a timeout or a 5xx tries again; a 4xx stops at once; every failure ends as RatesUnavailable (step 4)")
