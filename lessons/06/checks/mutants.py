"""Lesson 06's mutants: wrong routers, DTOs and handlers a reviewer would reject, each caught by the checks it names.

`uv run workshop verify 06` plants each one in a copy of the solution and proves that the named
checks fail with a `Lesson 06:` message containing `says`. Grouped by README step.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

ACCOUNTS_ROUTER = "app/routers/v1/accounts.py"
TRANSFERS_ROUTER = "app/routers/v1/transfers.py"
ERRORS = "app/routers/errors.py"
PROVIDERS = "app/dependencies/services.py"
MAIN = "app/main.py"

OPEN_ACCOUNT_DECORATOR = '    "",\n    status_code=status.HTTP_201_CREATED,\n    summary="Open an account",\n'
GET_ACCOUNT_BODY = "    return AccountRead.model_validate(await accounts.get(account_id))\n"
TRANSFER_CALL = (
    "    result = await transfers.transfer(\n"
    "        source_id=body.source_id,\n"
    "        target_id=body.target_id,\n"
    "        amount=body.amount,\n"
    "        idempotency_key=idempotency_key,\n"
    "    )\n"
)
REPLAY_HEADER = '    if result.replayed:\n        response.headers[REPLAYED_HEADER] = "true"\n'
STATUS_MATCH = """    match error:
        case AccountNotFound():
            return status.HTTP_404_NOT_FOUND
        case InsufficientFunds() | IdempotencyConflict():
            return status.HTTP_409_CONFLICT
        case InvalidAmount() | SameAccount() | CurrencyMismatch():
            return status.HTTP_422_UNPROCESSABLE_CONTENT
        case _:  # a rule the service added later: refused, but not the client's syntax
            return status.HTTP_422_UNPROCESSABLE_CONTENT
