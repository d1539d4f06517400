"""Lesson 10 checks, step 5: a quote is Decimal arithmetic, integer minor units, rounded half up; nonsense is a 503."""

from typing import Any

import pytest

from .conftest import Answer, error_code, expect_status, explain, lesson_error, quote, rate_body

pytestmark = pytest.mark.step(5)


async def test_a_quote_is_integer_minor_units_with_a_decimal_rate(ledger: Any, rates: Any) -> None:
    """Hint: QuoteRead: amount and converted are ints; rate is a Decimal, which JSON shows as a string."""
    rates.rate("USD", "1.0842")
    async with ledger() as served:
        response = await quote(served.http, amount=1000)
    expect_status(response, 200, "GET /api/v1/quotes?base=EUR&target=USD&amount=1000", 5)
    body = response.json()
    expected = {"amount": 1000, "converted": 1084, "rate": "1.0842"}
    got = {key: body.get(key) for key in expected}
    assert got == expected and isinstance(body.get("converted"), int), (
        f"Lesson 10: 1000 minor units of EUR at 1.0842 quoted {got}; expected {expected}: converted in integer "
        "minor units, the rate as an exact decimal string (step 5)"
    )


async def test_a_rate_is_read_exactly_never_through_a_float(ledger: Any, rates: Any) -> None:
    """Hint: json.loads(body, parse_float=Decimal): the rate never exists as a float, not even for a moment."""
    rates.answer(Answer(200, rate_body({"USD": "0.285", "GBP": "0.5"})))
    async with ledger() as served:
        control = await quote(served.http, amount=5, target="GBP")
        response = await quote(served.http, amount=100)
    expect_status(control, 200, "a quote of 5 EUR minor units at 0.5", 5)
    expect_status(response, 200, "a quote of 100 EUR minor units at 0.285", 5)
    control_converted = control.json().get("converted")
    if control_converted != 3:
        # 0.5 is exact as a float too: 2.5 quoted wrong is the rounding rule (or no conversion yet), not a float.
        # Blaming floats here would send the learner to parse_rate for a mistake in convert.
        raise lesson_error(
            f"5 minor units at a rate of 0.5 (exact, even as a float) came to {control_converted}; expected 3 "
            "(2.5, rounded half up). Until that quote is right, this check cannot tell whether the rate of 0.285 "
            "went through a float: convert first (step 5)"
        )
    converted = response.json().get("converted")
    assert converted == 29, (
        f"Lesson 10: 100 minor units at a rate of 0.285 came to {converted}; exactly, that is 28.5, which rounds "
        "half up to 29. The float 0.285 is 0.28499999999999998…, so a rate that passed through a float (or "
        "float arithmetic) gives 28: read the rate with parse_float=Decimal and multiply Decimals (step 5)"
    )


async def test_a_rate_is_used_with_all_its_digits_rounding_only_the_result(ledger: Any, rates: Any) -> None:
    """Hint: one rounding, of the converted amount; the rate is multiplied exactly as the service sent it."""
    rates.rate("USD", "0.123456")
    async with ledger() as served:
        response = await quote(served.http, amount=1_000_000)
    expect_status(response, 200, "a quote of 1000000 EUR minor units at 0.123456", 5)
    converted = response.json().get("converted")
    assert converted == 123_456, (
        f"Lesson 10: 1000000 minor units at a rate of 0.123456 came to {converted}; exactly, that is 123456. "
        f"{'The rate was rounded before the multiplication (0.1235 gives 123500): ' if converted == 123_500 else ''}"
        "round once, the converted amount at the end, never the rate (step 5)"
    )


@pytest.mark.parametrize(("amount", "expected"), [(5, 3), (3, 2), (7, 4)])
async def test_half_a_minor_unit_rounds_up(ledger: Any, rates: Any, amount: int, expected: int) -> None:
    """Hint: quantize(Decimal(1), rounding=ROUND_HALF_UP): one explicit rule, applied once, at the end."""
    rates.rate("USD", "0.5")
    async with ledger() as served:
        response = await quote(served.http, amount=amount)
    expect_status(response, 200, f"a quote of {amount} at 0.5", 5)
    converted = response.json().get("converted")
    assert converted == expected, (
        f"Lesson 10: {amount} minor units at 0.5 is {amount / 2}, quoted as {converted}; the API's rule is half "
        f"up: {expected}. Python's round() rounds half to even, int() cuts toward zero; name the rule: "
        "ROUND_HALF_UP (step 5)"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Bad gateway</html>",
        b'{"rates": {}}',
        b'{"rates": {"USD": "a lot"}}',
        b'{"rates": [1.2]}',
        b'{"rates": {"USD": 0}}',
        b'{"rates": {"USD": -1.08}}',
        b'{"rates": {"USD": NaN}}',
    ],
    ids=["not-json", "no-rate", "not-a-number", "rates-not-an-object", "zero", "negative", "nan"],
)
async def test_a_malformed_answer_is_a_503_not_a_500(ledger: Any, rates: Any, body: bytes) -> None:
    """Hint: a body that is not JSON, lacks the rate, or holds a rate that is not a positive number, is the rate
    service failing: RatesUnavailable."""
    rates.answer(Answer(200, body))
    async with ledger() as served:
        response = await quote(served.http)
    if response.status_code != 503 or error_code(response) != "rates_unavailable":
        raise lesson_error(
            f"the rate service answered 200 with {body.decode()!r} and the quote answered {explain(response)}; "
            'expected 503 {"error": {"code": "rates_unavailable"}}: parse_rate turns a body it cannot read, and a '
            "rate that is not a positive number (a quote at such a rate moves money at no price), into "
            "RatesUnavailable (step 5)"
        )
