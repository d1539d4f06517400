"""The users repository: find a user by id or by email, and add one unless the email is taken.

Like every repository it adds, queries and flushes, and never commits.
"""

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User


class UserRepository:
    """Reads and writes `User` rows through one request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        """The user with this id, or None."""
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        """The user with this email, whatever its case, or None."""
        statement = select(User).where(func.lower(User.email) == func.lower(email))
        return (await self.session.scalars(statement)).one_or_none()

    async def add(self, *, email: str, password_hash: str) -> User | None:
        """Insert a user (flush, no commit) and return it; None when the email is taken, whatever its case.

        INSERT … ON CONFLICT DO NOTHING: two sign-ups with one email at the same moment cannot both
        insert it; the second waits for the first, then inserts nothing, instead of failing with a 500.
        """
        statement = (
            insert(User)
            .values(email=email, password_hash=password_hash)
            .on_conflict_do_nothing(index_elements=[func.lower(User.email)])
            .returning(User)
        )
        return (await self.session.scalars(statement)).one_or_none()
