"""The benchmark's baseline: the reference's two hot endpoints on Starlette and raw asyncpg.

    LEDGER_DATABASE_URL=… uvicorn loadtest.baseline:app

`GET /api/v1/accounts/{id}` and `POST /api/v1/transfers` with the same rules as the reference
(two accounts, one currency, enough money, rows locked in id order, an optional
Idempotency-Key) and the same JSON, written as directly as asyncpg allows: no ORM, no
dependency injection, no Pydantic. It is how fast this stack can answer; the reference is
measured as a fraction of it.

When the schema has users (lesson 09 on), it checks what the reference checks: a bearer token
signed with LEDGER_SECRET_KEY (HS256, exp required), a user who exists, and the user's own
accounts only (another user's is a 404; money leaves only the user's accounts).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from loadtest.stack import uuid7
from workshop.database import _plain

MAX_AMOUNT = 10**12

SELECT_ACCOUNT = "SELECT id, owner, currency, balance, created_at FROM accounts WHERE id = $1"
SELECT_OWN_ACCOUNT = SELECT_ACCOUNT + " AND user_id = $2"
USER_EXISTS = "SELECT 1 FROM users WHERE id = $1"
CLAIM_KEY = (
    "INSERT INTO idempotency_keys (key, request_hash, transfer_id) VALUES ($1, $2, $3) "
    "ON CONFLICT (key) DO NOTHING RETURNING key"
)
SELECT_KEY = "SELECT request_hash, transfer_id FROM idempotency_keys WHERE key = $1"
LOCK_BOTH = "SELECT id, currency, balance FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE"
LOCK_BOTH_OWNED = LOCK_BOTH.replace("balance FROM", "balance, user_id FROM")
MOVE = (
    "UPDATE accounts SET balance = balance + CASE WHEN id = $1 THEN -$3::bigint ELSE $3::bigint END "
    "WHERE id IN ($1, $2)"
)
ADD_ENTRIES = (
    "INSERT INTO entries (id, account_id, amount, transfer_id) "
    "VALUES ($1, $2, -$3::bigint, $4), ($5, $6, $3::bigint, $4)"
)


class Refused(Exception):
    """A request the rules refuse: rolls the transaction back and answers `status`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        body = {"error": {"code": self.code, "message": self.message}}
        return JSONResponse(body, status_code=self.status, headers=headers)


