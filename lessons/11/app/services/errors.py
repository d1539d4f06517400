"""Domain errors: what the business rules refuse, in the language of the business.

Services raise these, never `HTTPException`: a service does not know it is called over HTTP.
Lesson 06 maps each `code` to a status in one exception handler.
"""

import uuid


class DomainError(Exception):
    """A request the rules refuse. `code` is stable (clients match on it); `message` is for people."""

    code: str = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AccountNotFound(DomainError):
    code = "account_not_found"

    def __init__(self, account_id: uuid.UUID) -> None:
        super().__init__(f"account {account_id} does not exist")
        self.account_id = account_id


class InvalidAmount(DomainError):
    code = "invalid_amount"

    def __init__(self, amount: int) -> None:
        super().__init__(f"the amount must be a positive number of minor units, not {amount}")
        self.amount = amount


class SameAccount(DomainError):
    code = "same_account"

    def __init__(self) -> None:
        super().__init__("the source and target of a transfer must be two different accounts")


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"

    def __init__(self, source_currency: str, target_currency: str) -> None:
        super().__init__(f"cannot transfer from a {source_currency} account to a {target_currency} account")
        self.source_currency = source_currency
        self.target_currency = target_currency


class InsufficientFunds(DomainError):
    code = "insufficient_funds"

    def __init__(self, account_id: uuid.UUID, balance: int, amount: int) -> None:
        super().__init__(f"account {account_id} holds {balance}, less than the {amount} requested")
        self.account_id = account_id
        self.balance = balance
        self.amount = amount


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        super().__init__(f"the idempotency key {key!r} was already used for a different request")
        self.key = key


class EmailTaken(DomainError):
    code = "email_taken"

    def __init__(self) -> None:
        super().__init__("a user with this email exists already")


class InvalidCredentials(DomainError):
    """A log-in that failed. One message for a wrong password and an unknown email: which one it was stays secret."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("the email or the password is wrong")


class NotAuthenticated(DomainError):
    """A request without a valid access token: none at all, or one that is malformed, forged or expired."""

    code = "not_authenticated"

    def __init__(self, reason: str, *, token_sent: bool) -> None:
        super().__init__(f"send a valid access token: Authorization: Bearer <token> ({reason})")
        # RFC 6750: a request without a token gets a bare challenge; a bad token gets error="invalid_token".
        self.token_sent = token_sent


class RateServiceUnavailable(DomainError):
    """Lesson 10: no exchange rate could be had (the rate service is down, too slow, or answered nonsense)."""

    code = "rates_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(f"no exchange rate is available right now, try again later ({reason})")
