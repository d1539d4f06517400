"""What routes depend on: services, built on the request's session.

A route asks for `accounts: AccountServiceDep` and gets an AccountService whose session is the
request's own (`SessionDep`, committed by `get_session` before the response is sent). Routes
never see the session, the repositories or the models: they call services and return DTOs.
"""

from typing import Annotated

from fastapi import Depends

from app.dependencies.session import SessionDep
from app.services.accounts import AccountService
from app.services.transfers import TransferService


# `async def` although nothing here awaits: FastAPI runs a plain `def` dependency in a worker
# thread, in case it blocks, and that hop on every request costs more than the constructor call.
async def get_account_service(session: SessionDep) -> AccountService:
    """The account service of this request."""
    ### BEGIN SOLUTION return an AccountService on the request's session (step 3)
    return AccountService(session)
    ### END SOLUTION


async def get_transfer_service(session: SessionDep) -> TransferService:
    """The transfer service of this request."""
    ### BEGIN SOLUTION return a TransferService on the request's session (step 4)
    return TransferService(session)
    ### END SOLUTION


AccountServiceDep = Annotated[AccountService, Depends(get_account_service)]
TransferServiceDep = Annotated[TransferService, Depends(get_transfer_service)]
