"""Signing up and logging in over HTTP: what a client gets back, and what it never learns.

These tests hash real passwords (a tenth of a second each): they are the only ones that do.
"""

import httpx
import jwt
import pytest

from app.core.config import Settings

PASSWORD = "correct horse battery staple"


async def sign_up(guest: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await guest.post("/api/v1/users", json={"email": email, "password": password})


async def log_in(guest: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await guest.post("/api/v1/auth/token", data={"username": email, "password": password})


async def test_signing_up_answers_the_user_without_any_password(guest: httpx.AsyncClient) -> None:
    response = await sign_up(guest, "ada@example.com")

    assert response.status_code == 201
    assert set(response.json()) == {"id", "email", "created_at"}
    assert PASSWORD not in response.text and "argon2" not in response.text


async def test_an_email_is_taken_whatever_its_case(guest: httpx.AsyncClient) -> None:
    await sign_up(guest, "Ada@Example.com")

    response = await sign_up(guest, "ada@example.COM")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"


async def test_a_token_from_logging_in_identifies_the_user(guest: httpx.AsyncClient) -> None:
    user = (await sign_up(guest, "Ada@Example.com")).json()

    token = await log_in(guest, "ada@example.com")
    me = await guest.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})

    assert token.status_code == 200 and token.json()["token_type"] == "bearer"
    assert token.headers["cache-control"] == "no-store"
    assert me.json() == user


@pytest.mark.parametrize("email", ["ada@example.com", "nobody@example.com"])
async def test_a_wrong_password_and_an_unknown_email_answer_the_same(guest: httpx.AsyncClient, email: str) -> None:
    await sign_up(guest, "ada@example.com")

    response = await log_in(guest, email, "not the password at all")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "error": {"code": "invalid_credentials", "message": "the email or the password is wrong"}
    }


async def test_a_token_lives_as_long_as_the_settings_say(guest: httpx.AsyncClient, settings: Settings) -> None:
    await sign_up(guest, "ada@example.com")

    token = (await log_in(guest, "ada@example.com")).json()

    claims = jwt.decode(token["access_token"], settings.secret_key.get_secret_value(), algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == token["expires_in"] == settings.access_token_minutes * 60


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        jwt.encode({"sub": "x", "iat": 0, "exp": 1}, "tests-only-not-a-secret-but-32-bytes-long", algorithm="HS256"),
        jwt.encode({"sub": "x", "iat": 0, "exp": 4102444800}, "another-key-another-key-another-key", algorithm="HS256"),
    ],
    ids=["malformed", "expired", "another-key"],
)
async def test_a_bad_token_answers_401_invalid_token(guest: httpx.AsyncClient, token: str) -> None:
    response = await guest.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
