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
    ### BEGIN SOLUTION an httpx.AsyncClient with base_url=settings.rates_url and httpx.Timeout(settings.rates_timeout) (step 4)
    ### STUB return httpx.AsyncClient()  # a placeholder so that the app starts: no base URL, no timeout of yours
    return httpx.AsyncClient(base_url=settings.rates_url, timeout=httpx.Timeout(settings.rates_timeout))
    ### END SOLUTION


def parse_rate(body: bytes, target: str) -> Decimal:
    """The rate for `target` in a response body; RatesUnavailable when the body is not what the service promises."""
    ### BEGIN SOLUTION json.loads with parse_float=Decimal, then body["rates"][target]; a body that is not JSON or lacks the rate raises RatesUnavailable (step 5)
    ### STUB return Decimal(1)  # a placeholder: every rate is 1, whatever the body says
    try:
        rate = json.loads(body, parse_float=Decimal)["rates"][target]
        rate = Decimal(rate)
    except (ValueError, KeyError, TypeError, InvalidOperation) as error:
        raise RatesUnavailable(f"the rate service answered without a rate for {target}") from error
    if not rate.is_finite() or rate <= 0:
        raise RatesUnavailable(f"the rate service answered a rate of {rate} for {target}")
    return rate
    ### END SOLUTION


async def fetch_rate(client: httpx.AsyncClient, base: str, target: str, retries: int) -> Decimal:
    """How many units of `target` one unit of `base` buys, asked of the rate service with bounded retries."""
    ### BEGIN SOLUTION 1 + retries attempts at most: a connection error, a timeout or a 5xx tries again; a 4xx stops at once; every failure ends as RatesUnavailable (step 4)
    for attempt in range(1 + retries):
        try:
            response = await client.get("/latest", params={"base": base, "symbols": target})
        except httpx.TimeoutException:
            logger.warning("rate service timed out", extra={"attempt": attempt + 1})
            continue
        except httpx.TransportError:  # refused, reset, no such host
            logger.warning("rate service unreachable", extra={"attempt": attempt + 1})
            continue
        if response.is_server_error:
            logger.warning("rate service failed", extra={"attempt": attempt + 1, "status": response.status_code})
            continue
        if response.is_success:
            return parse_rate(response.content, target)
        # A 4xx: asking again gets the same answer.
        raise RatesUnavailable(f"the rate service refused {base}→{target} with {response.status_code}")
    raise RatesUnavailable(f"the rate service did not answer after {1 + retries} attempts")
    ### END SOLUTION
