"""Lesson 09 checks, step 3: access tokens are JWTs signed with the settings' secret, and decoding trusts nothing else.

These call `create_access_token` and `decode_access_token` of app/core/security.py directly, with
Settings built here. The forged tokens (conftest.py, `forge`) are what an attacker, or a clock, sends.
"""

import uuid
from typing import Any

import jwt
import pytest

from workshop.grading import load

from .conftest import FORGED_WHAT, FORGERIES, SECRET, forge, lesson_error

pytestmark = [pytest.mark.step(3), pytest.mark.usefixtures("clean_env")]  # no LEDGER_* variables, no .env


def settings(**overrides: Any) -> Any:
    config = load("app.core.config")
    return config.Settings(environment="test", secret_key=SECRET, **overrides)


def issue(user_id: uuid.UUID, **overrides: Any) -> Any:
    issued = load("app.core.security").create_access_token(user_id, settings(**overrides))
    if not isinstance(getattr(issued, "token", None), str):
        raise lesson_error(f"create_access_token() returned {issued!r}; expected an AccessToken (step 3)")
    return issued


def test_a_token_is_a_jwt_signed_with_the_secret_of_the_settings() -> None:
    """Hint: `jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)`."""
    user_id = uuid.uuid4()
    token = issue(user_id).token
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise lesson_error(f"create_access_token() returned {token[:40]!r}, which is not a JWT (step 3)") from None
    assert header.get("alg") == "HS256", f"Lesson 09: the token is signed with {header.get('alg')}; use HS256 (step 3)"
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    except jwt.InvalidSignatureError:
        raise lesson_error(
            "the token's signature does not verify with settings.secret_key: it was signed with another key (a "
            "constant, a default). Sign with settings.secret_key.get_secret_value(), the key production sets "
            "(step 3)"
        ) from None
    assert claims.get("sub") == str(user_id), (
        f"Lesson 09: the token's sub is {claims.get('sub')!r}; expected the user id as a string, {str(user_id)!r} "
        "(step 3)"
    )
    assert isinstance(claims.get("iat"), int) and isinstance(claims.get("exp"), int), (
        f"Lesson 09: the token carries {sorted(claims)}; it needs iat (issued at) and exp (expires) (step 3)"
    )


def test_the_token_lifetime_comes_from_the_settings() -> None:
    """Hint: `timedelta(minutes=settings.access_token_minutes)`; expires_in is that, in seconds."""
    issued = issue(uuid.uuid4(), access_token_minutes=7)
    # The signature has a check of its own; this one reads the claims whatever key signed them.
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    lifetime = claims["exp"] - claims["iat"]
    assert lifetime == 7 * 60, (
        f"Lesson 09: with access_token_minutes=7 the token lives {lifetime} s (exp - iat); expected 420. Read the "
        "lifetime from the settings, so production can shorten it without a release (step 3)"
    )
    assert issued.expires_in == 7 * 60, (
        f"Lesson 09: with access_token_minutes=7, expires_in is {issued.expires_in}; expected 420: OAuth2's "
        "expires_in counts seconds (step 3)"
    )


def test_a_valid_token_decodes_to_its_user() -> None:
    """Hint: `uuid.UUID(claims["sub"])`."""
    user_id = uuid.uuid4()
    found = load("app.core.security").decode_access_token(issue(user_id).token, settings())
    assert found == user_id and isinstance(found, uuid.UUID), (
        f"Lesson 09: decode_access_token(a token for {user_id}) returned {found!r}; expected that id as a "
        "uuid.UUID (step 3)"
    )


@pytest.mark.parametrize("how", FORGERIES)
def test_a_token_that_proves_nothing_is_refused(how: str) -> None:
    """Hint: `jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})`, inside a try."""
    security = load("app.core.security")
    token = forge(how)
    try:
        found = security.decode_access_token(token, settings())
    except security.InvalidToken:
        return
    except NotImplementedError:
        raise
    except Exception as error:
        raise lesson_error(
            f"decode_access_token({FORGED_WHAT[how]}) raised {type(error).__name__} ({error}), which no handler "
            "turns into a 401: a 500 for anyone who sends garbage. Turn every jwt.InvalidTokenError, and a sub that "
            "is no UUID, into InvalidToken (step 3)"
        ) from None
    raise lesson_error(
        f"decode_access_token() accepted {FORGED_WHAT[how]} and returned {found!r}: whoever sends it is taken for "
        f"that user. Pin algorithms=[ALGORITHM], require {['exp', 'iat', 'sub']}, and let PyJWT check the "
        "signature and exp (step 3)"
    )
