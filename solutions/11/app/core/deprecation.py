"""What a deprecated API version tells its clients, in the headers of every response (lesson 11).

    Deprecation: @1796083200                                   (RFC 9745: a structured-field date, Unix seconds)
    Sunset: Tue, 01 Jun 2027 00:00:00 GMT                      (RFC 8594: an HTTP-date)
    Link: <https://…/moving-from-v1-to-v2/>; rel="deprecation"; type="text/html"

A client library can warn its developers from these alone, long before the version stops answering.
Pure functions of the settings: no FastAPI here (app/routers/deprecation.py puts them on the responses).
"""

from datetime import UTC, datetime
from email.utils import format_datetime


def deprecation_headers(deprecated_at: datetime, sunset_at: datetime, guide: str) -> dict[str, str]:
    """The `Deprecation`, `Sunset` and `Link` headers of a version deprecated at one time and gone at another."""
    ### BEGIN SOLUTION Deprecation is "@" and the Unix seconds (RFC 9745), Sunset an HTTP-date in GMT (RFC 8594), Link the guide with rel="deprecation" (step 2)
    return {
        "Deprecation": f"@{int(deprecated_at.timestamp())}",
        "Sunset": format_datetime(sunset_at.astimezone(UTC), usegmt=True),
        "Link": f'<{guide}>; rel="deprecation"; type="text/html"',
    }
    ### END SOLUTION
