"""Mark every response under a deprecated prefix (lesson 11): errors, redirects and 404s included.

A pure ASGI middleware rather than a route dependency: a dependency can set headers only on the
responses its route returns, and a client of v1 must be told on its failing requests too, a 401 or
a 422 from an exception handler. The headers come from app/core/deprecation.py and the settings.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class DeprecatedPrefix:
    """Add `headers` to every HTTP response whose path starts with `prefix` (e.g. "/api/v1/")."""

    def __init__(self, app: ASGIApp, *, prefix: str, headers: dict[str, str]) -> None:
        self.app = app
        self.prefix = prefix
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ### BEGIN SOLUTION pass every request on; on a response under the prefix, add the headers to http.response.start, whatever its status (step 2)
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_marked)
        ### END SOLUTION
