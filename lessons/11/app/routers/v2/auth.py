"""API v2: the token endpoint, as v1's, with problem-details errors (lesson 11).

The request is a form, not JSON (`application/x-www-form-urlencoded`, RFC 6749 section 4.3):
`username` carries the email. That is what OAuth2 clients send, Swagger UI's "Authorize" among them.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.dependencies.services import UserServiceDep
from app.routers.problems import problem_responses
from app.schemas.users import Token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    summary="Log in: get an access token",
    responses=problem_responses(status.HTTP_401_UNAUTHORIZED, status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def log_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], users: UserServiceDep, response: Response
) -> Token:
    """Send `username` (your email) and `password` as a form; get a bearer token for `Authorization`."""
    issued = await users.log_in(email=form.username, password=form.password)
    # RFC 6749, section 5.1: a token response must not be stored by any cache on the way.
    response.headers["Cache-Control"] = "no-store"
    return Token(access_token=issued.token, expires_in=issued.expires_in)
