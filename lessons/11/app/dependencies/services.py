"""What routes depend on: services, built on the request's session, acting for the request's user.

A route asks for `accounts: AccountServiceDep` and gets an AccountService whose session is the
request's own (`SessionDep`, committed by `get_session` before the response is sent) and whose
user is the one of the request's access token (`CurrentUser`, lesson 09). Routes never see the
session, the repositories or the models: they call services and return DTOs. Because the user
is given to the service here, once, no route can forget it.
"""

from typing import Annotated

from fastapi import Depends, Request

from app.core.cache import RatesCache
from app.dependencies.auth import CurrentUser
from app.dependencies.session import SessionDep
from app.dependencies.settings import SettingsDep
from app.services.accounts import AccountService
from app.services.quotes import QuoteService
from app.services.transfers import TransferService
from app.services.users import UserService


# `async def` although nothing here awaits: FastAPI runs a plain `def` dependency in a worker
# thread, in case it blocks, and that hop on every request costs more than the constructor call.
async def get_account_service(session: SessionDep, user: CurrentUser) -> AccountService:
    """The account service of this request, acting for its user."""
    return AccountService(session, user.id)


async def get_transfer_service(session: SessionDep, user: CurrentUser) -> TransferService:
    """The transfer service of this request, acting for its user."""
    return TransferService(session, user.id)


async def get_user_service(session: SessionDep, settings: SettingsDep) -> UserService:
    """The user service of this request: sign up and log in need no token."""
    return UserService(session, settings)


async def get_quote_service(request: Request, settings: SettingsDep) -> QuoteService:
    """The quote service: the process's one HTTP client and one Redis client, from the lifespan (lesson 10)."""
    cache = RatesCache(request.app.state.redis, ttl=settings.rates_cache_seconds)
    return QuoteService(request.app.state.http_client, cache, retries=settings.rates_retries)


AccountServiceDep = Annotated[AccountService, Depends(get_account_service)]
TransferServiceDep = Annotated[TransferService, Depends(get_transfer_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
QuoteServiceDep = Annotated[QuoteService, Depends(get_quote_service)]
