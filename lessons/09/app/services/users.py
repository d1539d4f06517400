"""Users: sign up, log in, and find who an access token belongs to.

The password is hashed here, before it reaches a repository, and never stored, logged or
returned. A failed log-in says the same thing, and costs the same time, whether the email is
unknown or the password is wrong: an attacker learns nothing about which emails have an account.
"""

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import security
from app.core.config import Settings
from app.crud.users import UserRepository
from app.models import User
from app.services.errors import EmailTaken, InvalidCredentials, NotAuthenticated

logger = logging.getLogger(__name__)


class UserService:
    """The rules for users and their tokens. One instance per request, on the request's session."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.users = UserRepository(session)
        self.settings = settings

    async def sign_up(self, *, email: str, password: str) -> User:
        """Create a user with this email and (a hash of) this password; EmailTaken when the email has one."""
        raise NotImplementedError("Lesson 09: hash the password (security.hash_password), add the user through the repository; None back means EmailTaken (step 4)")

    async def log_in(self, *, email: str, password: str) -> security.AccessToken:
        """An access token for the user with this email and password; InvalidCredentials otherwise."""
        raise NotImplementedError("Lesson 09: find the user by email, verify the password (against None when there is no user), store a rehash, issue a token (step 4)")

    async def current_user(self, token: str | None) -> User:
        """The user a request's access token was issued to; NotAuthenticated when there is no valid token."""
        raise NotImplementedError("Lesson 09: no token, an invalid one (security.InvalidToken), or a user who no longer exists: NotAuthenticated (step 5)")
