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
        password_hash = await security.hash_password(password)
        user = await self.users.add(email=email, password_hash=password_hash)
        if user is None:
            raise EmailTaken()
        logger.info("signed up %r", user)
        return user

    async def log_in(self, *, email: str, password: str) -> security.AccessToken:
        """An access token for the user with this email and password; InvalidCredentials otherwise."""
        # PostgreSQL's text cannot hold a NUL byte, and no stored email has one: such an email is unknown.
        user = None if "\x00" in email else await self.users.get_by_email(email)
        matches, new_hash = await security.verify_password(password, user.password_hash if user else None)
        if user is None or not matches:
            logger.info("failed log-in")
            raise InvalidCredentials()
        if new_hash is not None:
            # The hash was made with older parameters: replace it, now that the password is at hand.
            user.password_hash = new_hash
        return security.create_access_token(user.id, self.settings)

    async def current_user(self, token: str | None) -> User:
        """The user a request's access token was issued to; NotAuthenticated when there is no valid token."""
        if token is None:
            raise NotAuthenticated("no token was sent", token_sent=False)
        try:
            user_id = security.decode_access_token(token, self.settings)
        except security.InvalidToken as error:
            raise NotAuthenticated(f"the token is not valid: {error}", token_sent=True) from None
        user = await self.users.get(user_id)
        if user is None:
            raise NotAuthenticated("the token's user does not exist", token_sent=True)
        return user
