"""Repositories: add, query and flush rows through an AsyncSession. They never commit.

One repository per table. Each takes the request's session and speaks SQL through it; the
session dependency (app/dependencies/session.py) commits once, when the request succeeds.
"""

from app.crud.accounts import AccountRepository
from app.crud.entries import EntryRepository

__all__ = ["AccountRepository", "EntryRepository"]
