"""Lesson 07's mutants: test suites a reviewer would send back, each caught by the checks it names.

Here the learner's code is a test suite, so each mutant weakens the reference suite (tests/) the
way a hurried or hopeful author would: an assertion that accepts any error, a boundary never
tried, concurrency tested one request at a time, a rule tested only where HTTP hides it. Each
must be caught by the seeded bug it lets through, with the symptom in the message.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

SERVICES_T = "tests/test_services_transfers.py"
SERVICES_A = "tests/test_services_accounts.py"
API_T = "tests/test_api_transfers.py"
API_A = "tests/test_api_accounts.py"
COMMITTED = "tests/test_committed.py"


def skipped_after(line: str, path: str) -> Edit:
    """Every test of `path` skipped, as a hurried learner leaves a file: a module-level mark after `line`."""
    return Edit(line, f'{line}pytestmark = pytest.mark.skip(reason="later")\n', path)


# No transfer test runs: the service's, the API's and the committed ones (that file imports no pytest).
TRANSFER_TESTS_SKIPPED = [
    skipped_after("from app.services.transfers import TransferService\n", SERVICES_T),
    skipped_after('TRANSFERS = "/api/v1/transfers"\n', API_T),
    skipped_after('ACCOUNTS = "/api/v1/accounts"\n', COMMITTED),
    Edit("import httpx\n", "import httpx\nimport pytest\n", COMMITTED),
]


def bug(name: str) -> str:
    return f"test_your_tests_catch_the_seeded_bug[{name}]"


MUTANTS = [
    # step 1: the fixtures, and what a suite may touch
    Mutant(
        "falls-back-to-the-app-database",
        path="tests/conftest.py",
        find="    url = os.environ.get(TEST_DATABASE)\n",
        replace="    url = os.environ.get(TEST_DATABASE) or get_settings().database_url\n",
        killed_by=["test_your_tests_refuse_to_run_without_a_test_database_of_their_own"],
        says="deleted the rows",
        why="without the variable the suite runs on the app's own database and empties its tables",
    ),
    Mutant(
        "falls-back-to-a-default-that-works",
        path="tests/conftest.py",
        find="    url = os.environ.get(TEST_DATABASE)\n",
        replace="    url = os.environ.get(TEST_DATABASE) or os.environ.get('LEDGER_DATABASE_URL')\n",
        killed_by=["test_your_tests_refuse_to_run_without_a_test_database_of_their_own"],
        says="app's own database",
        why="any fallback to the app's database is a fallback that empties it one day",
    ),
    Mutant(
        "reads-the-seeded-bugs",
        path="tests/test_smoke.py",
        find="import httpx\n",
        replace=(
            "from pathlib import Path\n\nimport httpx\nimport workshop\n\n\n"
            "def test_the_app_has_none_of_the_graders_bugs() -> None:\n"
            "    bugs = Path(workshop.__file__).resolve().parents[2] / 'lessons' / '07' / 'checks' / 'bugs.py'\n"
            "    assert 'SeededBug' in bugs.read_text()\n"
        ),
        killed_by=["test_your_tests_read_none_of_the_workshops_own_files"],
        says="tried to read",
        why="a suite that reads the grader's list of bugs can pass without testing the app",
    ),
    Mutant(
        "expects-the-wrong-status",
        path=API_A,
        find='    assert response.status_code == 201\n    assert response.json()["balance"] == 1050\n',
        replace='    assert response.status_code == 200\n    assert response.json()["balance"] == 1050\n',
        killed_by=["test_your_tests_pass_on_the_app_as_given"],
        says="fail on the app as given",
        why="a test that fails on a working app cannot tell a bug from a feature",
    ),
    # step 3: the rules, on the services
    Mutant(
        "accepts-any-refusal",
        path=SERVICES_T,
        find="    with pytest.raises(InsufficientFunds):\n        await transfers.transfer(source_id=source.id, target_id=target.id, amount=501)\n\n    assert (source.balance, target.balance) == (500, 0)\n",
        replace="    with pytest.raises(Exception):  # noqa: B017\n        await transfers.transfer(source_id=source.id, target_id=target.id, amount=501)\n",
        also=[
            # … and the suite has no other test of an overdraft: none over HTTP, none with real commits.
            Edit(
                "async def test_a_transfer_without_enough_money_answers_409_insufficient_funds(client: httpx.AsyncClient) -> None:\n"
                "    source, target = await account(client, 100), await account(client)\n\n"
                "    response = await client.post(TRANSFERS, json=transfer(source, target, 101))\n\n"
                "    assert response.status_code == 409\n"
                '    assert response.json()["error"]["code"] == "insufficient_funds"\n',
                "",
                API_T,
            ),
            Edit(
                '    refused = await live_client.post("/api/v1/transfers", json=body, headers=key)\n',
                '    refused = await live_client.post("/api/v1/transfers", json={**body, "target_id": source}, headers=key)\n',
                COMMITTED,
            ),
            Edit("    assert refused.status_code == 409\n", "    assert refused.status_code == 422\n", COMMITTED),
        ],
        killed_by=[bug("transfer-overdraws")],
        says="more than the balance",
        why="pytest.raises(Exception) passes when the database's CHECK refuses instead of the rule",
    ),
    Mutant(
        "never-tries-the-boundary",
        path=SERVICES_T,
        find="    await transfers.transfer(source_id=source.id, target_id=target.id, amount=500)\n\n"
        "    assert (source.balance, target.balance) == (0, 500)\n",
        replace="    await transfers.transfer(source_id=source.id, target_id=target.id, amount=400)\n\n"
        "    assert (source.balance, target.balance) == (100, 400)\n",
        also=[
            Edit(
                '    await live_client.post(f"{ACCOUNTS}/{source}/deposits", json={"amount": 200})\n',
                '    await live_client.post(f"{ACCOUNTS}/{source}/deposits", json={"amount": 250})\n',
                COMMITTED,
            ),
            Edit(
                "    assert (await balance(live_client, source), await balance(live_client, target)) == (0, 300)\n",
                "    assert (await balance(live_client, source), await balance(live_client, target)) == (50, 300)\n",
                COMMITTED,
            ),
        ],
        killed_by=[bug("whole-balance-refused")],
        says="whole balance",
        why="moving less than the balance never finds an off-by-one at the boundary",
    ),
    Mutant(
        "forgets-the-same-account-rule",
        path=SERVICES_T,
        find="    with pytest.raises(SameAccount):\n        await transfers.transfer(source_id=account.id, target_id=account.id, amount=100)\n",
        replace="    assert account.balance == 500\n",
        also=[
            Edit(
                '@pytest.mark.parametrize("code", ["same_account", "currency_mismatch"])',
                '@pytest.mark.parametrize("code", ["currency_mismatch"])',
                API_T,
            )
        ],
        killed_by=[bug("same-account-allowed")],
        says="to itself",
        why="a rule no test breaks on purpose is a rule nobody will notice going",
    ),
    Mutant(
        "forgets-the-currency-rule",
        path=SERVICES_T,
        find="    with pytest.raises(CurrencyMismatch):\n        await transfers.transfer(source_id=source.id, target_id=target.id, amount=100)\n",
        replace="",
        also=[
            Edit(
                '@pytest.mark.parametrize("code", ["same_account", "currency_mismatch"])',
                '@pytest.mark.parametrize("code", ["same_account"])',
                API_T,
            )
        ],
        killed_by=[bug("currency-unchecked")],
        says="two currencies",
        why="without a test that breaks it, the currency rule can compare anything with anything",
    ),
    Mutant(
        "counts-entries-instead-of-reading-them",
        path=SERVICES_T,
        find="    assert [(entry.amount, entry.transfer_id) for entry in sent] == [(-300, result.transfer_id)]\n"
        "    assert [(entry.amount, entry.transfer_id) for entry in received] == [(300, result.transfer_id)]\n",
        replace="    assert len(sent) == 1 and len(received) == 1\n",
        killed_by=[bug("entry-wrong-sign")],
        says="summed to zero",
        why="two entries of +300 are two entries too: read their amounts",
    ),
    Mutant(
        "reuses-a-key-only-for-another-target",
        path=SERVICES_T,
        find='@pytest.mark.parametrize("change", ["amount", "target"])',
        replace='@pytest.mark.parametrize("change", ["target"])',
        also=[
            Edit(
                "    response = await client.post(TRANSFERS, json=transfer(source, target, 500), headers=key)\n",
                "    response = await client.post(TRANSFERS, json=transfer(target, source, 300), headers=key)\n",
                API_T,
            )
        ],
        killed_by=[bug("fingerprint-ignores-amount")],
        says="different amount",
        why="the fingerprint has three parts; a test of one cannot see another go missing",
    ),
    Mutant(
        "tests-the-deposit-rule-only-over-http",
        path=SERVICES_A,
        find='@pytest.mark.parametrize("amount", [0, -100])\nasync def test_a_deposit_of_nothing_or_less_is_refused',
        replace='@pytest.mark.parametrize("amount", [-100])\nasync def test_a_deposit_of_nothing_or_less_is_refused',
        killed_by=[bug("deposit-accepts-zero")],
        says="deposit of 0",
        why="over HTTP the DTO refuses 0 first: only a service test sees the service's own rule",
    ),
    Mutant(
        "checks-the-balance-not-the-statement",
        path=SERVICES_A,
        find="    entries = await accounts.statement(account.id)\n"
        "    assert sorted((entry.amount, entry.transfer_id) for entry in entries) == [(50, None), (250, None)]\n",
        replace="",
        also=[
            Edit(
                '    assert sorted(entry["amount"] for entry in response.json()["items"]) == [100, 250]\n',
                '    assert isinstance(response.json()["items"], list)\n',
                API_A,
            )
        ],
        killed_by=[bug("deposit-leaves-no-entry")],
        says="statement",
        why="a deposit changes the balance and the statement; testing one misses the other",
    ),
    Mutant(
        "pages-checked-as-a-subset",
        path=SERVICES_A,
        find="    assert [[account.id for account in page] for page in pages] == [in_order[0:2], in_order[2:4], in_order[4:]]\n",
        replace="    assert {account.id for page in pages for account in page} <= set(in_order)\n",
        also=[
            Edit(
                '    assert [account["id"] for account in first.json()["items"]] == ids[:2]\n'
                '    assert [account["id"] for account in second.json()["items"]] == ids[2:]\n',
                '    assert {account["id"] for account in first.json()["items"] + second.json()["items"]} <= set(ids)\n',
                API_A,
            ),
            Edit(
                "    assert [[account.id for account in page] for page in pages] == [in_order[0:2], in_order[2:4], in_order[4:]]\n",
                "    assert {account.id for page in pages for account in page} <= set(in_order)\n",
                "tests/test_repositories.py",
            ),
        ],
        killed_by=[bug("accounts-page-skips-one")],
        says="skipped some accounts",
        why="every page being a subset says nothing about the accounts no page showed",
    ),
    # step 4: the HTTP contract
    Mutant(
        "accepts-any-success",
        path=API_A,
        find='    assert response.status_code == 201\n    assert response.json()["balance"] == 1050\n',
        replace='    assert response.is_success\n    assert response.json()["balance"] == 1050\n',
        also=[
            Edit(
                "    assert failures(responses, 201) == []\n    assert await balance(live_client, target) == 200\n",
                "    assert all(not isinstance(response, BaseException) for response in responses)\n"
                "    assert await balance(live_client, target) == 200\n",
                COMMITTED,
            )
        ],
        killed_by=[bug("deposit-answers-200")],
        says="instead of 201",
        why="a client branches on 201 vs 200; `is_success` accepts either",
    ),
    Mutant(
        "accepts-any-client-error",
        path=API_T,
        find='    assert response.status_code == 409\n    assert response.json()["error"]["code"] == "insufficient_funds"\n',
        replace="    assert response.status_code in (409, 422)\n",
        also=[Edit("    assert refused.status_code == 409\n", "    assert refused.status_code >= 400\n", COMMITTED)],
        killed_by=[bug("insufficient-funds-answers-422")],
        says="instead of 409",
        why="the status of each refusal is the contract; a range hides a wrong mapping",
    ),
    Mutant(
        "only-checks-it-does-not-crash",
        path=API_T,
        find="    assert response.status_code == 422\n    assert await balance(client, source) == 1000\n",
        replace="    assert response.status_code < 500\n",
        killed_by=[bug("unknown-fields-accepted")],
        says="field the API does not know",
        why="'no 500' is not a test of validation",
    ),
    Mutant(
        "idempotency-tested-only-on-the-service",
        path=API_T,
        find="    first = await client.post(TRANSFERS, json=transfer(source, target, 300), headers=key)\n"
        "    retry = await client.post(TRANSFERS, json=transfer(source, target, 300), headers=key)\n",
        replace="    first = await client.post(TRANSFERS, json=transfer(source, target, 300), headers=key)\n"
        "    retry = first\n",
        also=[
            Edit(
                "    response = await client.post(TRANSFERS, json=transfer(source, target, 500), headers=key)\n\n"
                "    assert response.status_code == 409\n"
                '    assert response.json()["error"]["code"] == "idempotency_conflict"\n'
                "    assert await balance(client, source) == 700\n",
                "    assert await balance(client, source) == 700\n",
                API_T,
            ),
            Edit('    assert retry.headers.get("idempotent-replayed") == "true"\n', "", API_T),
        ],
        killed_by=[bug("idempotency-header-ignored")],
        says="moved the money twice",
        why="a service test cannot see whether the route hands the header to the service",
    ),
    # step 5: real commits
    Mutant(
        "crossing-transfers-one-at-a-time",
        path=COMMITTED,
        find="    responses = await asyncio.gather(\n"
        "        *(\n"
        '            live_client.post("/api/v1/transfers", json={"source_id": s, "target_id": t, "amount": n})\n'
        "            for s, t, n in requests\n"
        "        ),\n"
        "        return_exceptions=True,\n"
        "    )\n",
        replace="    responses: list[httpx.Response | BaseException] = [\n"
        '        await live_client.post("/api/v1/transfers", json={"source_id": s, "target_id": t, "amount": n})\n'
        "        for s, t, n in requests\n"
        "    ]\n",
        killed_by=[bug("locks-in-request-order")],
        says="deadlock",
        why="transfers sent one after another never hold two locks at once",
    ),
    Mutant(
        "deposits-one-at-a-time",
        path=COMMITTED,
        find="    responses = await asyncio.gather(\n"
        '        *(live_client.post(f"{ACCOUNTS}/{target}/deposits", json={"amount": 10}) for _ in range(20)),\n'
        "        return_exceptions=True,\n"
        "    )\n",
        replace="    responses: list[httpx.Response | BaseException] = [\n"
        '        await live_client.post(f"{ACCOUNTS}/{target}/deposits", json={"amount": 10}) for _ in range(20)\n'
        "    ]\n",
        killed_by=[bug("deposit-lost-update")],
        says="at the same time",
        why="deposits one after another never race, so a lost update never shows",
    ),
    Mutant(
        "refused-key-tested-on-the-rolled-back-client",
        path=COMMITTED,
        find="async def test_a_refused_transfer_does_not_use_up_its_idempotency_key(live_client: httpx.AsyncClient) -> None:\n",
        replace="async def test_a_refused_transfer_does_not_use_up_its_idempotency_key(client: httpx.AsyncClient) -> None:\n"
        "    live_client = client  # the app's session dependency replaced: its commit and rollback never run\n",
        killed_by=[bug("failed-request-commits")],
        says="still committed",
        why="`client` replaces get_session, so only `live_client` can show a failed request committing",
    ),
    # step 6: coverage, and what it does not tell
    Mutant(
        "reads-the-source-instead-of-running-it",
        path="tests/test_smoke.py",
        find="import httpx\n",
        replace=(
            "from pathlib import Path\n\nimport httpx\n\n\n"
            "def test_the_overdraft_rule_is_in_the_code() -> None:\n"
            "    source = (Path(__file__).parents[1] / 'app' / 'services' / 'transfers.py').read_text()\n"
            "    assert 'if source.balance < amount:' in source\n"
        ),
        killed_by=["test_your_tests_pass_on_a_rewrite_of_the_app_that_behaves_the_same"],
        says="rewrite of the app",
        why="a test of the source text passes on a broken app and fails on a correct rewrite",
    ),
    Mutant(
        "transfers-left-untested",
        path=SERVICES_T,
        find=TRANSFER_TESTS_SKIPPED[0].find,
        replace=TRANSFER_TESTS_SKIPPED[0].replace,
        also=TRANSFER_TESTS_SKIPPED[1:],
        killed_by=["test_your_tests_run_at_least_90_percent_of_the_services"],
        says="at least 90%",
        why="a suite that tests the accounts and stops there: the transfer service and its rules never run",
    ),
]

# The stack's own bar (step 6): what ruff and mypy --strict refuse in a learner's test suite.
MUTANTS += [
    Mutant(
        "test-without-a-return-annotation",
        path=SERVICES_A,
        find="async def test_a_new_account_holds_nothing(accounts: AccountService) -> None:\n",
        replace="async def test_a_new_account_holds_nothing(accounts: AccountService):\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="missing a return type annotation",
        why="tests are code too: mypy --strict checks them as it checks the app",
    ),
    Mutant(
        "unused-import-in-a-test",
        path=SERVICES_A,
        find="import uuid\n",
        replace="import asyncio\nimport uuid\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="F401",
        why="an import nothing uses is dead code ruff reports on every run",
    ),
]

REPOSITORIES = "tests/test_repositories.py"

# Repository tests (step 3) and the coverage floors (step 6).
MUTANTS += [
    Mutant(
        "statement-compared-as-a-set",
        path=REPOSITORIES,
        find="    assert [entry.id for entry in found] == sorted((entry.id for entry in written), reverse=True)\n",
        replace="    assert {entry.id for entry in found} == {entry.id for entry in written}\n",
        also=[
            Edit(
                "    assert [entry.id for entry in first] == newest_first[:2]\n"
                "    assert [entry.id for entry in second] == newest_first[2:]\n",
                "    assert (len(first), len(second)) == (2, 1)\n",
                REPOSITORIES,
            )
        ],
        killed_by=[bug("statement-oldest-first")],
        says="oldest first",
        why="a set has no order: the test cannot see the statement turned upside down",
    ),
    Mutant(
        "statement-first-page-only",
        path=REPOSITORIES,
        find="    assert [entry.id for entry in second] == newest_first[2:]\n",
        replace="",
        killed_by=[bug("statement-ignores-offset")],
        says="second page",
        why="a test that reads one page cannot see the offset ignored",
    ),
    Mutant(
        "commit-never-watched",
        path=REPOSITORIES,
        find='    monkeypatch.setattr(session, "commit", no_commit)\n',
        replace="",
        killed_by=[bug("repository-commits")],
        says="committed the transaction",
        why="inside the test's savepoints a commit changes nothing visible: only a spy on commit sees it",
    ),
    Mutant(
        "transfer-amount-rule-tested-only-over-http",
        path=SERVICES_T,
        find='@pytest.mark.parametrize("amount", [0, -100])\nasync def test_a_transfer_of_nothing_or_less_is_refused(\n'
        "    accounts: AccountService, transfers: TransferService, amount: int\n"
        ") -> None:\n"
        "    source, target = await funded(accounts, 500), await funded(accounts, 0)\n\n"
        "    with pytest.raises(InvalidAmount):\n"
        "        await transfers.transfer(source_id=source.id, target_id=target.id, amount=amount)\n",
        replace="",
        killed_by=["test_your_tests_run_every_line_of_the_transfer_service"],
        says="transfers.py",
        why="HTTP refuses a zero amount before the service runs: the service's own rule is never run, never tested",
    ),
    Mutant(
        "account-tests-only",
        path=REPOSITORIES,
        find="from app.models import Account, Entry\n",
        replace=skipped_after("from app.models import Account, Entry\n", REPOSITORIES).replace,
        also=TRANSFER_TESTS_SKIPPED,
        killed_by=["test_your_tests_run_at_least_90_percent_of_the_repositories"],
        says="app/crud",
        why="no repository tests and no transfers: the idempotency keys' repository and the entries' pages never run",
    ),
]

CONFTEST = "tests/conftest.py"

# The fixtures (steps 1, 2 and 5): mistakes that change no assertion, seen by the watcher (test_fixtures.py).
MUTANTS += [
    Mutant(
        "session-default-join-mode",
        path=CONFTEST,
        find="    async with AsyncSession(\n"
        '        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False\n'
        "    ) as session:\n"
        "        yield session\n",
        replace="    async with AsyncSession(bind=connection, expire_on_commit=False) as session:\n        yield session\n",
        killed_by=["test_your_sessions_turn_the_codes_commits_into_savepoints"],
        says="without SAVEPOINTs",
        why="without SAVEPOINTs a rollback in the code under test ends the test's own transaction",
    ),
    Mutant(
        "engine-per-test",
        path=CONFTEST,
        find='@pytest_asyncio.fixture(scope="session", loop_scope="session")\nasync def engine(',
        replace='@pytest_asyncio.fixture(loop_scope="session")\nasync def engine(',
        killed_by=["test_your_tests_share_one_engine_for_the_whole_run"],
        says="engines (connection pools)",
        why="a new engine and pool for every test: the expensive, shareable thing is rebuilt each time",
    ),
    Mutant(
        "client-without-lifespan",
        path=CONFTEST,
        find="    app.dependency_overrides[get_session] = session_in_the_test\n"
        "    async with LifespanManager(app) as manager:\n"
        "        transport = httpx.ASGITransport(app=manager.app)\n"
        '        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:\n'
        "            yield client\n",
        replace="    app.dependency_overrides[get_session] = session_in_the_test\n"
        "    transport = httpx.ASGITransport(app=app)\n"
        '    async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:\n'
        "        yield client\n",
        killed_by=["test_your_client_runs_the_apps_lifespan"],
        says="lifespan never ran",
        why="the endpoint tests never start the app as a server does: its lifespan is never run",
    ),
    Mutant(
        "override-commits-even-on-error",
        path=CONFTEST,
        find="            try:\n"
        "                yield session\n"
        "            except Exception:\n"
        "                await session.rollback()\n"
        "                raise\n"
        "            else:\n"
        "                await session.commit()\n",
        replace="            try:\n                yield session\n            finally:\n                await session.commit()\n",
        killed_by=["test_your_client_rolls_back_a_request_that_failed"],
        says="was committed",
        why="the override breaks get_session's contract: a refused request's writes are committed in the tests",
    ),
    Mutant(
        "live-client-app-settings",
        path=CONFTEST,
        find="    app = create_app(settings)\n"
        "    async with LifespanManager(app) as manager:\n"
        "        transport = httpx.ASGITransport(app=manager.app)\n"
        '        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:\n'
        "            yield client\n"
        "    async with engine.begin() as connection:\n",
        replace="    app = create_app()\n"
        "    async with LifespanManager(app) as manager:\n"
        "        transport = httpx.ASGITransport(app=manager.app)\n"
        '        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:\n'
        "            yield client\n"
        "    async with engine.begin() as connection:\n",
        killed_by=[
            "test_every_app_your_tests_build_uses_the_test_database",
            "test_your_tests_pass_on_the_app_as_given",
        ],
        says="not the test database",
        why="the live app reads the app's own settings: its real commits land in the app's database",
    ),
    Mutant(
        "connection-commits-at-teardown",
        path=CONFTEST,
        find="        if transaction.is_active:\n            await transaction.rollback()\n",
        replace="        if transaction.is_active:\n            await transaction.commit()\n",
        killed_by=["test_each_test_leaves_no_rows_for_the_next", "test_your_tests_pass_on_the_app_as_given"],
        says="earlier tests had committed",
        why="every test's rows are committed at its end: state leaks into the tests after it",
    ),
    Mutant(
        "connection-without-outer-transaction",
        path=CONFTEST,
        find="    async with engine.connect() as connection:\n"
        "        transaction = await connection.begin()\n"
        "        yield connection\n"
        "        if transaction.is_active:\n"
        "            await transaction.rollback()\n",
        replace="    async with engine.connect() as connection:\n        yield connection\n",
        killed_by=["test_each_test_leaves_no_rows_for_the_next", "test_your_tests_pass_on_the_app_as_given"],
        says="earlier tests had committed",
        why="no outer transaction: the code's commits are real, and tests see each other's rows",
    ),
    Mutant(
        "client-left-as-the-stub",
        path=CONFTEST,
        find="    app = create_app(settings)\n"
        "\n"
        "    async def session_in_the_test() -> AsyncIterator[AsyncSession]:\n"
        "        # get_session's contract, commit on success and roll back on error, on the test's connection.\n"
        "        async with AsyncSession(\n"
        '            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False\n'
        "        ) as session:\n"
        "            try:\n"
        "                yield session\n"
        "            except Exception:\n"
        "                await session.rollback()\n"
        "                raise\n"
        "            else:\n"
        "                await session.commit()\n"
        "\n"
        "    app.dependency_overrides[get_session] = session_in_the_test\n"
        "    async with LifespanManager(app) as manager:\n"
        "        transport = httpx.ASGITransport(app=manager.app)\n"
        '        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:\n'
        "            yield client\n",
        replace="    # TODO Lesson 07: write the `client` fixture (step 2)\n"
        '    pytest.skip("the `client` fixture is not written yet (step 2): the tests that use it are skipped")\n',
        killed_by=["test_your_client_serves_every_test_that_asks_for_it"],
        says="skips the tests that ask for it",
        why="the starter's client is left as it is: every endpoint test is skipped, and a skipped test catches nothing",
    ),
    Mutant(
        "live-client-written-below-the-skip",
        path=CONFTEST,
        find='    """The app exactly as it serves: its own pool, the real get_session, real commits. Tables emptied after."""\n',
        replace='    """The app exactly as it serves: its own pool, the real get_session, real commits. Tables emptied after."""\n'
        '    pytest.skip("the `live_client` fixture is not written yet (step 5): the tests that use it are skipped")\n',
        killed_by=["test_your_live_client_serves_every_test_that_asks_for_it"],
        says="skips the tests that ask for it",
        why="the fixture is written under the stub's skip, which still runs first: no committed test ever runs",
    ),
    Mutant(
        "live-client-no-cleanup",
        path=CONFTEST,
        find="            yield client\n"
        "    async with engine.begin() as connection:\n"
        "        await connection.execute(EMPTY_TABLES)\n",
        replace="            yield client\n",
        killed_by=[
            "test_your_live_client_empties_the_tables_after_each_test",
            "test_your_tests_pass_on_the_app_as_given",
        ],
        says="used live_client",
        why="committed rows of live tests outlive them and leak into later tests",
    ),
]

# Precise assertions (steps 3 to 5): each weakens one test so that a seeded bug only it would see goes through.
MUTANTS += [
    Mutant(
        "insufficient-funds-expects-any-exception",
        path=SERVICES_T,
        find="    with pytest.raises(InsufficientFunds):\n"
        "        await transfers.transfer(source_id=source.id, target_id=target.id, amount=501)\n"
        "\n"
        "    assert (source.balance, target.balance) == (500, 0)\n",
        replace="    with pytest.raises(Exception):  # noqa: B017\n"
        "        await transfers.transfer(source_id=source.id, target_id=target.id, amount=501)\n",
        also=[Edit("    InsufficientFunds,\n", "", SERVICES_T)],
        killed_by=["test_your_tests_expect_the_precise_error_not_any_exception"],
        says="expects any exception",
        why="pytest.raises(Exception) also passes when the database's CHECK refuses instead of the rule",
    ),
    Mutant(
        "deposit-into-unknown-account-expects-any-exception",
        path=SERVICES_A,
        find="async def test_a_deposit_into_an_unknown_account_is_not_found(accounts: AccountService) -> None:\n"
        "    with pytest.raises(AccountNotFound):\n",
        replace="async def test_a_deposit_into_an_unknown_account_is_refused(accounts: AccountService) -> None:\n"
        "    with pytest.raises(Exception):  # noqa: B017\n",
        killed_by=[bug("deposit-into-unknown-account-crashes")],
        says="does not exist",
        why="pytest.raises(Exception) passes on the AttributeError of a deposit that forgot the account may be missing",
    ),
    Mutant(
        "statement-of-unknown-account-never-asked",
        path=SERVICES_A,
        find="async def test_the_statement_of_an_unknown_account_is_not_found(accounts: AccountService) -> None:\n"
        "    with pytest.raises(AccountNotFound):\n"
        "        await accounts.statement(uuid.uuid4())\n"
        "\n"
        "\n",
        replace="",
        also=[
            Edit(
                '    for path in (f"{ACCOUNTS}/{uuid.uuid4()}", f"{ACCOUNTS}/{uuid.uuid4()}/entries"):',
                '    for path in (f"{ACCOUNTS}/{uuid.uuid4()}",):',
                API_A,
            )
        ],
        killed_by=[bug("statement-of-unknown-account-empty")],
        says="empty list",
        why="no test asks for the statement of an unknown account: a statement that answers [] instead of 404 passes",
    ),
    Mutant(
        "key-conflict-only-on-amount",
        path=SERVICES_T,
        find='@pytest.mark.parametrize("change", ["amount", "target"])',
        replace='@pytest.mark.parametrize("change", ["amount"])',
        killed_by=[bug("fingerprint-ignores-target")],
        says="another account",
        why="a key reused for another target is never tried: a fingerprint without the target passes",
    ),
    Mutant(
        "get-for-update-only-finds-the-row",
        path=REPOSITORIES,
        find="async def test_get_for_update_reads_the_row_as_it_is_now(accounts: AccountRepository, session: AsyncSession) -> None:\n"
        '    account = await accounts.add(Account(owner="Ada", currency="EUR"))\n'
        '    await session.execute(text("UPDATE accounts SET balance = 700 WHERE id = :id"), {"id": account.id})\n'
        "\n"
        "    locked = await accounts.get_for_update(account.id)\n"
        "\n"
        "    assert locked is not None and locked.balance == 700\n",
        replace="async def test_get_for_update_finds_the_account(accounts: AccountRepository) -> None:\n"
        '    account = await accounts.add(Account(owner="Ada", currency="EUR"))\n'
        "\n"
        "    locked = await accounts.get_for_update(account.id)\n"
        "\n"
        "    assert locked is not None\n",
        also=[Edit("from sqlalchemy import text\n", "", REPOSITORIES)],
        killed_by=[bug("lock-reads-a-stale-row")],
        says="as it is now",
        why="get_for_update is only checked to find the row: a lock that keeps stale identity-map values passes",
    ),
    Mutant(
        "entries-only-summed",
        path=SERVICES_T,
        find="    assert [(entry.amount, entry.transfer_id) for entry in sent] == [(-300, result.transfer_id)]\n"
        "    assert [(entry.amount, entry.transfer_id) for entry in received] == [(300, result.transfer_id)]\n",
        replace="    assert result.transfer_id is not None\n"
        "    assert sum(entry.amount for entry in sent + received) == 0\n",
        killed_by=[bug("transfer-entries-swapped"), bug("transfer-entries-unlinked")],
        says="a transfer's entries",
        why="entries only summed to zero: swapped signs and a missing transfer id both pass",
    ),
    Mutant(
        "refusal-asserted-as-any-4xx",
        path=API_T,
        find="    response = await client.post(TRANSFERS, json=transfer(source, target, 101))\n"
        "\n"
        "    assert response.status_code == 409\n"
        '    assert response.json()["error"]["code"] == "insufficient_funds"\n',
        replace="    response = await client.post(TRANSFERS, json=transfer(source, target, 101))\n"
        "\n"
        "    assert 400 <= response.status_code < 500\n",
        killed_by=[bug("insufficient-funds-wrong-code")],
        says='"insufficient_funds"',
        why="'some 4xx' for insufficient funds: the wrong status and the wrong code both pass",
    ),
    Mutant(
        "replay-header-and-body-unasserted",
        path=API_T,
        find="    assert (first.status_code, retry.status_code) == (201, 201)\n"
        "    assert retry.json() == first.json()\n"
        '    assert retry.headers.get("idempotent-replayed") == "true"\n',
        replace="    assert (first.status_code, retry.status_code) == (201, 201)\n",
        killed_by=[bug("replay-not-marked")],
        says="Idempotent-Replayed",
        why="the replay's body and its Idempotent-Replayed header are never asserted",
    ),
    Mutant(
        "amount-strictness-untested",
        path=API_A,
        find='    for amount in (0, -5, 10.5, "10"):',
        replace="    for amount in (0, -5):",
        killed_by=[bug("amount-accepts-strings")],
        says="(a string)",
        why='only zero and negatives are tried: a lax DTO that accepts "10" passes',
    ),
    Mutant(
        "validation-body-unasserted",
        path=API_A,
        find="    assert response.status_code == 422\n"
        '    error = response.json()["error"]\n'
        '    assert error["code"] == "validation_error"\n'
        '    assert sorted(problem["location"] for problem in error["details"]) == ["body.currency", "body.owner"]\n',
        replace="    assert response.status_code == 422\n",
        killed_by=[bug("validation-error-without-details")],
        says="which fields",
        why="the validation error's body (its code, one detail per field) is never checked",
    ),
    Mutant(
        "crossing-transfers-just-two",
        path=COMMITTED,
        find="    requests = [(a, b, 7), (b, a, 5)] * 15  # 30 transfers, both directions, all at once",
        replace="    requests = [(a, b, 7), (b, a, 5)]  # one each way, at once",
        also=[
            Edit(
                "    assert (await balance(live_client, a), await balance(live_client, b)) == (970, 1030)",
                "    assert (await balance(live_client, a), await balance(live_client, b)) == (998, 1002)",
                COMMITTED,
            )
        ],
        killed_by=[bug("locks-in-request-order")],
        says="deadlock",
        why="one crossing pair deadlocks only now and then: the test passes on the lock-order bug most runs",
    ),
    Mutant(
        "crossing-transfers-one-direction",
        path=COMMITTED,
        find="    requests = [(a, b, 7), (b, a, 5)] * 15  # 30 transfers, both directions, all at once",
        replace="    requests = [(a, b, 7), (a, b, 5)] * 15  # 30 transfers at once",
        also=[
            Edit(
                "    assert (await balance(live_client, a), await balance(live_client, b)) == (970, 1030)",
                "    assert (await balance(live_client, a), await balance(live_client, b)) == (820, 1180)",
                COMMITTED,
            )
        ],
        killed_by=[bug("locks-in-request-order")],
        says="deadlocked",
        why="all concurrent transfers go A→B: they never cross, so a lock-order deadlock cannot happen",
    ),
    Mutant(
        "locks-tested-by-reading-the-source",
        path=COMMITTED,
        find="async def test_crossing_transfers_neither_deadlock_nor_lose_money(live_client: httpx.AsyncClient) -> None:\n"
        "    a, b = await account(live_client, 1000), await account(live_client, 1000)\n"
        "    requests = [(a, b, 7), (b, a, 5)] * 15  # 30 transfers, both directions, all at once\n"
        "\n"
        "    responses = await asyncio.gather(\n"
        "        *(\n"
        '            live_client.post("/api/v1/transfers", json={"source_id": s, "target_id": t, "amount": n})\n'
        "            for s, t, n in requests\n"
        "        ),\n"
        "        return_exceptions=True,\n"
        "    )\n"
        "\n"
        "    assert failures(responses, 201) == []\n"
        "    # a sent 15 transfers of 7 and received 15 of 5; b the other way round. Nothing lost, nothing made up.\n"
        "    assert (await balance(live_client, a), await balance(live_client, b)) == (970, 1030)\n"
        "\n"
        "\n"
        "async def test_concurrent_deposits_are_all_counted(live_client: httpx.AsyncClient) -> None:\n"
        "    target = await account(live_client)\n"
        "\n"
        "    responses = await asyncio.gather(\n"
        '        *(live_client.post(f"{ACCOUNTS}/{target}/deposits", json={"amount": 10}) for _ in range(20)),\n'
        "        return_exceptions=True,\n"
        "    )\n"
        "\n"
        "    assert failures(responses, 201) == []\n"
        "    assert await balance(live_client, target) == 200\n",
        replace="def test_transfers_lock_both_accounts_in_sorted_order() -> None:\n"
        "    source = inspect.getsource(TransferService._lock_both)\n"
        "\n"
        '    assert "sorted(" in source\n'
        '    assert "get_for_update" in source\n'
        "\n"
        "\n"
        "def test_deposits_lock_the_row() -> None:\n"
        '    assert "get_for_update" in inspect.getsource(AccountService.deposit)\n',
        also=[
            Edit("import asyncio\n", "import inspect\n", COMMITTED),
            Edit(
                "import httpx\n",
                "import httpx\n\nfrom app.services.accounts import AccountService\n"
                "from app.services.transfers import TransferService\n",
                COMMITTED,
            ),
        ],
        killed_by=["test_your_tests_pass_on_a_rewrite_of_the_app_that_behaves_the_same"],
        says="not how its source is written",
        why="races 'tested' by grepping the source for sorted( and get_for_update: no behaviour is checked",
    ),
]
