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
        "no-service-tests",
        path=SERVICES_T,
        find="from app.services.transfers import TransferService\n",
        replace='from app.services.transfers import TransferService\n\npytestmark = pytest.mark.skip(reason="covered over HTTP")\n',
        also=[
            Edit(
                "from app.services.errors import AccountNotFound, InvalidAmount\n",
                'from app.services.errors import AccountNotFound, InvalidAmount\n\npytestmark = pytest.mark.skip(reason="covered over HTTP")\n',
                SERVICES_A,
            )
        ],
        killed_by=["test_your_tests_run_at_least_90_percent_of_the_services"],
        says="at least 90%",
        why="rules HTTP never lets through (a deposit of 0, the replay of an unknown account) run in service tests only",
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
        "only-http-transfers-tested",
        path=SERVICES_A,
        find="from app.services.errors import AccountNotFound, InvalidAmount\n",
        replace='from app.services.errors import AccountNotFound, InvalidAmount\n\npytestmark = pytest.mark.skip(reason="later")\n',
        also=[
            Edit(
                "from app.services.transfers import TransferService\n",
                'from app.services.transfers import TransferService\n\npytestmark = pytest.mark.skip(reason="later")\n',
                SERVICES_T,
            ),
            Edit(
                'ACCOUNTS = "/api/v1/accounts"\n',
                'ACCOUNTS = "/api/v1/accounts"\npytestmark = pytest.mark.skip(reason="later")\n',
                API_A,
            ),
            Edit("import httpx\n", "import httpx\nimport pytest\n", API_A),
            Edit(
                'ACCOUNTS = "/api/v1/accounts"\n',
                'ACCOUNTS = "/api/v1/accounts"\npytestmark = pytest.mark.skip(reason="later")\n',
                COMMITTED,
            ),
            Edit("import httpx\n", "import httpx\nimport pytest\n", COMMITTED),
            Edit(
                "from app.models import Account, Entry\n",
                'from app.models import Account, Entry\n\npytestmark = pytest.mark.skip(reason="later")\n',
                REPOSITORIES,
            ),
        ],
        killed_by=["test_your_tests_run_at_least_90_percent_of_the_repositories"],
        says="app/crud",
        why="a suite that tests transfers over HTTP and nothing else leaves the repositories' pages and statements unrun",
    ),
]
