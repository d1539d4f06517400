"""Who is asking: the current user, from the request's `Authorization: Bearer <token>` header.

A route that needs a user takes `user: CurrentUser`; so does every service provider that acts
for one (app/dependencies/services.py), which makes every accounts and transfers route need a
valid token. FastAPI sees the OAuth2 scheme in that chain of dependencies and documents it in
OpenAPI, so Swagger UI at /docs shows an "Authorize" button that logs in at the token URL.
"""

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from app.dependencies.session import SessionDep
from app.dependencies.settings import SettingsDep
from app.models import User
from app.services.users import UserService

# tokenUrl: the path of the token route, where Swagger UI's "Authorize" sends the form (a relative
# "token" would resolve against /docs). auto_error=False: without a token the scheme hands over
# None, instead of answering FastAPI's own 401 {"detail": …}; the service raises NotAuthenticated,
# and the API's one error body answers it.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="Log in with your email as `username` and your password.",
)


async def get_current_user(
    token: Annotated[str | None, Depends(oauth2_scheme)], session: SessionDep, settings: SettingsDep
) -> User:
    """The user of the request's access token; NotAuthenticated (401) without a valid one."""
    return await UserService(session, settings).current_user(token)


CurrentUser = Annotated[User, Depends(get_current_user)]