"""
VALIDATION_ANSWER = (
    '    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)\n'
)

STEP_1 = [
    Mutant(
        "deposit-amount-lax-int",
        path="app/schemas/accounts.py",
        find="    amount: Amount\n",
        replace="    amount: int = Field(gt=0, le=MAX_AMOUNT)\n",
        killed_by=["test_amounts_are_strict_positive_integers"],
        says="strict=True refuses strings",
        why='a lax int turns "10" and 10.0 into money: a client bug becomes a payment instead of a 422',
    ),
    Mutant(
        "transfer-amount-float",
        path="app/schemas/transfers.py",
        find="    amount: Amount\n",
        replace="    amount: float = Field(gt=0)\n",
        killed_by=["test_amounts_are_strict_positive_integers"],
        says="keep it an int",
        why="money never becomes a float: 10.5 minor units do not exist and floats round",
    ),
    Mutant(
        "amount-zero-allowed",
        find="Field(strict=True, gt=0, le=MAX_AMOUNT,",
        replace="Field(strict=True, ge=0, le=MAX_AMOUNT,",
        killed_by=["test_amounts_are_strict_positive_integers"],
        says="accepted amount 0",
        why="a deposit or transfer of nothing is a client bug the DTO should refuse before any service runs",
    ),
    Mutant(
        "deposit-extra-fields-ignored",
        find='    model_config = ConfigDict(extra="forbid")\n\n    amount: Amount\n',
        replace="    amount: Amount\n",
        killed_by=["test_request_models_forbid_unknown_fields", "test_a_validation_error_does_not_echo_what_was_sent"],
        says="extra field",
        why='{"ammount": 10} must be a 422, not a field silently dropped',
    ),
    Mutant(
        "account-create-extra-fields-ignored",
        find='ConfigDict(extra="forbid", str_strip_whitespace=True)',
        replace='ConfigDict(extra="ignore", str_strip_whitespace=True)',
        killed_by=["test_request_models_forbid_unknown_fields", "test_an_unknown_field_answers_422_naming_it"],
        says="extra field",
        why='a client that sends "balance" on create believes it set one; refuse the field',
    ),
    Mutant(
        "transfer-create-extra-fields-ignored",
        find='    model_config = ConfigDict(extra="forbid")\n\n    source_id: uuid.UUID\n',
        replace="    source_id: uuid.UUID\n",
        killed_by=["test_request_models_forbid_unknown_fields"],
        says="TransferCreate accepted a field it does not have",
        why="a misspelt field of a transfer request must be refused, not ignored",
    ),
    Mutant(
        "owner-allows-control-characters",
        find=r', pattern=r"^[^\x00-\x1f\x7f]+$"',
        replace="",
        killed_by=["test_account_create_refuses_a_bad_owner_or_currency"],
        says="NUL byte",
        why="PostgreSQL's text cannot store NUL: the first fuzzer request becomes a 500",
    ),
    Mutant(
        "owner-not-stripped",
        find='ConfigDict(extra="forbid", str_strip_whitespace=True)',
        replace='ConfigDict(extra="forbid")',
        killed_by=["test_account_create_refuses_a_bad_owner_or_currency"],
        says="spaces only",
        why='an owner of "   " passes min_length=1 and opens an account for nobody',
    ),
    Mutant(
        "currency-pattern-unanchored",
        find='pattern=r"^[A-Z]{3}$"',
        replace='pattern=r"[A-Z]{3}"',
        killed_by=["test_account_create_refuses_a_bad_owner_or_currency"],
        says="four-letter currency",
        why='Pydantic patterns search: without ^…$ "EURO" and "XEURX" are currencies',
    ),
    Mutant(
        "account-read-without-from-attributes",
        find=(
            "    model_config = ConfigDict(from_attributes=True)\n\n    id: uuid.UUID\n    owner: str\n"
            "    currency: str\n    balance: int"
        ),
        replace="    id: uuid.UUID\n    owner: str\n    currency: str\n    balance: int",
        killed_by=["test_read_models_are_built_from_the_services_objects"],
        says="cannot be built from an object with attributes",
        why="AccountRead.model_validate(account) then fails on every route: read models read attributes",
    ),
    Mutant(
        "transfer-read-shows-replayed",
        find='    amount: int = Field(description="Minor units (cents).")\n    currency: str\n',
        replace='    amount: int = Field(description="Minor units (cents).")\n    currency: str\n    replayed: bool\n',
        killed_by=[
            "test_read_models_are_built_from_the_services_objects",
            "test_a_retry_with_the_same_idempotency_key_moves_money_once",
        ],
        says="replay",
        why="a replay must answer exactly the first body; the header, not the body, marks it",
    ),
    Mutant(
        "error-details-required",
        find='details: list[FieldProblem] | None = Field(default=None, description="Each invalid field, for a 422.")',
        replace='details: list[FieldProblem] = Field(description="Each invalid field, for a 422.")',
        killed_by=["test_the_error_body_nests_a_code_and_a_message"],
        says="details defaults to None",
        why="a domain error has no field problems: a required details makes every 404/409 a 500",
    ),
    Mutant(
        "page-items-untyped",
        find="    items: list[T]\n",
        replace="    items: list[Any]\n",
        also=[Edit("from typing import Generic, TypeVar", "from typing import Any, Generic, TypeVar")],
        killed_by=["test_a_page_holds_its_items_with_the_limit_and_offset"],
        says="list[T]",
        why="an untyped page validates nothing it returns and documents no item schema in OpenAPI",
    ),
]

STEP_1 += [
    Mutant(
        "transfer-ids-as-strings",
        find="    source_id: uuid.UUID\n    target_id: uuid.UUID\n    amount: Amount\n",
        replace="    source_id: str\n    target_id: str\n    amount: Amount\n",
        killed_by=["test_transfer_create_refuses_ids_that_are_not_uuids"],
        says="accepted source_id '42'",
        why="an id that is not a UUID reaches the database and comes back as a 500, not a 422",
    ),
    Mutant(
        "schema-imports-the-model",
        find='    balance: int = Field(description="Minor units (cents); never negative.")\n    created_at: datetime\n',
        replace=(
            '    balance: int = Field(description="Minor units (cents); never negative.")\n'
            "    created_at: datetime\n\n"
            "    @classmethod\n"
            '    def from_model(cls, account: Account) -> "AccountRead":\n'
            "        return cls.model_validate(account)\n"
        ),
        also=[
            Edit(
                "from pydantic import BaseModel, ConfigDict, Field\n",
                "from pydantic import BaseModel, ConfigDict, Field\n\nfrom app.models import Account\n",
                "app/schemas/accounts.py",
            )
        ],
        killed_by=["test_the_schemas_import_no_models"],
        says="imports app.models",
        why="the API contract then changes whenever a table does: DTOs read attributes, never import models",
    ),
]

STEP_2 = [
    Mutant(
        "cors-wildcard-with-credentials",
        find="allow_origins=settings.cors_origins,\n        allow_credentials=False,",
        replace='allow_origins=["*"],\n        allow_credentials=True,',
        killed_by=["test_another_origin_gets_no_cors_header", "test_a_wildcard_origin_never_comes_with_credentials"],
        says="Allow-Credentials: true",
        why="Starlette then echoes any origin with credentials: every site on the web acts as the user",
    ),
    Mutant(
        "cors-credentials-allowed",
        find="allow_credentials=False,",
        replace="allow_credentials=True,",
        killed_by=["test_a_wildcard_origin_never_comes_with_credentials"],
        says="Never allow credentials with a wildcard",
        why="one LEDGER_CORS_ORIGINS='[\"*\"]' in a .env then opens the API to every site, cookies included",
    ),
    Mutant(
        "cors-origins-hard-coded",
        find="allow_origins=settings.cors_origins,",
        replace='allow_origins=["http://localhost:5173"],',
        killed_by=["test_an_allowed_origin_may_post_a_transfer"],
        says="not a list of your own",
        why="origins differ per environment; a list in code ignores LEDGER_CORS_ORIGINS",
    ),
    Mutant(
        "cors-without-idempotency-key-header",
        find='allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],',
        replace='allow_headers=["Authorization", "Content-Type"],',
        killed_by=["test_an_allowed_origin_may_post_a_transfer"],
        says="Disallowed CORS headers",
        why="a browser's preflight of a transfer with its Idempotency-Key is refused: no browser can transfer",
    ),
    Mutant(
        "cors-replay-header-not-exposed",
        find='        expose_headers=["Idempotent-Replayed"],\n',
        replace="",
        killed_by=["test_a_browser_may_read_the_replay_header"],
        says="expose",
        why="the page that retried a transfer cannot read Idempotent-Replayed",
    ),
    Mutant(
        "api-mounted-without-version",
        find='app.include_router(v1.router, prefix="/api/v1")',
        replace='app.include_router(v1.router, prefix="/api")',
        killed_by=[
            "test_the_v1_routes_are_mounted_under_api_v1",
            "test_post_accounts_opens_an_account_and_answers_201",
        ],
        says='prefix="/api/v1"',
        why="without the version in the path there is no room for /api/v2 beside it",
    ),
    Mutant(
        "v1-router-not-included",
        find='    app.include_router(v1.router, prefix="/api/v1")\n',
        replace="",
        killed_by=["test_an_unknown_account_answers_404"],
        says="the router's 404, not your handler's",
        why="no route answers: a 404 from the router is not the domain's account_not_found",
    ),
    Mutant(
        "health-router-dropped",
        find="    app.include_router(health.router)\n",
        replace="",
        killed_by=["test_health_still_answers"],
        says="keep including health.router",
        why="load balancers and orchestrators probe /health; without it the service is taken out of rotation",
    ),
    Mutant(
        "openapi-health-tag-undescribed",
        find='            {"name": "health", "description": "Probes for load balancers and orchestrators."},\n',
        replace="",
        killed_by=["test_every_tag_is_described"],
        says="health",
        why="every tag shown in /docs needs a description of what its group is for",
    ),
    Mutant(
        "openapi-without-description",
        find="        description=DESCRIPTION,\n",
        replace="",
        killed_by=["test_the_openapi_document_is_version_3_1_and_describes_the_api"],
        says="has no description",
        why="the first thing a client developer reads at /docs: minor units and the error shape",
    ),
    Mutant(
        "openapi-version-hard-coded",
        find="        version=__version__,\n",
        replace='        version="1.0.0",\n',
        killed_by=["test_the_openapi_document_is_version_3_1_and_describes_the_api"],
        says="version=__version__",
        why="a version typed twice drifts: the document then lies about what is deployed",
    ),
    Mutant(
        "docs-disabled",
        find="        lifespan=lifespan,\n    )\n",
        replace="        lifespan=lifespan,\n        docs_url=None,\n        redoc_url=None,\n    )\n",
        killed_by=["test_docs_and_redoc_serve_html"],
        says="expected an HTML page",
        why="the lesson promises /docs and /redoc to every client developer",
    ),
    Mutant(
        "statement-errors-undocumented",
        find=(
            '    summary="Read an account\'s statement",\n'
            "    responses=error_responses(status.HTTP_404_NOT_FOUND, status.HTTP_422_UNPROCESSABLE_CONTENT),\n"
        ),
        replace='    summary="Read an account\'s statement",\n',
        killed_by=["test_every_v1_route_documents_its_response_and_its_errors"],
        says="does not document 404 with the ErrorBody model",
        why="clients generated from OpenAPI cannot parse the statement's errors",
    ),
]

STEP_3 = [
    Mutant(
        "inline-route-in-main",
        find='    app.include_router(v1.router, prefix="/api/v1")\n',
        replace=(
            "    from app.dependencies.services import AccountServiceDep\n"
            "    from app.schemas.accounts import AccountCreate, AccountRead\n\n"
            '    @app.post("/api/v1/accounts", status_code=201, tags=["accounts"], summary="Open an account")\n'
            "    async def open_account(body: AccountCreate, accounts: AccountServiceDep) -> AccountRead:\n"
            '        """Open an account."""\n'
            "        account = await accounts.open(owner=body.owner, currency=body.currency)\n"
            "        return AccountRead.model_validate(account)\n\n"
            '    app.include_router(v1.router, prefix="/api/v1")\n'
        ),
        also=[
            Edit(
                "    account = await accounts.open(owner=body.owner, currency=body.currency)\n"
                "    return AccountRead.model_validate(account)\n",
                '    raise NotImplementedError("Lesson 06: open the account with the service (step 3)")\n',
                ACCOUNTS_ROUTER,
            )
        ],
        killed_by=["test_every_v1_route_is_served_by_app_routers_v1"],
        says="outside app/routers/v1/",
        why="gaming: a route in create_app shadows the router's stub instead of writing it",
    ),
    Mutant(
        "route-takes-the-session",
        find=(
            "async def get_account(account_id: uuid.UUID, accounts: AccountServiceDep) -> AccountRead:\n"
            '    """The account with this id, and its balance."""\n' + GET_ACCOUNT_BODY
        ),
        replace=(
            "async def get_account(account_id: uuid.UUID, session: SessionDep) -> AccountRead:\n"
            '    """The account with this id, and its balance."""\n'
            "    return AccountRead.model_validate(await AccountService(session).get(account_id))\n"
        ),
        also=[
            Edit(
                "from app.dependencies.services import AccountServiceDep\n",
                "from app.dependencies.services import AccountServiceDep\nfrom app.dependencies.session import "
                "SessionDep\nfrom app.services.accounts import AccountService\n",
                ACCOUNTS_ROUTER,
            )
        ],
        killed_by=["test_v1_routes_get_services_not_the_session"],
        says="take the session directly",
        why="a layer break: the route now owns a session and builds its own service",
    ),
    Mutant(
        "statement-route-takes-the-session",
        find=(
            "    account_id: uuid.UUID, accounts: AccountServiceDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0\n"
            ") -> Page[EntryRead]:\n"
        ),
        replace=(
            "    account_id: uuid.UUID,\n"
            "    accounts: AccountServiceDep,\n"
            "    session: SessionDep,\n"
            "    limit: Limit = DEFAULT_LIMIT,\n"
            "    offset: Offset = 0,\n"
            ") -> Page[EntryRead]:\n"
        ),
        also=[
            Edit(
                "    found = await accounts.statement(account_id, limit=limit, offset=offset)\n",
                "    found = await EntryRepository(session).for_account(account_id, limit=limit, offset=offset)\n",
                ACCOUNTS_ROUTER,
            ),
            Edit(
                "from app.dependencies.services import AccountServiceDep\n",
                "from app.crud import EntryRepository\nfrom app.dependencies.services import AccountServiceDep\n"
                "from app.dependencies.session import SessionDep\n",
                ACCOUNTS_ROUTER,
            ),
        ],
        killed_by=["test_the_account_routes_return_read_models_not_the_services_objects"],
        says="a parameter the given route does not have",
        why="a layer jump in the route's signature: it reads the table itself, and an unknown account answers 200 []",
    ),
    Mutant(
        "router-imports-models",
        find=GET_ACCOUNT_BODY,
        replace=(
            "    account: Account = await accounts.get(account_id)\n    return AccountRead.model_validate(account)\n"
        ),
        also=[
            Edit(
                "from app.dependencies.services import AccountServiceDep\n",
                "from app.dependencies.services import AccountServiceDep\nfrom app.models import Account\n",
                ACCOUNTS_ROUTER,
            )
        ],
        killed_by=["test_the_routers_import_neither_crud_nor_models"],
        says="imports app.models",
        why="routers speak DTOs; the tables belong to the layers below",
    ),
    Mutant(
        "statement-from-the-repository",
        find="    found = await accounts.statement(account_id, limit=limit, offset=offset)\n",
        replace=(
            "    found = await EntryRepository(accounts.accounts.session).for_account(\n"
            "        account_id, limit=limit, offset=offset\n"
            "    )\n"
        ),
        also=[
            Edit(
                "from app.dependencies.services import AccountServiceDep\n",
                "from app.crud import EntryRepository\nfrom app.dependencies.services import AccountServiceDep\n",
                ACCOUNTS_ROUTER,
            )
        ],
        killed_by=["test_the_routers_import_neither_crud_nor_models"],
        says="imports app.crud",
        why="a shortcut past the service: the 404 for an unknown account is skipped, and the route knows tables",
    ),
    Mutant(
        "provider-without-function-scope",
        find="async def get_account_service(session: SessionDep) -> AccountService:",
        replace=(
            "async def get_account_service(\n"
            "    session: Annotated[AsyncSession, Depends(get_session)],\n"
            ") -> AccountService:"
        ),
        also=[
            Edit(
                "from app.dependencies.session import SessionDep\n",
                "from app.dependencies.session import SessionDep, get_session\n",
                PROVIDERS,
            ),
            Edit(
                "from fastapi import Depends\n",
                "from fastapi import Depends\nfrom sqlalchemy.ext.asyncio import AsyncSession\n",
                PROVIDERS,
            ),
        ],
        killed_by=["test_a_commit_that_fails_is_never_answered_with_2xx"],
        says="the commit ran after the response",
        why="without scope='function' the client gets 201 before a commit that then fails",
    ),
    Mutant(
        "provider-on-a-session-of-its-own",
        find="async def get_account_service(session: SessionDep) -> AccountService:",
        replace="async def get_account_service(request: Request) -> AccountService:",
        also=[
            Edit(
                "    return AccountService(session)\n",
                "    return AccountService(request.app.state.sessionmaker())\n",
                PROVIDERS,
            ),
            Edit("from fastapi import Depends\n", "from fastapi import Depends, Request\n", PROVIDERS),
        ],
        killed_by=["test_a_commit_that_fails_is_never_answered_with_2xx", "test_get_account_answers_the_account"],
        says="SessionDep",
        why="a session nobody commits or closes: every write is lost and a connection leaks per request",
    ),
    Mutant(
        "provider-plain-def",
        find="async def get_transfer_service(",
        replace="def get_transfer_service(",
        killed_by=["test_the_service_providers_are_async_functions"],
        says="plain def",
        why="FastAPI runs a sync dependency in the thread pool: a hop per request for a constructor call",
    ),
    Mutant(
        "open-account-hard-coded",
        find="    account = await accounts.open(owner=body.owner, currency=body.currency)\n"
        "    return AccountRead.model_validate(account)\n",
        replace="    return AccountRead(\n"
        "        id=uuid.uuid4(), owner=body.owner, currency=body.currency, balance=0, created_at=datetime.now(UTC)\n"
        "    )\n",
        also=[Edit("import uuid\n", "import uuid\nfrom datetime import UTC, datetime\n", ACCOUNTS_ROUTER)],
        killed_by=["test_get_account_answers_the_account"],
        says="never stored",
        why="gaming: the answer has the shape the check reads, but no account exists",
    ),
    Mutant(
        "create-answers-200",
        find=OPEN_ACCOUNT_DECORATOR,
        replace='    "",\n    summary="Open an account",\n',
        killed_by=["test_post_accounts_opens_an_account_and_answers_201"],
        says="expected 201",
        why="a create answers 201 Created; 200 tells clients and caches nothing was made",
    ),
    Mutant(
        "create-path-trailing-slash",
        find=OPEN_ACCOUNT_DECORATOR,
        replace='    "/",\n    status_code=status.HTTP_201_CREATED,\n    summary="Open an account",\n',
        killed_by=[
            "test_post_accounts_opens_an_account_and_answers_201",
            "test_the_v1_routes_are_mounted_under_api_v1",
        ],
        says="trailing slash",
        why="POST /api/v1/accounts then gets a 307 to /accounts/: many clients drop the body on a redirect",
    ),
    Mutant(
        "deposit-wrong-method",
        find='@router.post(\n    "/{account_id}/deposits",',
        replace='@router.put(\n    "/{account_id}/deposits",',
        killed_by=["test_a_deposit_answers_201_with_the_new_balance"],
        says="none for POST",
        why="a deposit creates an entry: POST, as the API table says; PUT would promise idempotence",
    ),
    Mutant(
        "list-ignores-offset",
        find="    found = await accounts.list(limit=limit, offset=offset)\n",
        replace="    found = await accounts.list(limit=limit)\n",
        killed_by=["test_accounts_are_listed_page_by_page"],
        says="missed or repeated an account",
        why="every page is the first page: a client paging through never sees the rest",
    ),
    Mutant(
        "statement-ignores-paging",
        find="    found = await accounts.statement(account_id, limit=limit, offset=offset)\n",
        replace="    found = await accounts.statement(account_id)\n",
        killed_by=["test_the_statement_is_read_page_by_page_newest_first"],
        says="passed to accounts.statement",
        why="the page echoes limit=2 but holds 50 entries: the query parameters lie",
    ),
    Mutant(
        "deposit-in-the-route",
        find="    return AccountRead.model_validate(await accounts.deposit(account_id, body.amount))\n",
        replace=(
            "    account = await accounts.get(account_id)\n"
            "    account.balance += body.amount\n"
            "    return AccountRead.model_validate(account)\n"
        ),
        killed_by=["test_the_statement_lists_the_accounts_entries"],
        says="writes an entry",
        why="a business rule in the route: no lock, no entry, money appears without history",
    ),
]

STEP_4 = [
    Mutant(
        "idempotency-key-not-passed",
        find="        idempotency_key=idempotency_key,\n",
        replace="        idempotency_key=None,\n",
        killed_by=["test_a_retry_with_the_same_idempotency_key_moves_money_once"],
        says="pass the header to the service",
        why="a client's retry after a timeout pays twice",
    ),
    Mutant(
        "idempotency-key-read-from-the-query",
        find="        Header(\n            min_length=1,",
        replace="        Query(\n            min_length=1,",
        also=[
            Edit(
                "from fastapi import APIRouter, Header, Response, status",
                "from fastapi import APIRouter, Query, Response, status",
                TRANSFERS_ROUTER,
            )
        ],
        killed_by=["test_a_retry_with_the_same_idempotency_key_moves_money_once"],
        says="pass the header to the service",
        why="the Idempotency-Key header is ignored: the key is read from ?idempotency_key=",
    ),
    Mutant(
        "replay-header-missing",
        find=REPLAY_HEADER,
        replace="",
        killed_by=["test_a_replayed_transfer_says_so_in_a_header"],
        says="without `Idempotent-Replayed: true`",
        why="logs and humans cannot tell a replay from a new transfer",
    ),
    Mutant(
        "replay-header-always-set",
        find=REPLAY_HEADER,
        replace="    response.headers[REPLAYED_HEADER] = str(result.replayed).lower()\n",
        killed_by=["test_a_replayed_transfer_says_so_in_a_header"],
        says="only a replay carries the header",
        why="a header present on every transfer says nothing; clients check its presence",
    ),
    Mutant(
        "replay-answers-200",
        find=REPLAY_HEADER,
        replace=REPLAY_HEADER + "        response.status_code = status.HTTP_200_OK\n",
        killed_by=["test_a_retry_with_the_same_idempotency_key_moves_money_once"],
        says="200 where the first attempt answered 201",
        why="a client that retries after a timeout must get the answer of the first attempt, 201",
    ),
    Mutant(
        "transfer-read-hard-coded-currency",
        find="    return TransferRead.model_validate(result)\n",
        replace=(
            "    return TransferRead(\n"
            "        transfer_id=result.transfer_id,\n"
            "        source_id=body.source_id,\n"
            "        target_id=body.target_id,\n"
            "        amount=body.amount,\n"
            '        currency="EUR",\n'
            "    )\n"
        ),
        killed_by=["test_a_transfer_moves_money_and_answers_201"],
        says="expected a TransferRead of what the service did",
        why="an answer pieced together from the request and a constant, not from what the service did",
    ),
    Mutant(
        "transfer-route-raises-http-400",
        find=TRANSFER_CALL,
        replace="    try:\n"
        + "".join("    " + line + "\n" for line in TRANSFER_CALL.splitlines())
        + "    except DomainError as error:\n"
        "        raise HTTPException(status.HTTP_400_BAD_REQUEST, error.message) from error\n",
        also=[
            Edit(
                "from fastapi import APIRouter, Header, Response, status\n",
                "from fastapi import APIRouter, Header, HTTPException, Response, status\n",
                TRANSFERS_ROUTER,
            ),
            Edit(
                "from app.schemas.transfers import TransferCreate, TransferRead\n",
                "from app.schemas.transfers import TransferCreate, TransferRead\n"
                "from app.services.errors import DomainError\n",
                TRANSFERS_ROUTER,
            ),
        ],
        killed_by=["test_a_transfer_beyond_the_balance_answers_409", "test_a_transfer_to_the_same_account_answers_422"],
        says="HTTPException",
        why="every refusal becomes one 400 with FastAPI's body: the handler and its codes are bypassed",
    ),
]

STEP_5 = [
    Mutant(
        "account-id-typed-str",
        find="async def get_account(account_id: uuid.UUID, accounts: AccountServiceDep)",
        replace="async def get_account(account_id: str, accounts: AccountServiceDep)",
        killed_by=["test_a_malformed_uuid_answers_422"],
        says="account_id: uuid.UUID",
        why="a malformed id reaches the database and becomes a 500 instead of FastAPI's 422",
    ),
    Mutant(
        "get-account-raises-http-404",
        find=GET_ACCOUNT_BODY,
        replace=(
            "    try:\n"
            "        account = await accounts.get(account_id)\n"
            "    except AccountNotFound as error:\n"
            "        raise HTTPException(status.HTTP_404_NOT_FOUND, error.message) from error\n"
            "    return AccountRead.model_validate(account)\n"
        ),
        also=[
            Edit(
                "from fastapi import APIRouter, Query, status\n",
                "from fastapi import APIRouter, HTTPException, Query, status\n",
                ACCOUNTS_ROUTER,
            ),
            Edit(
                "from app.schemas.common import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Page\n",
                "from app.schemas.common import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Page\n"
                "from app.services.errors import AccountNotFound\n",
                ACCOUNTS_ROUTER,
            ),
        ],
        killed_by=["test_an_unknown_account_answers_404"],
        says="HTTPException",
        why="the route catches what the one handler answers: a second error body, {'detail': …}",
    ),
    Mutant(
        "not-found-as-409",
        find="        case AccountNotFound():\n            return status.HTTP_404_NOT_FOUND\n",
        replace="        case AccountNotFound():\n            return status.HTTP_409_CONFLICT\n",
        killed_by=["test_an_unknown_account_answers_404"],
        says="expected 404",
        why="no such resource is 404; 409 tells the client to retry after the state changes",
    ),
    Mutant(
        "insufficient-funds-as-422",
        find="        case InsufficientFunds() | IdempotencyConflict():\n",
        replace="        case IdempotencyConflict():\n",
        killed_by=["test_a_transfer_beyond_the_balance_answers_409"],
        says="expected 409",
        why="the request is valid; the ledger's state refuses it now: 409, and it may succeed later",
    ),
    Mutant(
        "idempotency-conflict-as-422",
        find="        case InsufficientFunds() | IdempotencyConflict():\n",
        replace="        case InsufficientFunds():\n",
        killed_by=["test_an_idempotency_key_reused_for_another_transfer_answers_409"],
        says="expected 409",
        why="a key reused for another request conflicts with an earlier request: 409",
    ),
    Mutant(
        "currency-mismatch-as-409",
        find="        case InsufficientFunds() | IdempotencyConflict():\n",
        replace="        case InsufficientFunds() | IdempotencyConflict() | CurrencyMismatch():\n",
        killed_by=["test_a_transfer_between_currencies_answers_422"],
        says="expected 422",
        why="EUR to USD can never succeed, whatever the state: the request breaks a rule, 422",
    ),
    Mutant(
        "rules-as-400",
        find="        case InvalidAmount() | SameAccount() | CurrencyMismatch():\n"
        "            return status.HTTP_422_UNPROCESSABLE_CONTENT\n",
        replace="        case InvalidAmount() | SameAccount() | CurrencyMismatch():\n"
        "            return status.HTTP_400_BAD_REQUEST\n",
        killed_by=["test_a_transfer_to_the_same_account_answers_422", "test_a_transfer_between_currencies_answers_422"],
        says="expected 422",
        why="the request is well-formed; a rule refuses its content: 422, as the API documents",
    ),
    Mutant(
        "later-rule-as-500",
        find="        case _:  # a rule the service added later: refused, but not the client's syntax\n"
        "            return status.HTTP_422_UNPROCESSABLE_CONTENT\n",
        replace="        case _:\n            return status.HTTP_500_INTERNAL_SERVER_ERROR\n",
        killed_by=["test_a_rule_added_later_answers_422"],
        says="never a 500",
        why="a rule a service adds tomorrow would answer 500, a server bug, for a refused request",
    ),
    Mutant(
        "status-by-dict-lookup",
        find=STATUS_MATCH,
        replace="""    statuses: dict[type[DomainError], int] = {
        AccountNotFound: status.HTTP_404_NOT_FOUND,
        InsufficientFunds: status.HTTP_409_CONFLICT,
        IdempotencyConflict: status.HTTP_409_CONFLICT,
        InvalidAmount: status.HTTP_422_UNPROCESSABLE_CONTENT,
        SameAccount: status.HTTP_422_UNPROCESSABLE_CONTENT,
        CurrencyMismatch: status.HTTP_422_UNPROCESSABLE_CONTENT,
    }
    return statuses[type(error)]
