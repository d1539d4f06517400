"""Wrong solutions of lesson 11 that its checks must catch (`uv run workshop verify 11`).

Each is one mistake a reviewer would send back: the learner who is almost right, the one in a
hurry, the one gaming the grader. The checks must fail on each with a `Lesson 11:` message that names it.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

EXPAND = "migrations/versions/0004_accounts_updated_at_expand.py"
CONTRACT = "migrations/versions/0005_accounts_updated_at_contract.py"
PROBLEMS = "app/routers/problems.py"
V2_ACCOUNTS = "app/routers/v2/accounts.py"

BACKFILL_IN_ITS_BLOCK = """    with op.get_context().autocommit_block():
        while connection.execute(BACKFILL_BATCH).rowcount:
"""
INDEX_IN_ITS_BLOCK = """    with op.get_context().autocommit_block():
        op.create_index(
            "ix_accounts_user_id_id", "accounts", ["user_id", "id"], unique=False, postgresql_concurrently=True
        )
"""
VALIDATED_CHECK = """    op.execute(f"ALTER TABLE accounts ADD CONSTRAINT {CHECK} CHECK (updated_at IS NOT NULL) NOT VALID")
    op.execute(f"ALTER TABLE accounts VALIDATE CONSTRAINT {CHECK}")
"""

STEP_1 = [
    Mutant(
        "backfill-in-one-statement",
        path=EXPAND,
        find="ORDER BY id LIMIT :batch_size FOR UPDATE SKIP LOCKED",
        replace="ORDER BY id FOR UPDATE SKIP LOCKED",
        also=[Edit(find=").bindparams(batch_size=BATCH_SIZE)", replace=")", path=EXPAND)],
        killed_by=["test_the_backfill_commits_batch_by_batch"],
        says="1 transaction",
        why="one UPDATE of every account holds every row locked until it ends: deposits and transfers wait",
    ),
    Mutant(
        "backfill-batches-in-one-transaction",
        path=EXPAND,
        find=BACKFILL_IN_ITS_BLOCK,
        replace="    if True:\n        while connection.execute(BACKFILL_BATCH).rowcount:\n",
        killed_by=["test_the_backfill_commits_batch_by_batch"],
        says="1 transaction",
        why="batches inside the migration's one transaction lock as much as one UPDATE: none commits before the end",
    ),
    Mutant(
        "column-added-with-a-default",
        path=EXPAND,
        find='sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True)',
        replace='sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())',
        killed_by=["test_the_backfill_sets_when_each_balance_last_changed"],
        says="migration's time",
        why="every old account gets the time of the migration as updated_at, and the backfill finds nothing to fill",
    ),
    Mutant(
        "index-built-without-concurrently",
        path=EXPAND,
        find='["user_id", "id"], unique=False, postgresql_concurrently=True',
        replace='["user_id", "id"], unique=False',
        killed_by=["test_the_index_of_keyset_pages_is_built_concurrently_outside_a_transaction"],
        says="blocks every write",
        why="a plain CREATE INDEX blocks every write to accounts for as long as the index takes to build",
    ),
    Mutant(
        "concurrent-index-inside-the-transaction",
        path=EXPAND,
        find=INDEX_IN_ITS_BLOCK,
        replace=INDEX_IN_ITS_BLOCK.replace("    with op.get_context().autocommit_block():\n", "    if True:\n"),
        killed_by=["test_the_index_of_keyset_pages_is_built_concurrently_outside_a_transaction"],
        says="transaction block",
        why="PostgreSQL refuses CREATE INDEX CONCURRENTLY inside a transaction block: the upgrade fails in production",
    ),
    Mutant(
        "set-not-null-with-a-full-scan-under-an-exclusive-lock",
        path=CONTRACT,
        find=VALIDATED_CHECK,
        replace="",
        also=[
            Edit(find='    op.execute(f"ALTER TABLE accounts DROP CONSTRAINT {CHECK}")\n', replace="", path=CONTRACT)
        ],
        killed_by=["test_the_contract_makes_updated_at_required_without_a_long_exclusive_lock"],
        says="ACCESS EXCLUSIVE",
        why="SET NOT NULL alone scans the whole table while no read or write of accounts gets through",
    ),
    Mutant(
        "contract-without-a-server-default",
        path=CONTRACT,
        find='op.alter_column("accounts", "updated_at", nullable=False, server_default=sa.text("now()"))',
        replace='op.alter_column("accounts", "updated_at", nullable=False)',
        killed_by=["test_updated_at_is_required_and_has_a_default_after_the_contract"],
        says="server default",
        why="every INSERT that does not name updated_at (older releases, seeding scripts, psql) now fails",
    ),
    Mutant(
        "contract-downgrade-drops-the-values",
        path=CONTRACT,
        find='    op.alter_column("accounts", "updated_at", nullable=True, server_default=None)\n',
        replace='    op.drop_column("accounts", "updated_at")\n'
        '    op.add_column("accounts", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))\n',
        killed_by=["test_the_contract_goes_down_and_up_keeping_every_value"],
        says="lost the values",
        why="a downgrade that drops and re-adds the column loses every value the app wrote since the release",
    ),
    Mutant(
        "contract-downgrade-keeps-the-default",
        path=CONTRACT,
        find='    op.alter_column("accounts", "updated_at", nullable=True, server_default=None)\n',
        replace='    op.alter_column("accounts", "updated_at", nullable=True)\n',
        killed_by=["test_each_downgrade_undoes_all_of_its_upgrade"],
        says="default now()",
        why="alter_column without server_default=None keeps 0005's now(): the downgrade leaves a table 0004 never built",
    ),
    Mutant(
        "expand-downgrade-keeps-the-index",
        path=EXPAND,
        find="""    with op.get_context().autocommit_block():
        op.drop_index("ix_accounts_user_id_id", table_name="accounts", postgresql_concurrently=True)
    op.drop_column("accounts", "updated_at")
