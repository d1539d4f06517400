"""The benchmark's synchronous variant: the same two endpoints as plain `def` routes.

    cd <finished stage> && LEDGER_DATABASE_URL=… uvicorn loadtest.sync_variant:app

The style of many FastAPI services (and of the full-stack template): synchronous SQLAlchemy
sessions on psycopg, routes declared with `def`, which FastAPI runs in its threadpool. It reuses
the reference's models, DTOs, settings and error body, and follows the reference's rules (rows
locked in id order, the Idempotency-Key claimed first, and from lesson 09 on the bearer token
and the owner of every account), so only the sync/async choice differs. It runs from the
finished stage's folder, where `app` is the reference.
"""

from __future__ import annotations

import hashlib
import importlib
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# `app` is the finished stage's package: this module runs from that folder (see bench.py).
from app.core.config import get_settings  # type: ignore[import-not-found]
from app.models import Account, Entry, IdempotencyKey, uuid7  # type: ignore[import-not-found]
from app.schemas.accounts import AccountRead  # type: ignore[import-not-found]
from app.schemas.transfers import TransferCreate, TransferRead  # type: ignore[import-not-found]

try:  # users and tokens, from lesson 09 on
    from app.core import security  # type: ignore[import-not-found]
except ImportError:
    security = None

settings = get_settings()
engine = create_engine(
    make_url(settings.database_url).set(drivername="postgresql+psycopg"),
    pool_size=settings.db_pool_size,
    max_overflow=settings.db_max_overflow,
    pool_timeout=settings.db_pool_timeout,
    pool_recycle=settings.db_pool_recycle,
    pool_pre_ping=settings.db_pool_pre_ping,
)
Sessions = sessionmaker(engine, expire_on_commit=False)


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def get_session() -> Iterator[Session]:
    with Sessions() as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        else:
            session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
app = FastAPI(title="Ledger (sync variant)")


@app.exception_handler(Refused)
async def refused(request: Request, error: Refused) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    body = {"error": {"code": error.code, "message": error.message}}
    return JSONResponse(body, status_code=error.status, headers=headers)


def current_user(session: SessionDep, authorization: Annotated[str | None, Header()] = None) -> uuid.UUID | None:
    """The user of the bearer token, as the reference checks it; None before lesson 09 (no users)."""
    if security is None:
        return None
    scheme, _, token = (authorization or "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise security.InvalidToken("no bearer token")
        user_id: uuid.UUID = security.decode_access_token(token, settings)
    except security.InvalidToken:
        raise Refused(401, "not_authenticated", "send a valid access token") from None
    if session.get(importlib.import_module("app.models").User, user_id) is None:
        raise Refused(401, "not_authenticated", "send a valid access token")
    return user_id


UserDep = Annotated[uuid.UUID | None, Depends(current_user)]


@app.get("/health")
def health(session: SessionDep) -> dict[str, str]:
    session.execute(select(1))
    return {"status": "ok", "database": "ok"}


@app.get("/api/v1/accounts/{account_id}")
def get_account(account_id: uuid.UUID, session: SessionDep, user_id: UserDep) -> AccountRead:
    account = session.get(Account, account_id)
    if account is None or (user_id is not None and account.user_id != user_id):
        raise Refused(404, "account_not_found", f"account {account_id} does not exist")
    return AccountRead.model_validate(account)


def _lock(session: Session, account_id: uuid.UUID) -> Account:
    statement = select(Account).where(Account.id == account_id).with_for_update()
    account = session.scalars(statement.execution_options(populate_existing=True)).one_or_none()
    if account is None:
        raise Refused(404, "account_not_found", f"account {account_id} does not exist")
    return account


@app.post("/api/v1/transfers", status_code=201)
def create_transfer(
    body: TransferCreate,
    session: SessionDep,
    user_id: UserDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None,
) -> TransferRead:
    source_id, target_id, amount = body.source_id, body.target_id, body.amount
    if source_id == target_id:
        raise Refused(422, "same_account", "the source and target of a transfer must be two different accounts")
    transfer_id = uuid7()
    if idempotency_key is not None:
        asked = f"{user_id}:{source_id}:{target_id}:{amount}" if user_id else f"{source_id}:{target_id}:{amount}"
        fingerprint = hashlib.sha256(asked.encode()).hexdigest()
        claim = (
            insert(IdempotencyKey)
            .values(key=idempotency_key, request_hash=fingerprint, transfer_id=transfer_id)
            .on_conflict_do_nothing(index_elements=[IdempotencyKey.key])
            .returning(IdempotencyKey.key)
        )
        if session.execute(claim).scalar_one_or_none() is None:
            earlier = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == idempotency_key)).one()
            if earlier.request_hash != fingerprint:
                raise Refused(409, "idempotency_conflict", f"the idempotency key {idempotency_key!r} was used")
            source = session.get(Account, source_id)
            if source is None:
                raise Refused(404, "account_not_found", f"account {source_id} does not exist")
            response.headers["Idempotent-Replayed"] = "true"
            return TransferRead(
                transfer_id=earlier.transfer_id,
                source_id=source_id,
                target_id=target_id,
                amount=amount,
                currency=source.currency,
            )
    locked = {account_id: _lock(session, account_id) for account_id in sorted((source_id, target_id))}
    source, target = locked[source_id], locked[target_id]
    if user_id is not None and source.user_id != user_id:
        raise Refused(404, "account_not_found", f"account {source_id} does not exist")
    if source.currency != target.currency:
        raise Refused(422, "currency_mismatch", "the two accounts hold different currencies")
    if source.balance < amount:
        raise Refused(409, "insufficient_funds", f"account {source_id} holds {source.balance}")
    source.balance -= amount
    target.balance += amount
    session.add_all(
        [
            Entry(account_id=source_id, amount=-amount, transfer_id=transfer_id),
            Entry(account_id=target_id, amount=amount, transfer_id=transfer_id),
        ]
    )
    session.flush()
    return TransferRead(
        transfer_id=transfer_id, source_id=source_id, target_id=target_id, amount=amount, currency=source.currency
    )
