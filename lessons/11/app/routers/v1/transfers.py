"""The transfers endpoint: move money between two accounts, safely retried with an Idempotency-Key."""

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from app.dependencies.services import TransferServiceDep
from app.routers.errors import error_responses
from app.schemas.transfers import TransferCreate, TransferRead

router = APIRouter(prefix="/transfers", tags=["transfers"])

# Set on the response when an Idempotency-Key replays an earlier transfer (as Stripe does).
REPLAYED_HEADER = "Idempotent-Replayed"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Transfer money",
    responses={
        status.HTTP_201_CREATED: {
            "description": "The transfer: made now, or replayed for a retried Idempotency-Key.",
            "headers": {REPLAYED_HEADER: {"description": "`true` on a replay.", "schema": {"type": "string"}}},
        },
        **error_responses(
            status.HTTP_401_UNAUTHORIZED,
            status.HTTP_404_NOT_FOUND,
            status.HTTP_409_CONFLICT,
            status.HTTP_422_UNPROCESSABLE_CONTENT,
        ),
    },
)
async def create_transfer(
    body: TransferCreate,
    transfers: TransferServiceDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=255,
            description="Any unique string, e.g. a UUID. Retrying with the same key and body moves the money "
            "once and answers the same transfer again (201, with `Idempotent-Replayed: true`).",
        ),
    ] = None,
) -> TransferRead:
    """Move `amount` minor units from `source_id` to `target_id`: both accounts, one currency, enough money."""
    result = await transfers.transfer(
        source_id=body.source_id,
        target_id=body.target_id,
        amount=body.amount,
        idempotency_key=idempotency_key,
    )
    if result.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return TransferRead.model_validate(result)