async def _user(request: Request) -> uuid.UUID | None:
    """The user of the request's bearer token (None when the schema has no users); Refused(401) otherwise."""
    if not request.app.state.users:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise jwt.InvalidTokenError("no bearer token")
        claims = jwt.decode(
            token, os.environ["LEDGER_SECRET_KEY"], algorithms=["HS256"], options={"require": ["exp", "iat", "sub"]}
        )
        user_id = uuid.UUID(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise Refused(401, "not_authenticated", "send a valid access token") from None
    if await request.app.state.pool.fetchval(USER_EXISTS, user_id) is None:
        raise Refused(401, "not_authenticated", "send a valid access token")
    return user_id


def _uuid(value: Any, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Refused(422, "validation_error", f"{field}: not a UUID") from None


def _account(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "owner": row["owner"],
        "currency": row["currency"],
        "balance": row["balance"],
        "created_at": row["created_at"].isoformat(),
    }


async def health(request: Request) -> JSONResponse:
    await request.app.state.pool.fetchval("SELECT 1")
    return JSONResponse({"status": "ok", "database": "ok"})


async def get_account(request: Request) -> JSONResponse:
    try:
        user_id = await _user(request)
        account_id = _uuid(request.path_params["account_id"], "account_id")
        if user_id is None:
            row = await request.app.state.pool.fetchrow(SELECT_ACCOUNT, account_id)
        else:
            row = await request.app.state.pool.fetchrow(SELECT_OWN_ACCOUNT, account_id, user_id)
        if row is None:
            raise Refused(404, "account_not_found", f"account {account_id} does not exist")
    except Refused as refused:
        return refused.response()
    return JSONResponse(_account(row))


async def create_transfer(request: Request) -> JSONResponse:
    try:
        user_id = await _user(request)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise Refused(422, "validation_error", "the body is not JSON") from None
        if not isinstance(body, dict) or set(body) != {"source_id", "target_id", "amount"}:
            raise Refused(422, "validation_error", "expected source_id, target_id and amount")
        source_id, target_id = _uuid(body["source_id"], "source_id"), _uuid(body["target_id"], "target_id")
        amount = body["amount"]
        if type(amount) is not int or not 0 < amount <= MAX_AMOUNT:
            raise Refused(422, "validation_error", "amount: a positive integer of minor units")
        if source_id == target_id:
            raise Refused(422, "same_account", "the source and target of a transfer must be two different accounts")
        key = request.headers.get("idempotency-key")
        async with request.app.state.pool.acquire() as connection, connection.transaction():
            answer, replayed = await _transfer(connection, source_id, target_id, amount, key, user_id)
    except Refused as refused:
        return refused.response()
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(answer, status_code=201, headers=headers)


async def _transfer(
    connection: asyncpg.Connection,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    amount: int,
    key: str | None,
    user_id: uuid.UUID | None,
) -> tuple[dict[str, Any], bool]:
    transfer_id = uuid7()
    if key is not None:
        asked = f"{user_id}:{source_id}:{target_id}:{amount}" if user_id else f"{source_id}:{target_id}:{amount}"
        fingerprint = hashlib.sha256(asked.encode()).hexdigest()
        if await connection.fetchval(CLAIM_KEY, key, fingerprint, transfer_id) is None:
            earlier = await connection.fetchrow(SELECT_KEY, key)
            if earlier["request_hash"] != fingerprint:
                raise Refused(409, "idempotency_conflict", f"the idempotency key {key!r} was already used")
            source = await connection.fetchrow(SELECT_ACCOUNT, source_id)
            if source is None:
                raise Refused(404, "account_not_found", f"account {source_id} does not exist")
            replay = {"transfer_id": str(earlier["transfer_id"]), "currency": source["currency"]}
            return {**_transfer_body(source_id, target_id, amount), **replay}, True
    lock = LOCK_BOTH if user_id is None else LOCK_BOTH_OWNED
    rows = {row["id"]: row for row in await connection.fetch(lock, [source_id, target_id])}
    for account_id in (source_id, target_id):
        if account_id not in rows:
            raise Refused(404, "account_not_found", f"account {account_id} does not exist")
    source, target = rows[source_id], rows[target_id]
    if user_id is not None and source["user_id"] != user_id:
        raise Refused(404, "account_not_found", f"account {source_id} does not exist")
    if source["currency"] != target["currency"]:
        raise Refused(422, "currency_mismatch", "the two accounts hold different currencies")
    if source["balance"] < amount:
        raise Refused(409, "insufficient_funds", f"account {source_id} holds {source['balance']}")
    await connection.execute(MOVE, source_id, target_id, amount)
    await connection.execute(ADD_ENTRIES, uuid7(), source_id, amount, transfer_id, uuid7(), target_id)
    body = _transfer_body(source_id, target_id, amount)
    return {**body, "transfer_id": str(transfer_id), "currency": source["currency"]}, False


def _transfer_body(source_id: uuid.UUID, target_id: uuid.UUID, amount: int) -> dict[str, Any]:
    return {"source_id": str(source_id), "target_id": str(target_id), "amount": amount}


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # The same number of connections the reference may open: pool_size + max_overflow.
    size = int(os.environ.get("LEDGER_DB_POOL_SIZE", "5"))
    overflow = int(os.environ.get("LEDGER_DB_MAX_OVERFLOW", "10"))
    app.state.pool = await asyncpg.create_pool(
        _plain(os.environ["LEDGER_DATABASE_URL"]), min_size=size, max_size=size + overflow
    )
    app.state.users = bool(await app.state.pool.fetchval("SELECT to_regclass('users') IS NOT NULL"))
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/api/v1/accounts/{account_id}", get_account),
        Route("/api/v1/transfers", create_transfer, methods=["POST"]),
    ],
    lifespan=lifespan,
)