""",
        replace='    op.drop_column("accounts", "updated_at")\n',
        killed_by=[
            "test_each_downgrade_undoes_all_of_its_upgrade",
            # checks that come down to 0003 and up again fail on the index left: they say where it came from
            "test_the_backfill_sets_when_each_balance_last_changed",
            "test_the_contract_goes_down_and_up_keeping_every_value",
        ],
        says="index ix_accounts_user_id_id",
        why="the downgrade leaves 0004's index behind: not an undo, and the next upgrade 0004 fails on it",
    ),
    Mutant(
        "index-dropped-without-concurrently",
        find='op.drop_index("ix_accounts_user_id_id", table_name="accounts", postgresql_concurrently=True)',
        replace='op.drop_index("ix_accounts_user_id_id", table_name="accounts")',
        killed_by=["test_the_index_of_keyset_pages_is_built_concurrently_outside_a_transaction"],
        says="DROP INDEX",
        why="a plain DROP INDEX locks accounts against every read and write while a rollback runs",
    ),
]

STEP_1 += [
    Mutant(
        "backfill-waits-for-locked-rows",
        path=EXPAND,
        find="LIMIT :batch_size FOR UPDATE SKIP LOCKED",
        replace="LIMIT :batch_size",
        killed_by=["test_the_backfill_passes_over_rows_a_transfer_holds_locked"],
        says="SKIP LOCKED",
        why="a batch that reaches a row a transfer holds waits for it, keeping the rest of its batch locked meanwhile",
    ),
    Mutant(
        "backfill-locks-without-skipping",
        path=EXPAND,
        find="LIMIT :batch_size FOR UPDATE SKIP LOCKED",
        replace="LIMIT :batch_size FOR UPDATE",
        killed_by=["test_the_backfill_passes_over_rows_a_transfer_holds_locked"],
        says="SKIP LOCKED",
        why="FOR UPDATE alone queues the backfill behind any open transfer, and every transfer behind the backfill",
    ),
    Mutant(
        "column-added-nullable-with-a-default",
        path=EXPAND,
        find='sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True)',
        replace='sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True, server_default=sa.func.now())',
        killed_by=[
            "test_the_backfill_sets_when_each_balance_last_changed",
            "test_the_backfill_commits_batch_by_batch",
            "test_each_downgrade_undoes_all_of_its_upgrade",
        ],
        says="with a default",
        why="nullable, but the default fills every old row with the migration's time: the backfill has nothing to do",
    ),
]

STEP_3 = [
    Mutant(
        "problem-sent-as-application-json",
        path=PROBLEMS,
        find="status_code=status_code, media_type=PROBLEM_JSON",
        replace="status_code=status_code",
        killed_by=[
            "test_a_v2_error_is_a_problem_detail_of_that_request",
            "test_a_v2_401_is_a_problem_with_its_challenge",
        ],
        says="application/problem+json",
        why="without the media type a client cannot tell a problem detail from any JSON body",
    ),
    Mutant(
        "instance-is-the-type",
        path=PROBLEMS,
        find="instance=request.url.path,",
        replace="instance=problem_type(code),",
        killed_by=["test_a_v2_error_is_a_problem_detail_of_that_request"],
        says="instance",
        why="instance identifies this occurrence (the request), not the kind of problem: type does that",
    ),
    Mutant(
        "validation-problem-lists-no-field",
        path=PROBLEMS,
        find="        errors=errors,\n",
        replace="",
        killed_by=["test_a_v2_validation_problem_lists_every_invalid_field"],
        says="one round trip",
        why="a client learns of one invalid field at a time, or has to parse the detail sentence",
    ),
    Mutant(
        "v2-401-without-its-challenge",
        path=PROBLEMS,
        find="        response.headers[CHALLENGE_HEADER] = challenge\n",
        replace="        pass\n",
        killed_by=["test_a_v2_401_is_a_problem_with_its_challenge"],
        says="WWW-Authenticate",
        why="RFC 6750 requires the challenge on a 401; v2 lost what v1 had",
    ),
    Mutant(
        "v1-errors-become-problems-too",
        path=PROBLEMS,
        find="""    if not is_v2(request):
        return await domain_error_handler(request, error)
