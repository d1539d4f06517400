"""Lesson 09 checks, step 2: passwords become salted Argon2id hashes, checked in a worker thread.

These call `hash_password` and `verify_password` of app/core/security.py directly. pwdlib's
Argon2 hasher is watched while they run (`argon2_calls`): how often it hashes and verifies, and
whether it does so on the event loop, where a tenth of a second stops every other request.
"""

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from workshop.grading import load

from .conftest import PASSWORD, argon2_calls, lesson_error

pytestmark = pytest.mark.step(2)

# A hash made with weaker parameters than pwdlib's current ones, as an older release of the service made them.
WEAK = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1),))


async def hash_of(password: str) -> str:
    found = await load("app.core.security").hash_password(password)
    if not isinstance(found, str):
        raise lesson_error(f"hash_password() returned {found!r}; expected the hash, a str (step 2)")
    return found


async def test_a_hash_is_argon2id_and_never_the_password() -> None:
    """Hint: `password_hasher.hash(password)`, with the PasswordHash.recommended() given in security.py."""
    stored = await hash_of(PASSWORD)
    assert stored != PASSWORD and PASSWORD not in stored, (
        "Lesson 09: hash_password() returned the password itself: whoever reads the table (a backup, a support "
        "query, an attacker) reads every password. Return password_hasher.hash(password) (step 2)"
    )
    assert stored.startswith("$argon2id$"), (
        f"Lesson 09: hash_password() returned {stored[:40]!r}…, not an Argon2id hash ($argon2id$…). A fast hash "
        "(SHA-256, MD5) lets a stolen table be guessed billions of times a second; Argon2id is slow and "
        "memory-hard on purpose. Use pwdlib's password_hasher (step 2)"
    )
    assert PasswordHash.recommended().verify(PASSWORD, stored), (
        "Lesson 09: the hash hash_password() returned does not verify against the password (step 2)"
    )


async def test_the_same_password_gets_another_hash_each_time() -> None:
    """Hint: let pwdlib draw a fresh random salt for every hash: do not pass `salt=`."""
    first, second = await hash_of(PASSWORD), await hash_of(PASSWORD)
    assert first != second, (
        "Lesson 09: two hashes of one password are equal: the salt is fixed, so everyone with the same password "
        "shows the same hash, and one precomputed table cracks them all. Leave out salt= (step 2)"
    )


async def test_verify_password_accepts_the_password_and_refuses_another() -> None:
    """Hint: `password_hasher.verify_and_update(password, password_hash)` answers (matches?, new hash or None)."""
    stored = await hash_of(PASSWORD)
    verify = load("app.core.security").verify_password
    right, wrong = await verify(PASSWORD, stored), await verify(PASSWORD + "!", stored)
    assert right == (True, None), (
        f"Lesson 09: verify_password(the password, its hash) returned {right!r}; expected (True, None) (step 2)"
    )
    assert wrong == (False, None), (
        f"Lesson 09: verify_password(another password, the hash) returned {wrong!r}; expected (False, None) (step 2)"
    )


async def test_a_hash_with_older_parameters_comes_back_replaced() -> None:
    """Hint: verify_and_update returns a new hash when the stored one was made with other parameters: pass it on."""
    old = WEAK.hash(PASSWORD)
    matches, new_hash = await load("app.core.security").verify_password(PASSWORD, old)
    assert matches, "Lesson 09: verify_password() refused the right password under an older hash (step 2)"
    assert isinstance(new_hash, str) and new_hash != old, (
        "Lesson 09: verify_password() accepted a password whose hash was made with weaker Argon2 parameters "
        "(m=8192,t=1,p=1), but returned no new hash: the weak hash stays in the table forever. Use "
        "verify_and_update and return its new hash (step 2)"
    )
    assert not Argon2Hasher().check_needs_rehash(new_hash), (
        f"Lesson 09: the replacement hash {new_hash[:40]!r}… was not made with the current parameters (step 2)"
    )


@pytest.mark.parametrize("stored", ["no-user", "locked"])
async def test_a_missing_or_locked_hash_matches_nothing_and_costs_one_verification(
    stored: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: with no hash (no such user), verify against _dummy_hash(); a hash pwdlib does not know matches nothing."""
    verify = load("app.core.security").verify_password
    given = None if stored == "no-user" else "!locked"
    with argon2_calls(monkeypatch) as calls:
        try:
            found = await verify(PASSWORD, given)
        except NotImplementedError:
            raise
        except Exception as error:
            raise lesson_error(
                f"verify_password(password, {given!r}) raised {type(error).__name__}: {error}. A locked user (the "
                "migration's placeholder, whose hash is no hash) or no user at all is a failed log-in, not a crash "
                "(step 2)"
            ) from None
    what = "no hash (no such user)" if given is None else f"the hash {given!r} (a locked user)"
    assert found == (False, None), f"Lesson 09: verify_password() with {what} returned {found!r} (step 2)"
    assert calls.verifications == 1, (
        f"Lesson 09: verify_password() with {what} made {calls.verifications} Argon2 verifications; a real "
        "user's wrong password makes one, so this must too: an answer that comes back faster tells an attacker "
        "which emails have no account. Verify against _dummy_hash() (step 2)"
    )


async def test_hashing_and_verifying_run_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: `await asyncio.to_thread(password_hasher.hash, password)`: the loop serves others meanwhile."""
    security = load("app.core.security")
    with argon2_calls(monkeypatch) as calls:
        stored = await security.hash_password(PASSWORD)
        await security.verify_password(PASSWORD, stored)
        await security.verify_password(PASSWORD, None)
    assert calls.hashes and calls.verifications, "Lesson 09: hash and verify did not use pwdlib's Argon2 (step 2)"
    assert not calls.on_the_loop, (
        f"Lesson 09: Argon2 ran on the event loop ({', '.join(calls.on_the_loop)}): for a tenth of a second per "
        "hash the process answers nobody else, and ten log-ins at once stall the service for a second. Run it "
        "in a worker thread: await asyncio.to_thread(…) (step 2)"
    )
