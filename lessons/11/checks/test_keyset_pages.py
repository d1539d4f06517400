"""Lesson 11 checks, step 4: v2's lists are keyset pages behind an opaque, signed cursor.

Ada (and Grace) open accounts through v1; the checks page through GET /api/v2/accounts. Cursors the
checks forge are made with your own `Cursors` class, with another key: only your secret makes a
cursor your service accepts.
"""

import ast
import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop import grading
from workshop.grading import load
from workshop.statements import statements_sent, summary

from .conftest import SECRET, Ledger, SignedIn, expect_status, explain, json_of, lesson_error, open_accounts, signed_in

pytestmark = pytest.mark.step(4)

LIST = "/api/v2/accounts"


async def page(http: httpx.AsyncClient, who: SignedIn, limit: int, cursor: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor is not None else {})
    response = await http.get(LIST, params=params, headers=who.headers)
    expect_status(response, 200, f"GET {LIST}?limit={limit}{'&cursor=…' if cursor else ''}", 3, "with a page")
    body = json_of(response)
    if not isinstance(body, dict) or not isinstance(body.get("items"), list) or "next_cursor" not in body:
        raise lesson_error(f"GET {LIST} answered {response.text[:200]}; expected {{items, next_cursor}} (step 4)")
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [str(item.get("id")) for item in body["items"]]


async def walk(http: httpx.AsyncClient, who: SignedIn, limit: int) -> list[list[str]]:
    """Every page, following next_cursor until it is null (at most 10 pages)."""
    pages, cursor = [], None
    for _ in range(10):
        body = await page(http, who, limit, cursor)
        pages.append(ids(body))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return pages


async def test_following_the_cursors_lists_every_account_once_newest_first(ledger: Ledger) -> None:
    """Hint: `WHERE id < :after ORDER BY id DESC LIMIT :limit`, and the next cursor from the page's last id."""
    async with ledger() as http:
        ada = await signed_in(http, "ada")
        opened = await open_accounts(http, ada, 5)
        pages = await walk(http, ada, 2)
    listed = [account for found in pages for account in found]
    expected = list(reversed(opened))
    assert not pages or pages[-1], (
        f"Lesson 11: following next_cursor with limit=2 through Ada's 5 accounts ended on an empty page ({pages}): "
        "the page before it, with fewer than `limit` items, is the last one, and its next_cursor is null (step 4)"
    )
    assert listed == expected, (
        f"Lesson 11: Ada has 5 accounts; following next_cursor with limit=2 gave pages {pages}; expected "
        f"{[expected[0:2], expected[2:4], expected[4:]]}: every account once (none repeated, none skipped), newest "
        "first (step 4)"
    )


async def test_pages_stay_stable_while_accounts_are_opened(ledger: Ledger) -> None:
    """Hint: a cursor names the last row seen, not a count of rows: new rows in front of it move nothing."""
    async with ledger() as http:
        ada = await signed_in(http, "ada")
        opened = await open_accounts(http, ada, 4)
        first = await page(http, ada, 2)
        await open_accounts(http, ada, 2)  # opened by another client between two pages
        second = await page(http, ada, 2, first["next_cursor"])
    expected = list(reversed(opened))
    assert ids(first) == expected[:2] and ids(second) == expected[2:], (
        f"Lesson 11: page 1 was {ids(first)}; after two accounts were opened, page 2 was {ids(second)}; expected "
        f"{expected[2:]}: the accounts after page 1's last one, none repeated or skipped. An offset shifts when rows "
        "are inserted in front of it; a keyset cursor does not (step 4)"
    )


async def test_a_page_is_found_by_key_not_by_offset(ledger: Ledger, db_connection: AsyncConnection) -> None:
    """Hint: no OFFSET: the database walks the index from the cursor's id, and each page costs the same."""
    async with ledger() as http:
        ada = await signed_in(http, "ada")
        await open_accounts(http, ada, 3)
        first = await page(http, ada, 1)
        with statements_sent(db_connection) as sent:
            await page(http, ada, 1, first["next_cursor"])
    offsets = [summary(statement) for statement in sent if "OFFSET" in statement.upper()]
    assert not offsets, (
        f"Lesson 11: page 2 of GET {LIST} sent {offsets[0]}: an OFFSET reads and throws away every row before the "
        "page, and moves when rows are inserted. Find the page by key: WHERE id < the cursor's id (step 4)"
    )


async def test_pages_hold_only_the_users_own_accounts(ledger: Ledger) -> None:
    """Hint: every page filters WHERE user_id = the service's user, the first and every one after it."""
    async with ledger() as http:
        ada, grace = await signed_in(http, "ada"), await signed_in(http, "grace")
        hers = []
        for _ in range(3):
            hers += await open_accounts(http, ada, 1)
            await open_accounts(http, grace, 1)
        pages = await walk(http, ada, 1)
    listed = [account for found in pages for account in found]
    strangers = [account for account in listed if account not in hers]
    assert not strangers, (
        f"Lesson 11: following Ada's cursors listed {len(strangers)} account(s) of another user: the query after a "
        "cursor lost the WHERE user_id filter. Every page is the user's own (step 4)"
    )


def forged(user_id: str, after: str) -> str:
    """A cursor made with your Cursors class, but with a key that is not the service's."""
    cursors = load("app.services.pages").Cursors(
        SecretStr("a key nobody was given, long enough anyway"), _uuid(user_id)
    )
    return str(cursors.issue(_uuid(after)))


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)