""",
        replace="",
        killed_by=["test_v1_errors_keep_v1s_body"],
        says="deprecated, not broken",
        why="v1's clients parse error.code: answering them problem details breaks every one of them",
    ),
    Mutant(
        "v2-errors-documented-as-json",
        path=PROBLEMS,
        find='"content": {PROBLEM_JSON: {"schema": schema}}',
        replace='"content": {"application/json": {"schema": schema}}',
        killed_by=["test_v2_documents_its_errors_as_problem_json"],
        says="problem+json",
        why="the document promises a JSON body the API never sends: generated clients and schemathesis disagree",
    ),
    Mutant(
        "validation-problem-echoes-the-input",
        path=PROBLEMS,
        find='"message": found["msg"], "type": found["type"]}',
        replace='"message": found["msg"], "type": found["type"], "input": str(found.get("input"))}',
        killed_by=["test_a_v2_validation_problem_never_repeats_the_input"],
        says="repeats the password",
        why="the input of an invalid request (a password, a token) comes back in the body, and from there into logs",
    ),
]

STEP_4 = [
    Mutant(
        "cursor-repeats-its-own-row",
        path="app/crud/accounts.py",
        find="Account.id < after",
        replace="Account.id <= after",
        killed_by=[
            "test_following_the_cursors_lists_every_account_once_newest_first",
            "test_pages_stay_stable_while_accounts_are_opened",
        ],
        says="repeated",
        why="the last account of each page comes again as the first of the next",
        # the first check's message says "every account once"; both say what a reader must hear
    ),
    Mutant(
        "next-cursor-from-the-pages-first-row",
        path=V2_ACCOUNTS,
        find="    next_cursor = cursors.issue(found[-1].id) if len(found) == limit else None\n    return CursorPage(items=[AccountReadV2",
        replace="    next_cursor = cursors.issue(found[0].id) if len(found) == limit else None\n    return CursorPage(items=[AccountReadV2",
        killed_by=["test_pages_stay_stable_while_accounts_are_opened"],
        says="none repeated or skipped",
        why="the next page starts after the page's first row: every page but the first repeats rows",
    ),
    Mutant(
        "keyset-the-wrong-way-round",
        path="app/crud/accounts.py",
        find="Account.id < after",
        replace="Account.id > after",
        killed_by=["test_pages_stay_stable_while_accounts_are_opened"],
        says="none repeated or skipped",
        why="newest first, the next page is the ids below the cursor: above it are the rows already shown, and new ones",
    ),
    Mutant(
        "pages-by-offset-in-a-cursor",
        path="app/crud/accounts.py",
        find="            statement = statement.where(Account.id < after)\n",
        replace="            statement = statement.offset(\n"
        "                select(func.count()).where(Account.user_id == user_id, Account.id >= after).scalar_subquery()\n"
        "            )\n",
        also=[
            Edit(
                find="from sqlalchemy import select\n",
                replace="from sqlalchemy import func, select\n",
                path="app/crud/accounts.py",
            )
        ],
        killed_by=["test_a_page_is_found_by_key_not_by_offset"],
        says="OFFSET",
        why="an offset (even one computed from the cursor) costs more the deeper the page, and shifts under inserts",
    ),
    Mutant(
        "last-page-never-ends",
        path=V2_ACCOUNTS,
        find="    next_cursor = cursors.issue(found[-1].id) if len(found) == limit else None\n    return CursorPage(items=[AccountReadV2",
        replace="    next_cursor = cursors.issue(found[-1].id) if found else None\n    return CursorPage(items=[AccountReadV2",
        killed_by=["test_following_the_cursors_lists_every_account_once_newest_first"],
        says="null",
        why="a short page still has a next_cursor: a client asks for one more, empty, page every time",
    ),
    Mutant(
        "cursor-pages-forget-the-user",
        path="app/crud/accounts.py",
        find="            statement = statement.where(Account.id < after)\n",
        replace="            statement = select(Account).where(Account.id < after)\n",
        killed_by=["test_pages_hold_only_the_users_own_accounts"],
        says="another user",
        why="the first page is the user's, every later one holds everybody's accounts",
    ),
    Mutant(
        "cursor-signature-never-checked",
        path="app/services/pages.py",
        find="if not hmac.compare_digest(mac, self._mac(payload)):",
        replace="if False:",
        killed_by=["test_a_cursor_signed_with_another_key_is_refused"],
        says="another key",
        why="any client can write a cursor: the position is whatever it says",
    ),
    Mutant(
        "cursor-of-another-user-accepted",
        path="app/services/pages.py",
        find='if position["u"] != str(self.user_id):',
        replace="if False:",
        killed_by=["test_another_users_cursor_is_refused"],
        says="Grace's next_cursor",
        why="a cursor leaks from one user to another (a shared link, a log) and still works",
    ),
    Mutant(
        "cursor-trusted-blindly",
        path="app/services/pages.py",
        find="if not hmac.compare_digest(mac, self._mac(payload)):",
        replace="if False:",
        also=[Edit(find='if position["u"] != str(self.user_id):', replace="if False:", path="app/services/pages.py")],
        killed_by=["test_a_forged_cursor_reads_no_other_users_account"],
        says="forged cursor",
        why="a cursor written by the client, for another user, is accepted as if the service had issued it",
    ),
    Mutant(
        "cursor-garbage-is-a-500",
        path="app/services/pages.py",
        find="        except (ValueError, KeyError, TypeError, binascii.Error):",
        replace="        except binascii.Error:",
        killed_by=["test_a_malformed_cursor_is_a_422_not_a_500"],
        says="never becomes a 500",
        why="a cursor without a dot, or signed but not JSON, raises ValueError: input becomes a 500",
    ),
    Mutant(
        "cursor-mac-compared-with-equals",
        path="app/services/pages.py",
        find="            if not hmac.compare_digest(mac, self._mac(payload)):",
        replace="            if mac != self._mac(payload):",
        killed_by=["test_the_cursors_mac_is_compared_in_constant_time"],
        says="compare_digest",
        why="!= answers sooner the fewer leading bytes match: the timing lets a forger find the MAC byte by byte",
    ),
]

STEP_2 = [
    Mutant(
        "v1-not-deprecated-in-openapi",
        path="app/main.py",
        find='app.include_router(v1.router, prefix="/api/v1", deprecated=True)',
        replace='app.include_router(v1.router, prefix="/api/v1")',
        killed_by=["test_every_v1_operation_and_no_v2_one_is_deprecated_in_openapi"],
        says="deprecated",
        why="Swagger UI and generated clients never tell v1's users that it is going away",
    ),
    Mutant(
        "headers-on-successes-only",
        path="app/routers/deprecation.py",
        find='if message["type"] == "http.response.start":',
        replace='if message["type"] == "http.response.start" and message["status"] < 400:',
        killed_by=["test_v1_errors_carry_the_deprecation_headers_too"],
        says="errors included",
        why="the clients whose requests fail are told nothing",
    ),
    Mutant(
        "deprecation-as-an-http-date",
        path="app/core/deprecation.py",
        find='"Deprecation": f"@{int(deprecated_at.timestamp())}",',
        replace='"Deprecation": format_datetime(deprecated_at.astimezone(UTC), usegmt=True),',
        killed_by=[
            "test_the_headers_are_written_as_the_rfcs_say",
            "test_v1_success_carries_deprecation_sunset_and_link",
        ],
        says="Deprecation",
        why="RFC 9745's Deprecation is a structured-field date (@seconds); the HTTP-date was an older draft's",
    ),
    Mutant(
        "sunset-as-iso-8601",
        path="app/core/deprecation.py",
        find='"Sunset": format_datetime(sunset_at.astimezone(UTC), usegmt=True),',
        replace='"Sunset": sunset_at.isoformat(),',
        killed_by=["test_the_headers_are_written_as_the_rfcs_say"],
        says="Sunset",
        why="RFC 8594's Sunset is an HTTP-date; clients that parse it find no date",
    ),
    Mutant(
        "link-without-its-relation",
        path="app/core/deprecation.py",
        find='"Link": f\'<{guide}>; rel="deprecation"; type="text/html"\',',
        replace="\"Link\": f'<{guide}>',",
        killed_by=[
            "test_the_headers_are_written_as_the_rfcs_say",
            "test_v1_success_carries_deprecation_sunset_and_link",
        ],
        says='rel="deprecation"',
        why='a link without rel says nothing: clients look for rel="deprecation"',
    ),
    Mutant(
        "dates-hard-coded",
        path="app/main.py",
        find="settings.api_v1_deprecated_at, settings.api_v1_sunset_at, settings.api_v1_migration_guide",
        replace='datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC), "https://ledger.example/v2"',
        also=[
            Edit(
                find="from collections.abc import AsyncIterator\n",
                replace="from collections.abc import AsyncIterator\nfrom datetime import UTC, datetime\n",
                path="app/main.py",
            )
        ],
        killed_by=["test_v1_success_carries_deprecation_sunset_and_link"],
        says="Sunset",
        why="moving the sunset date needs a release instead of a setting",
    ),
    Mutant(
        "every-version-marked-deprecated",
        path="app/main.py",
        find='prefix="/api/v1/",',
        replace='prefix="/api/",',
        killed_by=["test_v2_responses_carry_no_deprecation"],
        says="only v1",
        why="v2's clients are told to move off the version they just moved to",
    ),
    Mutant(
        "sunset-not-converted-to-gmt",
        path="app/core/deprecation.py",
        find='"Sunset": format_datetime(sunset_at.astimezone(UTC), usegmt=True),',
        replace='"Sunset": sunset_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),',
        killed_by=["test_dates_set_with_an_offset_are_written_as_the_same_instant"],
        says="always GMT",
        why="a sunset set with an offset (+02:00) is written as if it were GMT: two hours wrong",
    ),
]

STEP_5 = [
    Mutant(
        "v1-account-gains-a-field",
        path="app/schemas/accounts.py",
        find='    balance: int = Field(description="Minor units (cents); never negative.")\n    created_at: datetime\n',
        replace='    balance: int = Field(description="Minor units (cents); never negative.")\n    created_at: datetime\n'
        "    updated_at: datetime | None = None\n",
        killed_by=["test_v1s_openapi_contract_is_unchanged"],
        says="schema AccountRead",
        why="an 'additive' field in a shared DTO changes v1's documented contract; it belongs to v2's DTO",
    ),
    Mutant(
        "v2-dto-named-like-v1s",
        path="app/schemas/v2.py",
        find="class AccountReadV2(AccountReadV1):",
        replace="class AccountRead(AccountReadV1):",
        also=[
            Edit(
                find="from app.schemas.v2 import AccountReadV2, CursorPage",
                replace="from app.schemas.v2 import AccountRead as AccountReadV2\nfrom app.schemas.v2 import CursorPage",
                path=V2_ACCOUNTS,
            )
        ],
        killed_by=["test_v1s_openapi_contract_is_unchanged"],
        says="v1's part of the OpenAPI document changed",
        why="two models named AccountRead: FastAPI renames v1's schema, and every v1 $ref to it changes",
    ),
    Mutant(
        "contract-test-compares-only-paths",
        path="tests/test_v1_contract.py",
        find="    assert current == snapshot,",
        replace='    assert current["paths"] == snapshot["paths"],',
        killed_by=["test_your_contract_test_passes_and_fails_when_v1_changes"],
        says="still passes",
        why="a field added to a schema v1 reaches changes no path: the test sees nothing",
    ),
    Mutant(
        "contract-test-compares-the-app-with-itself",
        path="tests/test_v1_contract.py",
        find='    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))\n',
        replace="    snapshot = current_contract()\n",
        killed_by=["test_your_contract_test_passes_and_fails_when_v1_changes"],
        says="still passes",
        why="a snapshot taken at test time freezes nothing",
    ),
    Mutant(
        "contract-test-takes-no-schema",
        path="tests/test_v1_contract.py",
        find='    return {"paths": paths, "schemas": {name: schemas[name] for name in sorted(reached) if name in schemas}}',
        replace='    return {"paths": paths, "schemas": {}}',
        killed_by=["test_your_contract_test_passes_and_fails_when_v1_changes"],
        says="every component schema they reach",
        why="a contract of paths alone misses a field added to a shared DTO, and disagrees with the snapshot",
    ),
    Mutant(
        "contract-test-follows-direct-refs-only",
        path="tests/test_v1_contract.py",
        find="            todo |= references(schemas.get(name, {}))",
        replace="            pass",
        killed_by=["test_your_contract_test_passes_and_fails_when_v1_changes"],
        says="«AssertionError: v1's contract changed: schemas",  # the head of the learner's own failure
        why="a schema reached through another (a page's items, a nested error) is left out of the comparison",
    ),
    Mutant(
        "v2-route-reads-the-repository",
        path=V2_ACCOUNTS,
        find="from app.dependencies.services import AccountServiceDep\n",
        replace="from app.crud.accounts import AccountRepository  # noqa: F401\nfrom app.dependencies.services import AccountServiceDep\n",
        killed_by=["test_the_layers_hold"],
        says="crud",
        why="routers depend on services only: a router that reaches crud skips the ownership rules",
    ),
    Mutant(
        "blocking-sleep-in-the-middleware",
        path="app/routers/deprecation.py",
        find="        await self.app(scope, receive, send_marked)\n",
        replace="        time.sleep(0)\n        await self.app(scope, receive, send_marked)\n",
        also=[
            Edit(
                find="from starlette.datastructures import MutableHeaders\n",
                replace="import time\n\nfrom starlette.datastructures import MutableHeaders\n",
                path="app/routers/deprecation.py",
            )
        ],
        killed_by=["test_no_async_function_blocks_the_event_loop"],
        says="time.sleep",
        why="a blocking call in middleware stalls every request of the process",
    ),
    Mutant(
        "cursor-issue-untyped",
        path="app/services/pages.py",
        find="    def issue(self, last_id: uuid.UUID) -> str:",
        replace="    def issue(self, last_id):  # type: ignore[no-untyped-def]",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="mypy",
        why="mypy --strict is the workshop's standard; an unused ignore and an untyped def both fail it",
    ),
]

MUTANTS = [*STEP_1, *STEP_2, *STEP_3, *STEP_4, *STEP_5]