""",
        killed_by=["test_a_rule_added_later_answers_422"],
        says="raised KeyError",
        why="a new DomainError (or a subclass) crashes the error handler itself: a 500 from the handler",
    ),
    Mutant(
        "error-code-from-class-name",
        find="ErrorDetail(code=error.code, message=error.message)",
        replace="ErrorDetail(code=type(error).__name__, message=error.message)",
        killed_by=["test_a_transfer_beyond_the_balance_answers_409"],
        says='"insufficient_funds"',
        why="clients branch on the stable documented code, not on a Python class name",
    ),
    Mutant(
        "validation-answers-400",
        find=VALIDATION_ANSWER,
        replace='    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_400_BAD_REQUEST)\n',
        killed_by=[
            "test_zero_negative_or_fractional_amounts_answer_422",
            "test_a_page_beyond_the_largest_limit_answers_422",
        ],
        says="expected 422",
        why="the API documents 422 for invalid requests; a handler that changes it breaks the contract",
    ),
    Mutant(
        "validation-echoes-input",
        find='            message=problem["msg"],\n',
        replace="            message=f\"{problem['msg']} (got {problem['input']!r})\",\n",
        killed_by=["test_a_validation_error_does_not_echo_what_was_sent"],
        says="echoes the value the client sent",
        why="what a client sent by mistake (a card number, a token) ends up in logs and consoles",
    ),
    Mutant(
        "validation-details-raw",
        find=VALIDATION_ANSWER,
        replace=(
            "    details = jsonable_encoder(error.errors())\n"
            '    raw = {"error": {"code": "validation_error", "message": body.error.message, "details": details}}\n'
            "    return JSONResponse(raw, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)\n"
        ),
        also=[
            Edit(
                "from fastapi.exceptions import RequestValidationError\n",
                "from fastapi.encoders import jsonable_encoder\n"
                "from fastapi.exceptions import RequestValidationError\n",
                ERRORS,
            )
        ],
        killed_by=["test_a_validation_error_does_not_echo_what_was_sent"],
        says="echoes the value the client sent",
        why="FastAPI's raw errors carry each `input`: the shortcut leaks what the client sent",
    ),
    Mutant(
        "validation-without-details",
        find='message=f"The request is not valid. {summary}", details=problems)',
        replace='message=f"The request is not valid. {summary}")',
        killed_by=["test_an_unknown_field_answers_422_naming_it"],
        says="one FieldProblem per problem",
        why="a client cannot point at the invalid field without parsing a sentence",
    ),
    Mutant(
        "validation-location-not-joined",
        find='location=".".join(str(part) for part in problem["loc"]),',
        replace='location=str(problem["loc"][-1]),',
        killed_by=["test_an_unknown_field_answers_422_naming_it"],
        says="joined with dots",
        why="'amount' alone does not say whether the body, the query or the path is wrong",
    ),
    Mutant(
        "limit-unbounded",
        find="Query(ge=1, le=MAX_LIMIT, ",
        replace="Query(ge=1, ",
        killed_by=["test_a_page_beyond_the_largest_limit_answers_422"],
        says="limit=1000 answered 200",
        why="any client can ask for the whole table in one request",
    ),
    Mutant(
        "offset-unbounded",
        find="Query(ge=0, le=MAX_OFFSET, ",
        replace="Query(ge=0, ",
        killed_by=["test_an_offset_beyond_a_bigint_answers_422_not_500"],
        says="500 because",
        why="an offset past PostgreSQL's bigint reaches the database and comes back as a 500",
    ),
    Mutant(
        "offset-may-be-negative",
        find="Query(ge=0, le=MAX_OFFSET, ",
        replace="Query(le=MAX_OFFSET, ",
        killed_by=["test_a_page_beyond_the_largest_limit_answers_422"],
        says="offset=-1",
        why="OFFSET -1 is refused by PostgreSQL: a client's bad query parameter becomes a 500",
    ),
]

MUTANTS = [*STEP_1, *STEP_2, *STEP_3, *STEP_4, *STEP_5]

# Async all the way (test_async_all_the_way.py): blocking calls a hurried author puts in a route.
MUTANTS += [
    Mutant(
        "deposit-waits-with-time-sleep",
        path="app/routers/v1/accounts.py",
        find="    return AccountRead.model_validate(await accounts.deposit(account_id, body.amount))\n",
        replace="    time.sleep(0.05)  # let the bank's ledger settle\n"
        "    return AccountRead.model_validate(await accounts.deposit(account_id, body.amount))\n",
        also=[Edit("import uuid\n", "import time\nimport uuid\n", "app/routers/v1/accounts.py")],
        killed_by=["test_no_async_function_blocks_the_event_loop"],
        says="time.sleep(): it blocks the event loop",
        why="while one deposit sleeps, the process answers nobody: every request waits behind it",
    ),
    Mutant(
        "replay-logged-with-open",
        path="app/routers/v1/transfers.py",
        find="    if result.replayed:\n",
        replace="    if result.replayed:\n"
        '        with open("replays.log", "a") as log:\n'
        '            log.write(f"{result.transfer_id}\\n")\n',
        killed_by=["test_no_async_function_blocks_the_event_loop"],
        says="open(): it blocks the event loop",
        why="synchronous file I/O in a route stalls every other request on a slow disk",
    ),
    Mutant(
        "account-read-from-a-file-with-pathlib",
        path="app/routers/v1/accounts.py",
        find="    return AccountRead.model_validate(await accounts.get(account_id))\n",
        replace='    Path("accounts-read.txt").write_text(str(account_id))\n'
        "    return AccountRead.model_validate(await accounts.get(account_id))\n",
        also=[Edit("import uuid\n", "import uuid\nfrom pathlib import Path\n", "app/routers/v1/accounts.py")],
        killed_by=["test_no_async_function_blocks_the_event_loop"],
        says="anyio.Path",
        why="Path.write_text is a blocking write; in async code it belongs to anyio.Path (or a thread)",
    ),
]

# The stack's own bar (test_code_quality.py): what ruff and mypy --strict refuse in a learner's routers.
MUTANTS += [
    Mutant(
        "route-returns-a-dict",
        path="app/routers/v1/accounts.py",
        find="    return AccountRead.model_validate(await accounts.get(account_id))\n",
        replace="    return AccountRead.model_validate(await accounts.get(account_id)).model_dump()\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="incompatible return value",
        why="FastAPI quietly converts the dict, but the route now lies about its type and mypy --strict says so",
    ),
    Mutant(
        "unused-import-left-behind",
        path="app/routers/v1/transfers.py",
        find="from fastapi import APIRouter, Header, Response, status\n",
        replace="from fastapi import APIRouter, Depends, Header, Response, status\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="F401",
        why="an import nothing uses is dead code ruff reports on every run",
    ),
]

# Found by an independent review (wrong solutions written without seeing the checks).
MUTANTS += [
    # --- steps 3 and 4: routes answer their DTOs --------------------------------------------------
    Mutant(
        "route-returns-the-orm-account",
        path=ACCOUNTS_ROUTER,
        find=GET_ACCOUNT_BODY,
        replace="    return await accounts.get(account_id)  # type: ignore[return-value]\n",
        killed_by=["test_the_account_routes_return_read_models_not_the_services_objects"],
        says="get_account() in app/routers/v1/accounts.py returned Account, the service's object as it came",
        why="the route hands the ORM model to FastAPI instead of its DTO, and silences mypy to do it",
    ),
    Mutant(
        "statement-pages-the-orm-entries",
        path=ACCOUNTS_ROUTER,
        find="    return Page(items=[EntryRead.model_validate(entry) for entry in found], limit=limit, offset=offset)\n",
        replace="    return Page(items=list(found), limit=limit, offset=offset)  # type: ignore[arg-type]\n",
        killed_by=["test_the_account_routes_return_read_models_not_the_services_objects"],
        says="a Page whose items are Entry",
        why="the page carries ORM entries: what the client sees depends on FastAPI re-validating them, not on the route",
    ),
    Mutant(
        "transfer-route-returns-the-result",
        path=TRANSFERS_ROUTER,
        find="    return TransferRead.model_validate(result)\n",
        replace="    return result  # type: ignore[return-value]\n",
        killed_by=["test_the_transfer_route_returns_a_transfer_read"],
        says="returned TransferResult, the service's object as it came",
        why="the route returns the service's dataclass where its annotation promises a TransferRead",
    ),
    # --- step 5: one body, one status per class, current names ------------------------------------
    Mutant(
        "domain-error-details-null",
        path=ERRORS,
        find='    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status_for(error))\n',
        replace='    return JSONResponse(body.model_dump(mode="json"), status_code=status_for(error))\n',
        killed_by=["test_an_unknown_account_answers_404", "test_a_transfer_beyond_the_balance_answers_409"],
        says='carries {"details": null} besides code and message',
        why='every domain error body carries "details": null: the documented body is {"error": {code, message}}',
    ),
    Mutant(
        "deprecated-422-name",
        path=ERRORS,
        find="""        case InvalidAmount() | SameAccount() | CurrencyMismatch():
            return status.HTTP_422_UNPROCESSABLE_CONTENT""",
        replace="""        case InvalidAmount() | SameAccount() | CurrencyMismatch():
            return status.HTTP_422_UNPROCESSABLE_ENTITY""",
        killed_by=["test_the_app_names_no_deprecated_status"],
        says="uses HTTP_422_UNPROCESSABLE_ENTITY, a deprecated status name",
        why="HTTP_422_UNPROCESSABLE_ENTITY is deprecated (Starlette warns on each use): never teach it",
    ),
    Mutant(
        "validation-answer-deprecated-422-name",
        path=ERRORS,
        find=VALIDATION_ANSWER,
        replace=VALIDATION_ANSWER.replace("HTTP_422_UNPROCESSABLE_CONTENT", "HTTP_422_UNPROCESSABLE_ENTITY"),
        killed_by=["test_the_app_names_no_deprecated_status"],
        says="deprecated status name",
        why="the old name of 422 in the validation handler: a warning on every invalid request",
    ),
    Mutant(
        "status-by-code-string",
        path=ERRORS,
        find=STATUS_MATCH,
        replace="""    if "not_found" in error.code:
        return status.HTTP_404_NOT_FOUND
    if error.code in ("insufficient_funds", "idempotency_conflict"):
        return status.HTTP_409_CONFLICT
    return status.HTTP_500_INTERNAL_SERVER_ERROR if error.code == "domain_error" else 422
""",
        killed_by=["test_a_rule_added_later_answers_422"],
        says="plain DomainError",
        why="statuses by string matching on codes: a plain DomainError (an unnamed rule) is answered 500 as if a bug",
    ),
]
