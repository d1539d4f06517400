"""SQLAlchemy models: the tables. Models import no other layer of the app.

Importing this package registers every table on `Base.metadata` (Alembic's autogenerate needs that).
"""

from app.models.account import Account
from app.models.base import Base, uuid7
from app.models.entry import Entry
from app.models.idempotency import IdempotencyKey
from app.models.user import User

__all__ = ["Account", "Base", "Entry", "IdempotencyKey", "User", "uuid7"]
