"""Lesson 10 checks, step 2: domain errors and failed commits are logged with the request id; secrets never are."""

import uuid
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from workshop import grading

from .conftest import PASSWORD, SECRET, expect_status, lesson_error, level_of, new_id

pytestmark = pytest.mark.step(2)


async def test_a_domain_error_is_logged_with_its_code_and_request_id(ledger: Any) -> None:
    """Hint: the one DomainError handler is the one place to log them: the code and the status, in `extra`."""
    sent = new_id()
    async with ledger() as served:
        response = await served.http.get("/api/v1/accounts", headers={"X-Request-ID": sent})
        lines = [line for line in served.logs.of(sent) if not {"method", "route"} <= set(line)]
    expect_status(response, 401, "GET /api/v1/accounts without a token", 2)
    assert any("not_authenticated" in str(line.values()) for line in lines), (
        f"Lesson 10: a request refused with the domain error not_authenticated (X-Request-ID {sent}) wrote no log "
        f"line with that code and its request_id besides the access line (its lines: {lines[:3]}); log every domain "
        "error in its handler, with its code (step 2)"
    )


async def test_a_5xx_domain_error_is_logged_as_a_warning_a_client_error_as_info(
    ledger: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: a 5xx says Ledger (or what it depends on) failed: someone should look; a 4xx is the client's doing."""
    quotes, errors = grading.load("app.services.quotes"), grading.load("app.services.errors")

    async def rate_service_down(self: Any, base: str, target: str, amount: int) -> Any:
        raise errors.RateServiceUnavailable("the check's rate service is down")

    monkeypatch.setattr(quotes.QuoteService, "quote", rate_service_down)
    down, refused = new_id(), new_id()
    async with ledger() as served:
        unavailable = await served.http.get(
            "/api/v1/quotes", params={"base": "EUR", "target": "USD", "amount": 100}, headers={"X-Request-ID": down}
        )
        unauthenticated = await served.http.get("/api/v1/accounts", headers={"X-Request-ID": refused})
        levels = {
            code: [level_of(line) for line in served.logs.of(request) if code in str(line.values())]
            for code, request in (("rates_unavailable", down), ("not_authenticated", refused))
        }
    expect_status(unavailable, 503, "a quote while the rate service is down (RateServiceUnavailable)", 2)
    expect_status(unauthenticated, 401, "GET /api/v1/accounts without a token", 2)
    assert levels["rates_unavailable"] and all(
        level in ("WARNING", "ERROR", "CRITICAL") for level in levels["rates_unavailable"]
    ), (
        f"Lesson 10: the domain error rates_unavailable (a 503: the rate service is down) was logged at "
        f"{levels['rates_unavailable'] or 'no level (no line with its code)'}; expected WARNING: a 5xx means Ledger "
        "could not serve, and alerts are set on WARNING and above. Choose the level from the status in "
        "log_domain_error (step 2)"
    )
    assert levels["not_authenticated"] and all(level == "INFO" for level in levels["not_authenticated"]), (
        f"Lesson 10: the domain error not_authenticated (a 401, the client's doing) was logged at "
        f"{levels['not_authenticated'] or 'no level (no line with its code)'}; expected INFO: a 4xx is not Ledger "
        "failing, and warnings for every refused request would bury the real ones (step 2)"
    )


async def test_a_failed_commit_is_logged_as_an_error_with_the_request_id(
    ledger: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: in get_session, around the commit: logger.exception(...) then raise; the 500 stays a 500."""

    async def failing_commit(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", {}, ConnectionResetError("the connection was closed mid-commit"))

    sent = new_id()
    async with ledger(real_sessions=True) as served:
        monkeypatch.setattr(AsyncSession, "commit", failing_commit)
        response = await served.http.post(
            "/api/v1/users",
            json={"email": f"commit-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD},
            headers={"X-Request-ID": sent},
        )
        monkeypatch.undo()
        lines = [line for line in served.logs.of(sent) if not {"method", "route"} <= set(line)]
    assert response.status_code == 500, (
        f"Lesson 10: a sign-up whose commit failed answered {response.status_code}; a commit that fails must stay "
        "a 500 (log it, then raise it again) (step 2)"
    )
    errors = [line for line in lines if level_of(line) in ("ERROR", "CRITICAL")]
    assert errors, (
        f"Lesson 10: a commit that failed (X-Request-ID {sent}) wrote no ERROR line with its request_id "
        f"(its lines: {lines[:3]}); log it in get_session, at ERROR level, before raising it again (step 2)"
    )
    assert PASSWORD not in served.logs.text, "Lesson 10: the sign-up's password is in a log line (step 2)"


DATABASE_PASSWORD = "database-password-never-logged"


def with_a_password(url: str) -> tuple[str, str]:
    """The database URL with a password in it (the check's sessions never connect with it), and that password."""
    parsed = make_url(url)
    if parsed.password:
        return url, str(parsed.password)
    return parsed.set(password=DATABASE_PASSWORD).render_as_string(hide_password=False), DATABASE_PASSWORD


async def test_no_password_token_secret_or_hash_reaches_a_log_line(
    ledger: Any, app_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hint: log ids, codes and numbers; never headers, bodies, settings, or the objects that hold them."""
    email = f"secret-{uuid.uuid4().hex[:8]}@example.com"
    database_url, database_password = with_a_password(app_env)
    async with ledger(log_level="DEBUG", database_url=database_url) as served:
        http = served.http
        expect_status(await http.post("/api/v1/users", json={"email": email, "password": PASSWORD}), 201, "sign-up", 2)
        token_response = await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        expect_status(token_response, 200, "log-in", 2)
        token = token_response.json()["access_token"]
        await http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        await http.get("/api/v1/accounts", headers={"Authorization": f"Bearer {token}x"})
        await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD + "!"})
        text = served.logs.text
    printed = capsys.readouterr()  # what was logged while the app started, before the check read its logs
    text = printed.out + printed.err + text
    found = {
        "the password": PASSWORD in text,
        "an access token": token in text or token.split(".")[2] in text,
        "the secret key": SECRET in text,
        "an Argon2 hash": "$argon2" in text,
        "the database's password": database_password in text,
    }
    leaked = [what for what, present in found.items() if present]
    if leaked:
        secrets = (PASSWORD, token.split(".")[2], "$argon2", SECRET, database_password)
        line = next(line for line in text.splitlines() if any(secret in line for secret in secrets))
        at = min(line.find(secret) for secret in secrets if secret in line)
        shown = ("…" if at > 150 else "") + line[max(0, at - 150) : at + 150] + ("…" if at + 150 < len(line) else "")
        raise lesson_error(
            f"{' and '.join(leaked)} reached a log line: {shown}. Logs are read by many people and kept for "
            "months: log ids, codes and numbers, never headers, bodies or credentials (step 2)"
        )
    refusals = [code for code in ("not_authenticated", "invalid_credentials") if code not in text]
    assert not refusals, (
        f"Lesson 10: no secret reached a log line, but no line names {' or '.join(refusals)} either: the bad token "
        "and the wrong password were refused without a trace, so this check cannot tell whether the lines of a "
        "refusal leak what the client sent. Log every domain error, with its code (step 2)"
    )
