"""The accounts endpoints: open, read and list accounts, deposit, and read a statement.

Each route takes a DTO, calls the AccountService and returns a DTO. Errors are the service's
DomainErrors; app/routers/errors.py turns them into 404/409/422, so no route catches them.
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
    responses=error_responses(status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def open_account(body: AccountCreate, accounts: AccountServiceDep) -> AccountRead:
    """Open an account for `owner` in `currency`, with a balance of zero."""
    raise NotImplementedError("Lesson 06: open the account with the service and return it as an AccountRead (step 3)")


@router.get(
    "",
    summary="List accounts",
    responses=error_responses(status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def list_accounts(
    accounts: AccountServiceDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Page[AccountRead]:
    """One page of accounts, oldest first."""
    raise NotImplementedError("Lesson 06: list one page with the service; return a Page of AccountRead with the limit and offset (step 3)")


@router.get(
    "/{account_id}",
    summary="Read an account",
    responses=error_responses(status.HTTP_404_NOT_FOUND, status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def get_account(account_id: uuid.UUID, accounts: AccountServiceDep) -> AccountRead:
    """The account with this id, and its balance."""
    raise NotImplementedError("Lesson 06: get the account with the service and return it as an AccountRead (step 3)")


@router.post(
    "/{account_id}/deposits",
    status_code=status.HTTP_201_CREATED,
    summary="Deposit money",
    responses=error_responses(status.HTTP_404_NOT_FOUND, status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def deposit(account_id: uuid.UUID, body: DepositCreate, accounts: AccountServiceDep) -> AccountRead:
    """Pay `amount` minor units into the account; answers the account with its new balance."""
    raise NotImplementedError("Lesson 06: deposit with the service and return the account as an AccountRead (step 3)")


@router.get(
    "/{account_id}/entries",
    summary="Read an account's statement",
    responses=error_responses(status.HTTP_404_NOT_FOUND, status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def statement(
    account_id: uuid.UUID, accounts: AccountServiceDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Page[EntryRead]:
    """One page of the account's entries, newest first: deposits and both sides of transfers."""
    raise NotImplementedError("Lesson 06: read one page of the statement with the service; return a Page of EntryRead (step 3)")
