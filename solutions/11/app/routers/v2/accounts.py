"""API v2: the accounts endpoints (lesson 11).

As v1's, with three breaking changes: errors are problem details; lists are keyset pages, newest
first, continued with an opaque, signed `cursor` instead of an `offset`; an account has `updated_at`.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.dependencies.pages import CursorsDep
from app.dependencies.services import AccountServiceDep
from app.routers.problems import problem_responses
from app.schemas.accounts import AccountCreate, DepositCreate, EntryRead
from app.schemas.common import DEFAULT_LIMIT, MAX_LIMIT
from app.schemas.v2 import AccountReadV2, CursorPage

router = APIRouter(prefix="/accounts", tags=["accounts"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=512, description="The `next_cursor` of the previous page; none for the first."),
]
ERRORS = (status.HTTP_401_UNAUTHORIZED, status.HTTP_422_UNPROCESSABLE_CONTENT)
ERRORS_OF_ONE = (status.HTTP_401_UNAUTHORIZED, status.HTTP_404_NOT_FOUND, status.HTTP_422_UNPROCESSABLE_CONTENT)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Open an account", responses=problem_responses(*ERRORS))
async def open_account(body: AccountCreate, accounts: AccountServiceDep) -> AccountReadV2:
    """Open an account for `owner` in `currency`, with a balance of zero."""
    return AccountReadV2.model_validate(await accounts.open(owner=body.owner, currency=body.currency))


@router.get("", summary="List accounts", responses=problem_responses(*ERRORS))
async def list_accounts(
    accounts: AccountServiceDep, cursors: CursorsDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> CursorPage[AccountReadV2]:
    """One page of your accounts, newest first; follow `next_cursor` for the next one."""
    ### BEGIN SOLUTION read the cursor (if any) into the id to start after, ask the service for a page, and issue the next cursor from the page's last account when the page is full (step 4)
    after = cursors.read(cursor) if cursor is not None else None
    found = await accounts.page(after=after, limit=limit)
    next_cursor = cursors.issue(found[-1].id) if len(found) == limit else None
    return CursorPage(items=[AccountReadV2.model_validate(account) for account in found], next_cursor=next_cursor)
    ### END SOLUTION


@router.get("/{account_id}", summary="Read an account", responses=problem_responses(*ERRORS_OF_ONE))
async def get_account(account_id: uuid.UUID, accounts: AccountServiceDep) -> AccountReadV2:
    """The account with this id, and its balance."""
    return AccountReadV2.model_validate(await accounts.get(account_id))


@router.post(
    "/{account_id}/deposits",
    status_code=status.HTTP_201_CREATED,
    summary="Deposit money",
    responses=problem_responses(*ERRORS_OF_ONE),
)
async def deposit(account_id: uuid.UUID, body: DepositCreate, accounts: AccountServiceDep) -> AccountReadV2:
    """Pay `amount` minor units into the account; answers the account with its new balance."""
    return AccountReadV2.model_validate(await accounts.deposit(account_id, body.amount))


@router.get("/{account_id}/entries", summary="Read an account's statement", responses=problem_responses(*ERRORS_OF_ONE))
async def statement(
    account_id: uuid.UUID,
    accounts: AccountServiceDep,
    cursors: CursorsDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> CursorPage[EntryRead]:
    """One page of the account's entries, newest first; follow `next_cursor` for the next one."""
    after = cursors.read(cursor) if cursor is not None else None
    found = await accounts.statement_page(account_id, after=after, limit=limit)
    next_cursor = cursors.issue(found[-1].id) if len(found) == limit else None
    return CursorPage(items=[EntryRead.model_validate(entry) for entry in found], next_cursor=next_cursor)
