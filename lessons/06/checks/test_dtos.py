"""Lesson 06 checks, step 1: the DTOs say what the API accepts and what it returns.

These checks use your schemas directly, without the app: `Model.model_validate_json(...)` reads
JSON exactly as the request body arrives.
"""

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from pydantic import BaseModel, ValidationError

from workshop.grading import load

pytestmark = pytest.mark.step(1)


def one_line(error: Exception) -> str:
    """An error's text on one line: a check's message is shown by its first line."""
    return " ".join(str(error).split())[:300]


def refuses(model: type[BaseModel], payload: dict[str, object]) -> bool:
    try:
        model.model_validate_json(json.dumps(payload))
    except ValidationError:
        return True
    return False


def test_account_create_refuses_a_bad_owner_or_currency() -> None:
    """Hint: `Field(min_length=…, max_length=…)` for the owner; `Field(pattern=r"^[A-Z]{3}$")` for the currency."""
    AccountCreate = load("app.schemas.accounts").AccountCreate
    for owner, currency in (("Ada Lovelace", "EUR"), ("A" * 100, "CHF")):
        try:
            good = AccountCreate.model_validate_json(json.dumps({"owner": owner, "currency": currency}))
        except ValidationError as error:
            raise AssertionError(
                f"Lesson 06: AccountCreate refused owner {owner[:12]!r} ({len(owner)} characters) and currency "
                f"{currency!r}: {one_line(error)} (step 1)"
            ) from None
        assert (good.owner, good.currency) == (owner, currency), (
            f"Lesson 06: AccountCreate read owner and currency as {good.owner!r}, {good.currency!r} (step 1)"
        )
    bad = {
        "an empty owner": {"owner": "", "currency": "EUR"},
        "an owner of spaces only": {"owner": "   ", "currency": "EUR"},
        "an owner of 101 characters": {"owner": "A" * 101, "currency": "EUR"},
        "an owner with a NUL byte (PostgreSQL's text cannot store it)": {"owner": "Ada\u0000", "currency": "EUR"},
        "a lower-case currency": {"owner": "Ada", "currency": "eur"},
        "a four-letter currency": {"owner": "Ada", "currency": "EURO"},
        "a missing currency": {"owner": "Ada"},
    }
    accepted = [name for name, payload in bad.items() if not refuses(AccountCreate, payload)]
    assert not accepted, (
        f"Lesson 06: AccountCreate accepted {', '.join(accepted)}; owner is 1 to 100 characters (stripped, "
        "without control characters) and currency three upper-case letters (step 1)"
    )


def test_amounts_are_strict_positive_integers() -> None:
    """Hint: `Annotated[int, Field(strict=True, gt=0)]`: strict mode refuses "10" and 10.5, never converts them."""
    accounts, transfers = load("app.schemas.accounts"), load("app.schemas.transfers")
    ids = {"source_id": str(uuid.uuid4()), "target_id": str(uuid.uuid4())}
    for model, extra in ((accounts.DepositCreate, {}), (transfers.TransferCreate, ids)):
        try:
            taken = model.model_validate_json(json.dumps({**extra, "amount": 1050})).amount
        except ValidationError as error:
            raise AssertionError(
                f"Lesson 06: {model.__name__} refused amount 1050: {one_line(error)} (step 1)"
            ) from None
        assert taken == 1050 and type(taken) is int, (
            f"Lesson 06: {model.__name__} read amount 1050 as {taken!r}; keep it an int (step 1)"
        )
        bad = {"0": 0, "-5": -5, "10.5": 10.5, '"10"': "10", '"10.5"': "10.5", "true": True}
        accepted = [shown for shown, amount in bad.items() if not refuses(model, {**extra, "amount": amount})]
        assert not accepted, (
            f"Lesson 06: {model.__name__} accepted amount {', '.join(accepted)}; an amount is a positive int "
            "of minor units, and strict=True refuses strings, floats and booleans (step 1)"
        )


def test_request_models_forbid_unknown_fields() -> None:
    """Hint: `model_config = ConfigDict(extra="forbid")` turns a typo into an error instead of a silently lost value."""
    accounts, transfers = load("app.schemas.accounts"), load("app.schemas.transfers")
    typos = {
        accounts.AccountCreate: {"owner": "Ada", "currency": "EUR", "balance": 100},
        accounts.DepositCreate: {"amount": 10, "ammount": 10},
        transfers.TransferCreate: {
            "source_id": str(uuid.uuid4()),
            "target_id": str(uuid.uuid4()),
            "amount": 10,
            "memo": "rent",
        },
    }
    accepted = [model.__name__ for model, payload in typos.items() if not refuses(model, payload)]
    assert not accepted, (
        f"Lesson 06: {', '.join(accepted)} accepted a field it does not have; forbid extra fields (step 1)"
    )


