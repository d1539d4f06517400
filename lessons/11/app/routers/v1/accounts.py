"""The accounts endpoints: open, read and list accounts, deposit, and read a statement.

Each route takes a DTO, calls the AccountService and returns a DTO. Errors are the service's
DomainErrors; app/routers/errors.py turns them into 401/404/409/422, so no route catches them.
The service acts for the user of the request's token (AccountServiceDep, lesson 09): every
route here answers that user's accounts only.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.dependencies.services import AccountServiceDep
from app.routers.errors import error_responses
from app.schemas.accounts import AccountCreate, AccountRead, DepositCreate, EntryRead
from app.schemas.common import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Page

router = APIRouter(prefix="/accounts", tags=["accounts"])

# Bounded, so that no client can ask for the whole table in one request.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Open an account",
    responses=error_responses(status.HTTP_401_UNAUTHORIZED, status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def open_account(body: AccountCreate, accounts: AccountServiceDep) -> AccountRead:
    """Open an account for `owner` in `currency`, with a balance of zero."""
    account = await accounts.open(owner=body.owner, currency=body.currency)
    return AccountRead.model_validate(account)


@router.get(
    "",
    summary="List accounts",
    responses=error_responses(status.HTTP_401_UNAUTHORIZED, status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def list_accounts(
    accounts: AccountServiceDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Page[AccountRead]:
    """One page of accounts, oldest first."""
    found = await accounts.list(limit=limit, offset=offset)
    return Page(items=[AccountRead.model_validate(account) for account in found], limit=limit, offset=offset)


@router.get(
    "/{account_id}",
    summary="Read an account",
    responses=error_responses(
        status.HTTP_401_UNAUTHORIZED, status.HTTP_404_NOT_FOUND, status.HTTP_422_UNPROCESSABLE_CONTENT
    ),
)
async def get_account(account_id: uuid.UUID, accounts: AccountServiceDep) -> AccountRead:
    """The account with this id, and its balance."""
    return AccountRead.model_validate(await accounts.get(account_id))


@router.post(
    "/{account_id}/deposits",
    status_code=status.HTTP_201_CREATED,
    summary="Deposit money",
    responses=error_responses(
        status.HTTP_401_UNAUTHORIZED, status.HTTP_404_NOT_FOUND, status.HTTP_422_UNPROCESSABLE_CONTENT
    ),
)
async def deposit(account_id: uuid.UUID, body: DepositCreate, accounts: AccountServiceDep) -> AccountRead:
    """Pay `amount` minor units into the account; answers the account with its new balance."""
    return AccountRead.model_validate(await accounts.deposit(account_id, body.amount))


@router.get(
    "/{account_id}/entries",
    summary="Read an account's statement",
    responses=error_responses(
        status.HTTP_401_UNAUTHORIZED, status.HTTP_404_NOT_FOUND, status.HTTP_422_UNPROCESSABLE_CONTENT
    ),
)
async def statement(
    account_id: uuid.UUID, accounts: AccountServiceDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Page[EntryRead]:
    """One page of the account's entries, newest first: deposits and both sides of transfers."""
    found = await accounts.statement(account_id, limit=limit, offset=offset)
    return Page(items=[EntryRead.model_validate(entry) for entry in found], limit=limit, offset=offset)
