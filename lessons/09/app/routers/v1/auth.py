"""The token endpoint: trade an email and a password for an access token (OAuth2's password flow).

The request is a form, not JSON (`application/x-www-form-urlencoded`, RFC 6749 section 4.3):
`username` carries the email. That is what OAuth2 clients send, Swagger UI's "Authorize" among them.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.dependencies.services import UserServiceDep
from app.routers.errors import error_responses
from app.schemas.users import Token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    summary="Log in: get an access token",
    responses=error_responses(status.HTTP_401_UNAUTHORIZED, status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def log_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], users: UserServiceDep, response: Response
) -> Token:
    """Send `username` (your email) and `password` as a form; get a bearer token for `Authorization`."""
    raise NotImplementedError("Lesson 09: log in with form.username and form.password; the answer must never be cached (Cache-Control: no-store) (step 4)")