def test_transfer_create_refuses_ids_that_are_not_uuids() -> None:
    """Hint: type the ids `uuid.UUID`; Pydantic parses the string and refuses anything else."""
    TransferCreate = load("app.schemas.transfers").TransferCreate
    payload = {"source_id": "42", "target_id": str(uuid.uuid4()), "amount": 10}
    assert refuses(TransferCreate, payload), "Lesson 06: TransferCreate accepted source_id '42' (step 1)"
    good = TransferCreate.model_validate_json(json.dumps({**payload, "source_id": str(uuid.UUID(int=1))}))
    assert good.source_id == uuid.UUID(int=1), (
        f"Lesson 06: TransferCreate read source_id as {good.source_id!r}; type it uuid.UUID (step 1)"
    )


def test_read_models_are_built_from_the_services_objects() -> None:
    """Hint: `ConfigDict(from_attributes=True)` lets `AccountRead.model_validate(account)` read attributes."""
    accounts, transfers = load("app.schemas.accounts"), load("app.schemas.transfers")
    now = datetime.now(UTC)
    account = SimpleNamespace(id=uuid.uuid4(), owner="Ada", currency="EUR", balance=1050, created_at=now, entries=[])
    try:
        read = accounts.AccountRead.model_validate(account).model_dump(mode="json")
    except ValidationError as error:
        raise AssertionError(
            f"Lesson 06: AccountRead cannot be built from an object with attributes: {one_line(error)} (step 1)"
        ) from None
    assert set(read) == {"id", "owner", "currency", "balance", "created_at"} and read["balance"] == 1050, (
        f"Lesson 06: AccountRead shows {read}; expected id, owner, currency, balance and created_at (step 1)"
    )
    result = SimpleNamespace(
        transfer_id=uuid.uuid4(),
        source_id=uuid.uuid4(),
        target_id=uuid.uuid4(),
        amount=7,
        currency="EUR",
        replayed=False,
    )
    try:
        shown = transfers.TransferRead.model_validate(result).model_dump(mode="json")
    except ValidationError as error:
        raise AssertionError(
            f"Lesson 06: TransferRead cannot be built from a TransferResult: {one_line(error)} (step 1)"
        ) from None
    assert set(shown) == {"transfer_id", "source_id", "target_id", "amount", "currency"} and shown.get(
        "transfer_id"
    ) == str(result.transfer_id), (
        f"Lesson 06: TransferRead shows {shown}; expected transfer_id, source_id, target_id, amount and currency, "
        "nothing else: a replay must show the same body as the first answer, so no `replayed` (step 1)"
    )


def test_a_page_holds_its_items_with_the_limit_and_offset() -> None:
    """Hint: `class Page(BaseModel, Generic[T])` with `items: list[T]`; `Page[AccountRead]` is a model of its own."""
    common, accounts = load("app.schemas.common"), load("app.schemas.accounts")
    item = {"id": str(uuid.uuid4()), "owner": "Ada", "currency": "EUR", "balance": 0, "created_at": "2026-01-01T00:00Z"}
    page = common.Page[accounts.AccountRead].model_validate({"items": [item], "limit": 10, "offset": 20})
    dumped = page.model_dump(mode="json")
    assert dumped.get("limit") == 10 and dumped.get("offset") == 20 and len(dumped.get("items", [])) == 1, (
        f"Lesson 06: Page[AccountRead] dumped {dumped}; expected items, limit and offset (step 1)"
    )
    assert isinstance(page.items[0], accounts.AccountRead), (
        f"Lesson 06: Page[AccountRead].items holds {type(page.items[0]).__name__}; type it list[T] (step 1)"
    )


def test_the_error_body_nests_a_code_and_a_message() -> None:
    """Hint: `ErrorBody(error=ErrorDetail(code=…, message=…))`; the list of field problems is optional."""
    common = load("app.schemas.common")
    try:
        body = common.ErrorBody(error=common.ErrorDetail(code="insufficient_funds", message="not enough money"))
    except ValidationError as error:
        raise AssertionError(
            "Lesson 06: ErrorDetail(code=…, message=…) without details is refused; only a validation error lists "
            f"field problems, so details defaults to None. Pydantic said: {one_line(error)} (step 1)"
        ) from None
    dumped = body.model_dump(mode="json", exclude_none=True)
    assert dumped == {"error": {"code": "insufficient_funds", "message": "not enough money"}}, (
        f"Lesson 06: ErrorBody dumped {dumped}; expected {{'error': {{'code': …, 'message': …}}}} with nothing "
        "else required (step 1)"
    )
