"""The error body of API v2: problem details, RFC 9457, sent as `application/problem+json`.

    {"type": "https://ledger.example/problems/insufficient-funds", "title": "Insufficient funds",
     "status": 409, "detail": "account 0190… holds 500, cannot send 800", "instance": "/api/v2/transfers"}

`type` identifies the kind of problem (clients branch on it, as v1 clients branch on `error.code`),
`title` names it for people, `status` repeats the HTTP status, `detail` explains this occurrence and
`instance` is the request's path. A 422 lists each invalid field in `errors` (an extension member).
"""

from pydantic import BaseModel, Field

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """A problem detail (RFC 9457). Flat on purpose: its JSON Schema is inlined in the OpenAPI document."""

    type: str = Field(examples=["https://ledger.example/problems/insufficient-funds"])
    title: str = Field(examples=["Insufficient funds"])
    status: int = Field(ge=400, le=599, examples=[409])
    detail: str = Field(examples=["account 0190… holds 500, cannot send 800"])
    instance: str = Field(examples=["/api/v2/transfers"])
    code: str = Field(description="The same stable code v1 answers in error.code.", examples=["insufficient_funds"])
    errors: list[dict[str, str]] | None = Field(
        default=None, description="A 422's invalid fields: each with its location, message and type."
    )
