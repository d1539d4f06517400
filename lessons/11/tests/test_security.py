"""app/core/security.py on its own: password hashes and access tokens, without HTTP or a database."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import SecretStr

from app.core import security
from app.core.config import Environment, Settings

PASSWORD = "correct horse battery staple"


async def test_a_hash_is_salted_argon2id_and_never_the_password() -> None:
    first, second = await security.hash_password(PASSWORD), await security.hash_password(PASSWORD)

    assert first.startswith("$argon2id$") and PASSWORD not in first
    assert first != second  # a salt of its own: equal passwords do not show as equal hashes


async def test_verify_accepts_the_password_and_refuses_any_other() -> None:
    stored = await security.hash_password(PASSWORD)

    assert await security.verify_password(PASSWORD, stored) == (True, None)
    assert await security.verify_password(PASSWORD.upper(), stored) == (False, None)


async def test_a_hash_made_with_weaker_parameters_is_replaced_on_a_match() -> None:
    old = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024),)).hash(PASSWORD)

    matches, new_hash = await security.verify_password(PASSWORD, old)

    assert matches and new_hash is not None and new_hash != old
    assert await security.verify_password(PASSWORD, new_hash) == (True, None)


@pytest.mark.parametrize("stored", [None, "!locked"], ids=["no-user", "locked"])
async def test_nothing_matches_a_missing_or_locked_hash(stored: str | None) -> None:
    assert await security.verify_password(PASSWORD, stored) == (False, None)


def test_a_token_names_its_user_until_it_expires(settings: Settings) -> None:
    user_id = uuid.uuid4()

    issued = security.create_access_token(user_id, settings)

    assert security.decode_access_token(issued.token, settings) == user_id
    assert issued.expires_in == settings.access_token_minutes * 60


def forged(settings: Settings, how: str) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(uuid.uuid4()), "iat": now, "exp": now + timedelta(minutes=5)}
    key = settings.secret_key.get_secret_value()
    match how:
        case "expired":
            return jwt.encode({**claims, "exp": now - timedelta(seconds=1)}, key, algorithm="HS256")
        case "another-key":
            return jwt.encode(claims, "someone-else's-key-of-32-bytes-or-more", algorithm="HS256")
        case "alg-none":
            return jwt.encode(claims, None, algorithm="none")
        case "no-exp":
            return jwt.encode({"sub": claims["sub"], "iat": now}, key, algorithm="HS256")
        case "tampered":
            header, _, signature = jwt.encode(claims, key, algorithm="HS256").split(".")
            other = jwt.encode({**claims, "sub": str(uuid.uuid4())}, key, algorithm="HS256").split(".")[1]
            return ".".join([header, other, signature])
    return "not.a.token"


@pytest.mark.parametrize("how", ["expired", "another-key", "alg-none", "no-exp", "tampered", "malformed"])
def test_a_token_that_proves_nothing_is_refused(settings: Settings, how: str) -> None:
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(forged(settings, how), settings)


def test_the_default_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValueError, match="LEDGER_SECRET_KEY"):
        Settings(environment=Environment.PRODUCTION, secret_key=SecretStr("change-me-in-production"))
