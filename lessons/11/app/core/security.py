"""Security: password hashes (pwdlib, Argon2) and access tokens (PyJWT). Nothing here knows HTTP.

Passwords are stored as Argon2id hashes, never as themselves: Argon2 is slow and memory-hard on
purpose, so that whoever steals the table cannot try billions of guesses a second. That cost is
paid on every sign-up and every log-in, in a worker thread, so that the event loop serves other
requests meanwhile.

Access tokens are JWTs signed with HMAC-SHA256 and the service's secret key. A token says who
its holder is (`sub`, the user id) until it expires (`exp`); whoever changes a bit of it breaks
the signature.
"""

import asyncio
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError

from app.core.config import Settings

# Argon2id with pwdlib's recommended parameters. When they change (a new pwdlib, a stronger
# setting), hashes made before are still verified, and replaced at the user's next log-in.
password_hasher = PasswordHash.recommended()

# The one algorithm this service signs with and accepts. Never read it from the token's header:
# an attacker writes that header ("alg": "none", or an algorithm that reads the key differently).
ALGORITHM = "HS256"
# Claims every token must carry; a token without one of them is refused.
REQUIRED_CLAIMS = ["exp", "iat", "sub"]


class InvalidToken(Exception):
    """A token that does not prove who its holder is: malformed, forged, expired, or not for a user."""


@dataclass(frozen=True)
class AccessToken:
    """A signed token, and how many seconds it is good for."""

    token: str
    expires_in: int


@cache
def _dummy_hash() -> str:
    """A hash of a random password, made once per process, with the current parameters."""
    return password_hasher.hash(secrets.token_urlsafe(32))


async def hash_password(password: str) -> str:
    """The Argon2id hash of `password`, with a fresh random salt, computed in a worker thread."""
    return await asyncio.to_thread(password_hasher.hash, password)


def _verify(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """(matches?, a new hash when the stored one was made with other parameters); runs in a worker thread."""
    if password_hash is None:
        # No such user: do the same work as for a real one, so that the answer takes as long.
        password_hasher.verify(password, _dummy_hash())
        return False, None
    try:
        return password_hasher.verify_and_update(password, password_hash)
    except UnknownHashError:
        # A locked account ("!locked"): no password matches. Spend the same time as a real check.
        password_hasher.verify(password, _dummy_hash())
        return False, None


async def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check `password` against a stored hash, in a worker thread.

    Returns (True, None) when it matches, (True, new_hash) when it matches and the hash should
    be replaced (made with older parameters), and (False, None) when it does not match. With
    `password_hash=None` (no such user) it still verifies once, against a dummy hash: an unknown
    email costs as much time as a wrong password, so timing tells an attacker nothing.
    """
    return await asyncio.to_thread(_verify, password, password_hash)


def create_access_token(user_id: uuid.UUID, settings: Settings) -> AccessToken:
    """A token for `user_id`: sub, iat and exp claims, signed with settings.secret_key (HS256)."""
    lifetime = timedelta(minutes=settings.access_token_minutes)
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + lifetime}
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)
    return AccessToken(token=token, expires_in=int(lifetime.total_seconds()))


def decode_access_token(token: str, settings: Settings) -> uuid.UUID:
    """The user id a valid token was issued to; InvalidToken for anything else."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": REQUIRED_CLAIMS},
        )
        return uuid.UUID(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, TypeError) as error:
        raise InvalidToken(str(error)) from None