async def test_a_cursor_signed_with_another_key_is_refused(ledger: Ledger) -> None:
    """Hint: `read()` recomputes the HMAC of the payload and compares it with hmac.compare_digest."""
    async with ledger() as http:
        ada = await signed_in(http, "ada")
        opened = await open_accounts(http, ada, 3)
        response = await http.get(LIST, params={"cursor": forged(ada.id, opened[-1])}, headers=ada.headers)
    assert response.status_code == 422, (
        f"Lesson 11: GET {LIST} with a cursor made with another key answered {explain(response)}; expected 422: "
        "a cursor only the service can make cannot be forged. Sign it with an HMAC of the secret key and check it "
        "(step 4)"
    )


async def test_a_forged_cursor_reads_no_other_users_account(ledger: Ledger) -> None:
    """Hint: a cursor is checked (signature, then user) before anything in it is used."""
    async with ledger() as http:
        ada, grace = await signed_in(http, "ada"), await signed_in(http, "grace")
        theirs = await open_accounts(http, grace, 2)
        response = await http.get(
            LIST, params={"cursor": forged(grace.id, "ffffffff-ffff-7fff-bfff-ffffffffffff")}, headers=ada.headers
        )
    body = json_of(response)
    seen = [str(item.get("id")) for item in body.get("items", [])] if isinstance(body, dict) else []
    assert not set(seen) & set(theirs), (
        f"Lesson 11: with a cursor forged for Grace, Ada's token read Grace's accounts "
        f"{sorted(set(seen) & set(theirs))}: "
        "whatever a client puts in a cursor, the page is the token's user's (step 4)"
    )
    assert response.status_code == 422, (
        f"Lesson 11: GET {LIST} with a forged cursor answered {explain(response)}; expected 422 (step 4)"
    )


async def test_another_users_cursor_is_refused(ledger: Ledger) -> None:
    """Hint: the cursor names the user it was issued to; `read()` refuses it for anyone else."""
    async with ledger() as http:
        ada, grace = await signed_in(http, "ada"), await signed_in(http, "grace")
        await open_accounts(http, grace, 2)
        await open_accounts(http, ada, 2)
        graces = await page(http, grace, 1)
        response = await http.get(LIST, params={"cursor": graces["next_cursor"]}, headers=ada.headers)
    assert response.status_code == 422, (
        f"Lesson 11: Ada sent Grace's next_cursor and got {explain(response)}; expected 422: a cursor belongs to "
        "the listing, and the user, it was issued for (step 4)"
    )


def signed(payload: bytes) -> str:
    """`payload` in a cursor's shape, signed with the service's own key (SECRET): only its content is wrong."""
    import base64
    import uuid

    cursors = load("app.services.pages").Cursors(SecretStr(SECRET), uuid.uuid4())

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{b64(payload)}.{b64(cursors._mac(payload))}"


async def test_a_malformed_cursor_is_a_422_not_a_500(ledger: Ledger) -> None:
    """Hint: a cursor is input: whatever fails in reading it (split, base64, JSON, a key, a UUID) is InvalidCursor."""
    async with ledger() as http:
        ada = await signed_in(http, "ada")
        malformed = {
            "without a dot": "abc",
            "with two dots": "a.b.c",
            "signed, not JSON": signed(b"not json"),
            "signed, a JSON list": signed(b"[1, 2]"),
            "signed, without its keys": signed(b"{}"),
            "signed, an id that is no UUID": signed(json.dumps({"u": ada.id, "b": "not-a-uuid"}).encode()),
        }
        answered = {
            what: await http.get(LIST, params={"cursor": cursor}, headers=ada.headers)
            for what, cursor in malformed.items()
        }
    wrong = [
        f"a cursor {what}: {explain(response)[:150]}"
        for what, response in answered.items()
        if response.status_code != 422
    ]
    assert not wrong, (
        f"Lesson 11: GET {LIST} answered a malformed cursor with something other than 422: "
        f"{'; '.join(wrong)}. A cursor is input, and input never becomes a 500: every way of failing to read "
        "one is InvalidCursor, 422 invalid_cursor (step 4)"
    )


def test_the_cursors_mac_is_compared_in_constant_time() -> None:
    """Hint: `==` on bytes stops at the first byte that differs; `hmac.compare_digest` takes the same time."""
    grading.require_finished(["app/services/pages.py"], "how a cursor's MAC is compared is graded", 4)
    path = grading.folder() / "app" / "services" / "pages.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    digest_calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "compare_digest"
    ]
    macs_compared = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops)
        and any(
            isinstance(side, ast.Call) and getattr(side.func, "attr", None) in {"_mac", "digest", "hexdigest"}
            for side in [node.left, *node.comparators]
        )
    ]
    where = f"lessons/{grading.lesson()}/app/services/pages.py"
    assert digest_calls and not macs_compared, (
        f"Lesson 11: {where}"
        + (f":{macs_compared[0]} compares a MAC with == or !=" if macs_compared else " never calls compare_digest")
        + ": an early-exit comparison answers sooner the fewer leading bytes of a forged MAC are right, and "
        "that timing lets an attacker forge one byte by byte. Compare with hmac.compare_digest (step 4)"
    )
