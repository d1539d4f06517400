"""Lesson 10 checks, step 7: your tests of the rate client (tests/test_rates.py) pass, never reach the network,
and fail on a client with a bug.

They run as plain pytest (`uv run pytest lessons/10/tests/test_rates.py`), in a copy of the lesson whose
app/core/rates.py is the workshop's reference: first as it is (your tests must pass), then with one realistic bug
planted (your tests must fail). Any request your tests do not mock goes to a proxy that does not exist.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from workshop import grading, runner
from workshop.lessons import SOLUTIONS

from .conftest import closed_port, lesson_error

pytestmark = [pytest.mark.step(7), pytest.mark.workshop_timeout(60)]

TESTS = "tests/test_rates.py"
PLUGINS = ["--disable-plugin-autoload", "-p", "pytest_asyncio.plugin", "-p", "respx.plugin"]
# Each bug: (find, replace) on the reference's app/core/rates.py, markers removed.
TIMED_OUT = '            logger.warning("rate service timed out", extra={"attempt": attempt + 1})\n'
BUGS = {
    "never-retries-a-5xx": (
        "        if response.is_server_error:\n            logger.warning(",
        "        if response.is_server_error and False:\n            logger.warning(",
    ),
    "retries-a-4xx": ("        if response.is_server_error:", "        if not response.is_success:"),
    "lets-a-timeout-escape": (
        f"        except httpx.TimeoutException:\n{TIMED_OUT}            continue\n"
        "        except httpx.TransportError:",
        "        except httpx.ConnectError:",
    ),
    # Only the not-JSON branch is dropped: a test whose one malformed body lacks the rate still passes on it.
    "lets-malformed-json-escape": (
        "    except (ValueError, KeyError, TypeError, InvalidOperation) as error:",
        "    except (KeyError, TypeError, InvalidOperation) as error:",
    ),
}


def reference_rates() -> str:
    from workshop.authoring.build import solved

    source = SOLUTIONS / "10" / "app" / "core" / "rates.py"
    return solved(source, source.read_text(encoding="utf-8"))


def run_your_tests(tmp_path: Path, bug: str | None = None) -> runner.Done:
    folder = grading.folder()
    if not (folder / TESTS).is_file():
        raise lesson_error(f"there is no {TESTS}: write your tests of fetch_rate there, with respx (step 7)")
    copy = tmp_path / "lesson"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("checks", "__pycache__", ".pytest_cache"))
    rates = reference_rates()
    if bug is not None:
        find, replace = BUGS[bug]
        assert rates.count(find) == 1, f"the bug {bug} no longer applies to the reference"
        rates = rates.replace(find, replace)
    (copy / "app" / "core" / "rates.py").write_text(rates, encoding="utf-8")
    dead = f"http://127.0.0.1:{closed_port()}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LEDGER_", "PYTEST_"))}
    env.update({"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "ALL_PROXY": dead, "NO_PROXY": ""})
    # In a warm fork (the stack imported once, not per run), as lesson 07 runs a suite; with the two plugins
    # such tests use, named, rather than every installed package scanned for plugins (half a second a run).
    args = [TESTS, "-q", "-p", "no:cacheprovider", "-c", "tests/pytest.ini", "-x", *PLUGINS]
    return runner.run_pytest(args, cwd=copy, env=env, timeout=50)


def tail(result: runner.Done) -> str:
    return "\n".join(result.output.strip().splitlines()[-8:])


def test_your_rate_tests_pass_on_a_correct_client_without_the_network(tmp_path: Path) -> None:
    """Hint: `@respx.mock` on each test, every URL the client asks for mocked.

    Run them: `uv run pytest lessons/10/tests/test_rates.py`.
    """
    result = run_your_tests(tmp_path)
    if result.returncode != 0:
        raise lesson_error(
            f"your {TESTS} fail against the workshop's reference client (pytest exit {result.returncode}):\n"
            f"{tail(result)}\nThey must pass on a correct client, without the network: mock the rate service with "
            "respx (step 7)"
        )
    counted = re.search(r"(\d+) passed", result.output)
    passed = int(counted.group(1)) if counted else 0
    assert passed >= 4, (
        f"Lesson 10: {TESTS} has {passed} passing test(s); expected at least 4: a success, a 5xx then a success, "
        "a timeout, and a malformed answer (step 7)"
    )


@pytest.mark.parametrize("bug", list(BUGS))
def test_your_rate_tests_catch_a_client_with_a_bug(tmp_path: Path, bug: str) -> None:
    """Hint: for each behaviour of fetch_rate, a test whose mock answers that way: 503 then 200, a timeout, bad JSON."""
    what = {
        "never-retries-a-5xx": "never retries a 5xx (a rate service that answers 503 then a rate)",
        "retries-a-4xx": "retries a 4xx (count the calls when the service answers 404)",
        "lets-a-timeout-escape": "lets a timeout escape as httpx's own error instead of RatesUnavailable",
        "lets-malformed-json-escape": "lets a body that is not JSON (an HTML error page with status 200) escape as "
        "a JSONDecodeError; a body without the rate alone does not show it",
    }[bug]
    result = run_your_tests(tmp_path, bug)
    assert result.returncode != 0, (
        f"Lesson 10: your {TESTS} all pass on a client that {what}; write the test that fails on it (step 7)"
    )
    assert result.returncode == 1, (
        f"Lesson 10: your {TESTS} did not run properly on a client that {what} (pytest exit {result.returncode}):\n"
        f"{tail(result)} (step 7)"
    )
