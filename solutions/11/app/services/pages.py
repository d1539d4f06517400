"""Opaque, tamper-evident cursors for keyset pages (API v2, lesson 11).

A cursor says where the next page starts: after the last id of this page, in this user's listing.
Clients get it as an opaque string and send it back unchanged. It is signed (HMAC-SHA256 with a key
derived from the service's secret key): a cursor a client made or changed is refused, and so is one
issued to another user. The id inside is not secret (clients see ids), only unforgeable.

    cursor = base64url(json {"u": user id, "b": last id}) "." base64url(HMAC(key, that json))
"""

import base64
import binascii
import hashlib
import hmac
import json
import uuid

from pydantic import SecretStr

from app.services.errors import DomainError

# A key of its own, derived from the secret key: a cursor's MAC can never pass for a token's signature.
PURPOSE = b"ledger keyset cursor v1"


class InvalidCursor(DomainError):
    """A cursor this service did not issue to this user, or one changed since. Answered 422."""

    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__("the cursor is not one this service gave you; start again without a cursor")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Cursors:
    """Issue and read the cursors of one user's pages."""

    def __init__(self, secret_key: SecretStr, user_id: uuid.UUID) -> None:
        self.key = hmac.new(secret_key.get_secret_value().encode(), PURPOSE, hashlib.sha256).digest()
        self.user_id = user_id

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.key, payload, hashlib.sha256).digest()

    def issue(self, last_id: uuid.UUID) -> str:
        """The cursor of the page that starts after `last_id`."""
        ### BEGIN SOLUTION the payload (this user's id and last_id, as JSON), base64url, a dot, and the base64url HMAC of the payload (step 4)
        payload = json.dumps({"u": str(self.user_id), "b": str(last_id)}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"
        ### END SOLUTION

    def read(self, cursor: str) -> uuid.UUID:
        """The id a cursor of this user's starts after; InvalidCursor for any cursor this service did not issue them."""
        ### BEGIN SOLUTION split, decode, compare the MAC in constant time (hmac.compare_digest), then check the user is this one; every failure is InvalidCursor (step 4)
        try:
            encoded, signature = cursor.split(".")
            payload, mac = _unb64(encoded), _unb64(signature)
            if not hmac.compare_digest(mac, self._mac(payload)):
                raise InvalidCursor()
            position = json.loads(payload)
            if position["u"] != str(self.user_id):
                raise InvalidCursor()
            return uuid.UUID(position["b"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidCursor() from None
        ### END SOLUTION
