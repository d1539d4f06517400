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
    raise NotImplementedError("Lesson 09: hash with password_hasher.hash in a worker thread: await asyncio.to_thread(…) (step 2)")


def _verify(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """(matches?, a new hash when the stored one was made with other parameters); runs in a worker thread."""
    raise NotImplementedError("Lesson 09: verify_and_update against the hash, or against _dummy_hash() when there is none; a hash no hasher knows matches nothing (step 2)")


async def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check `password` against a stored hash, in a worker thread.

    Returns (True, None) when it matches, (True, new_hash) when it matches and the hash should
    be replaced (made with older parameters), and (False, None) when it does not match. With
    `password_hash=None` (no such user) it still verifies once, against a dummy hash: an unknown
    email costs as much time as a wrong password, so timing tells an attacker nothing.
    """
    raise NotImplementedError("Lesson 09: run _verify in a worker thread (step 2)")


def create_access_token(user_id: uuid.UUID, settings: Settings) -> AccessToken:
    """A token for `user_id`: sub, iat and exp claims, signed with settings.secret_key (HS256)."""
    raise NotImplementedError("Lesson 09: sign {\"sub\", \"iat\", \"exp\"} with jwt.encode(…, settings.secret_key.get_secret_value(), algorithm=ALGORITHM); exp is settings.access_token_minutes from now (step 3)")


def decode_access_token(token: str, settings: Settings) -> uuid.UUID:
    """The user id a valid token was issued to; InvalidToken for anything else."""
    raise NotImplementedError("Lesson 09: jwt.decode with algorithms=[ALGORITHM] and options={\"require\": REQUIRED_CLAIMS}; every jwt.InvalidTokenError, and a sub that is no UUID, becomes InvalidToken (step 3)")
