"""/api/v1/quotes: what an amount in one currency comes to in another, at today's rate."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.dependencies.services import QuoteServiceDep
from app.routers.errors import error_responses
from app.schemas.accounts import MAX_AMOUNT
from app.schemas.quotes import QuoteRead

router = APIRouter(prefix="/quotes", tags=["quotes"])

Currency = Annotated[str, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.", examples=["EUR"])]


@router.get(
    "",
    summary="Quote a conversion",
    responses=error_responses(status.HTTP_422_UNPROCESSABLE_CONTENT, status.HTTP_503_SERVICE_UNAVAILABLE),
)
async def get_quote(
    quotes: QuoteServiceDep,
    base: Currency,
    target: Currency,
    amount: Annotated[int, Query(gt=0, le=MAX_AMOUNT, description="Minor units of `base`.")],
) -> QuoteRead:
    """What `amount` minor units of `base` come to in `target`; 503 when no rate can be had."""
    return QuoteRead.model_validate(await quotes.quote(base, target, amount))
