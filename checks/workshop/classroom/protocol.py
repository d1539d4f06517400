"""What the learner's client and the class server agree on: paths, limits, names, codes and tokens.

Standard library only: the learner's side imports it on every run of a joined learner.
"""

from __future__ import annotations

import hashlib
import re
import secrets

API = "/api/v1"
JOIN = f"{API}/join"  # POST {code, name} → {learner_id, name, token, title}
RESULTS = f"{API}/results"  # POST {run_id, result} (learner token); GET: the learner's own standings
ROOM = f"{API}/room"  # GET (instructor token): the room as JSON
INSTRUCTOR = "/instructor"  # the instructor's page; ?token=… once, then a cookie
INSTRUCTOR_COOKIE = "workshop_instructor"

# Limits of what the server accepts. The client trims a report to them before it queues it, so a
# real run is never refused for a long message.
MAX_NAME = 40  # a learner's name, in characters
MAX_CHECKS = 500  # checks in one report (the largest lesson has under 60)
MAX_CHECK_NAME = 300
MAX_NODEID = 500
MAX_MESSAGE = 1000
MAX_HINT = 500
MAX_COLLECTION_ERRORS = 50
MAX_RESULT_BODY = 512 * 1024  # bytes of one POST of a result
MAX_BODY = 16 * 1024  # bytes of any other request
MAX_LEARNERS = 500  # in one class

# A learner's name: letters, digits, spaces and . ' - inside; it starts with a letter or digit.
NAME = re.compile(r"[^\W_](?:[\w .'-]*[\w.])?")
LESSON = re.compile(r"[0-9]{2}")

# Class codes are read aloud and typed: no 0/O, 1/I/L; shown as XXXX-XXXX (40 bits).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8

# Tokens carry a prefix so that a leaked one is recognisable (and redacted from any log line).
LEARNER_PREFIX = "wcl_"
INSTRUCTOR_PREFIX = "wci_"
TOKEN = re.compile(r"wc[li]_[A-Za-z0-9_-]{20,}")


def valid_name(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME and NAME.fullmatch(name) is not None


def new_code() -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def normalise_code(code: str) -> str:
    """What a learner typed → the code's canonical form (case, spaces and dashes do not matter)."""
    return re.sub(r"[\s-]", "", code).upper()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    """What the server stores of a code or token: its SHA-256 (tokens are 256 random bits: no salt needed)."""
    return hashlib.sha256(secret.encode()).digest()


def redact(text: str) -> str:
    """Every token in `text` replaced by its prefix and ***."""
    return TOKEN.sub(lambda found: found[0][:4] + "***", text)
