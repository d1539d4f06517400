"""API v2: quotes, as v1's, with problem-details errors (lesson 11)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.dependencies.services import QuoteServiceDep
from app.routers.problems import problem_responses
from app.routers.v1.quotes import Currency
from app.schemas.accounts import MAX_AMOUNT
from app.schemas.quotes import QuoteRead

router = APIRouter(prefix="/quotes", tags=["quotes"])


@router.get(
    "",
    summary="Quote a conversion",
    responses=problem_responses(status.HTTP_422_UNPROCESSABLE_CONTENT, status.HTTP_503_SERVICE_UNAVAILABLE),
)
async def get_quote(
    quotes: QuoteServiceDep,
    base: Currency,
    target: Currency,
    amount: Annotated[int, Query(gt=0, le=MAX_AMOUNT, description="Minor units of `base`.")],
) -> QuoteRead:
    """What `amount` minor units of `base` come to in `target`; a 503 problem when no rate can be had."""
    return QuoteRead.model_validate(await quotes.quote(base, target, amount))
