"""Wrong solutions of lesson 10 that its checks must catch (`uv run workshop verify 10`).

Each is one mistake a reviewer would send back: the learner who is almost right, the one in a
hurry, the one who copied a tutorial, the one gaming the grader. The checks must fail on each with
a `Lesson 10:` message that names it.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

LOGS = "app/core/logs.py"
RATES = "app/core/rates.py"
CACHE = "app/core/cache.py"
PROBES = "app/core/probes.py"
MAIN = "app/main.py"
QUOTES = "app/services/quotes.py"
QUOTE_SCHEMA = "app/schemas/quotes.py"
SERVICES = "app/dependencies/services.py"
SESSION = "app/dependencies/session.py"
HEALTH = "app/routers/health.py"
ERRORS = "app/routers/errors.py"
YOUR_TESTS = "tests/test_rates.py"

JSON_FORMATTER = """    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
"""
ACCESS_EXTRA = """                    "method": scope["method"],
"""
ACCESS_LINE = """access_logger.info(
    "request",
    extra={
        "method": scope["method"],
        "route": route_template(scope),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    },
)
request_id.reset(token)
"""
ACCESS_TRY = (
    "        try:\n            await self.app(scope, receive, send_with_id)\n        finally:\n"
    "            # The route template (/api/v1/accounts/{account_id}), not the path: ids in paths would make\n"
    "            # every line unique, and a path can carry what a client should not have sent.\n"
    + "".join(f"            {line}\n" for line in ACCESS_LINE.splitlines())
)
ACCESS_NO_TRY = "        await self.app(scope, receive, send_with_id)\n" + "".join(
    f"        {line}\n" for line in ACCESS_LINE.splitlines()
)
COMMIT = """            try:
                await session.commit()
            except Exception:
                logger.exception("commit failed")
                raise
"""
SERVER_ERROR = """        if response.is_server_error:
            logger.warning("rate service failed", extra={"attempt": attempt + 1, "status": response.status_code})
            continue
"""
TRANSPORT_ERROR = """        except httpx.TransportError:  # refused, reset, no such host
            logger.warning("rate service unreachable", extra={"attempt": attempt + 1})
            continue
"""
PARSE = """    try:
        rate = json.loads(body, parse_float=Decimal)["rates"][target]
        rate = Decimal(rate)
    except (ValueError, KeyError, TypeError, InvalidOperation) as error:
        raise RatesUnavailable(f"the rate service answered without a rate for {target}") from error
"""
CACHE_GET = """        try:
            cached = await self.redis.get(self.key(base, target))
        except (RedisError, OSError) as error:
            logger.warning("rates cache unavailable: %s", type(error).__name__)
            return None
"""
GLOBAL_REQUEST_ID = '''class _Current:
    """The request id in a module-level attribute: one value for the whole process."""

    value = NO_REQUEST

    def get(self) -> str:
        return self.value

    def set(self, value: str) -> str:
        self.value = value
        return value

    def reset(self, token: str) -> None:
        self.value = NO_REQUEST


request_id: Any = _Current()
'''
FIVE_XX_TEST = """@respx.mock
async def test_a_5xx_is_retried_then_succeeds(client: httpx.AsyncClient) -> None:
    route = respx.get(LATEST).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"rates": {"USD": 1.25}})]
    )
    assert await fetch_rate(client, "EUR", "USD", retries=2) == Decimal("1.25")
    assert route.call_count == 2


"""
TIMEOUT_TEST = """@respx.mock
async def test_a_timeout_is_retried_then_gives_up(client: httpx.AsyncClient) -> None:
    route = respx.get(LATEST).mock(side_effect=httpx.ConnectTimeout("too slow"))
    with pytest.raises(RatesUnavailable):
        await fetch_rate(client, "EUR", "USD", retries=1)
    assert route.call_count == 2


"""
MALFORMED_TEST = """@respx.mock
@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"rates": {}}', b'{"rates": {"USD": "a lot"}}'])
async def test_a_malformed_answer_is_unavailable(client: httpx.AsyncClient, body: bytes) -> None:
    respx.get(LATEST).mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(RatesUnavailable):
        await fetch_rate(client, "EUR", "USD", retries=0)
"""

STEP_1 = [
    Mutant(
        "plain-text-log-lines",
        path=LOGS,
        find=JSON_FORMATTER,
        replace='    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))\n',
        killed_by=["test_each_log_line_is_one_json_object_with_time_level_logger_and_message"],
        says="not JSON",
        why="a text line must be parsed with a regex by every log pipeline; one JSON object per line is read as is",
    ),
    Mutant(
        "json-lines-with-the-message-only",
        path=LOGS,
        find='            "{asctime}{levelname}{name}{message}",\n',
        replace='            "{message}",\n',
        killed_by=["test_each_log_line_is_one_json_object_with_time_level_logger_and_message"],
        says="has no time",
        why="a line without its time, level and logger cannot be sorted, filtered or traced back",
    ),
    Mutant(
        "request-id-not-in-the-response",
        path=LOGS,
        find="""                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode("latin-1"), request_id.get().encode("latin-1")),
                ]
""",
        replace="",
        killed_by=["test_a_response_carries_a_new_request_id_when_none_was_sent"],
        says="without an X-Request-ID",
        why="a client that cannot quote the id of its failed request cannot be helped from the logs",
    ),
    Mutant(
        "one-fixed-request-id",
        path=LOGS,
        find="    return uuid.uuid4().hex\n",
        replace='    return "no-request-id"\n',
        killed_by=["test_a_response_carries_a_new_request_id_when_none_was_sent"],
        says="same request id",
        why="an id every request shares identifies nothing",
    ),
    Mutant(
        "client-request-id-ignored",
        path=LOGS,
        find="    if sent is not None and VALID_REQUEST_ID.fullmatch(sent):\n        return sent\n",
        replace="",
        killed_by=["test_a_valid_x_request_id_from_the_client_is_kept"],
        says="is kept",
        why="the gateway's id is how one request is followed across services; replacing it breaks the trail",
    ),
    Mutant(
        "any-client-request-id-trusted",
        path=LOGS,
        find="    if sent is not None and VALID_REQUEST_ID.fullmatch(sent):\n",
        replace="    if sent:\n",
        killed_by=["test_an_unsafe_x_request_id_is_replaced"],
        says="kept it",
        why="a client-chosen id of any length and content bloats every line and can forge log fields",
    ),
    Mutant(
        "request-id-matched-at-the-start-only",
        path=LOGS,
        find="VALID_REQUEST_ID.fullmatch(sent)",
        replace="VALID_REQUEST_ID.match(sent)",
        killed_by=[
            "test_an_unsafe_x_request_id_is_replaced[too-long]",
            "test_an_unsafe_x_request_id_is_replaced[valid-start-then-forged-json]",
        ],
        says="only its start was checked",
        why='re.match checks a prefix: \'abcdefgh12" , "level": …\' or a 500-character id whose start is fine passes',
    ),
    Mutant(
        "access-line-with-the-path",
        path=LOGS,
        find='                    "route": route_template(scope),\n',
        replace='                    "route": scope["path"],\n',
        killed_by=["test_each_request_writes_one_access_line_with_method_route_status_and_duration"],
        says="route TEMPLATE",
        why="one route per account id: the access log cannot be grouped by endpoint, and ids leak into metrics",
    ),
    Mutant(
        "access-line-status-never-seen",
        path=LOGS,
        find="            nonlocal status\n",
        replace="",
        killed_by=["test_each_request_writes_one_access_line_with_method_route_status_and_duration"],
        says="the status the client got",
        why="without nonlocal the status is set in the inner function only: every access line says 500",
    ),
    Mutant(
        "request-id-reset-before-the-access-line",
        path=LOGS,
        find="        try:\n            await self.app(scope, receive, send_with_id)\n        finally:\n",
        replace="        try:\n            await self.app(scope, receive, send_with_id)\n        finally:\n            request_id.reset(token)\n",
        also=[Edit("            )\n            request_id.reset(token)\n", "            )\n", LOGS)],
        killed_by=["test_each_request_writes_one_access_line_with_method_route_status_and_duration"],
        says="0 access lines",
        why="the access line, written after the reset, carries no request id: the one line per request is untraceable",
    ),
    Mutant(
        "logging-handler-appended",
        path=LOGS,
        find="    root.handlers = [handler]  # replace, never add: a second call must not print every line twice\n",
        replace="    root.addHandler(handler)\n",
        killed_by=["test_logging_configured_twice_writes_each_line_once"],
        says="never appends",
        why="configure_logging called twice in one process (two lifespans, tests, a reload) prints every line twice",
    ),
    Mutant(
        "access-line-skipped-when-the-app-raises",
        path=LOGS,
        find=ACCESS_TRY,
        replace=ACCESS_NO_TRY,
        killed_by=["test_a_request_that_fails_with_a_500_still_writes_its_access_line"],
        says="finally",
        why="no try/finally: a request whose app raises (the 500s one searches for) writes no access line and "
        "leaves the contextvar set",
    ),
    Mutant(
        "request-id-only-on-the-access-line",
        path=LOGS,
        find="    handler.addFilter(RequestIdFilter())\n",
        replace="",
        also=[Edit(ACCESS_EXTRA, ACCESS_EXTRA + '                    "request_id": request_id.get(),\n', LOGS)],
        killed_by=["test_every_line_of_a_request_carries_its_request_id"],
        says="need the id too",
        why="the warnings and errors of a request are the lines one searches for; without the id they are orphans",
    ),
    Mutant(
        "request-id-in-a-global",
        path=LOGS,
        find='request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)\n',
        replace=GLOBAL_REQUEST_ID,
        killed_by=["test_two_requests_at_once_keep_their_own_ids"],
        says="ContextVar",
        why="one global for every request in flight: concurrent requests log and answer each other's ids",
    ),
]

STEP_1 += [
    Mutant(
        "redis-client-not-on-app-state",
        path=MAIN,
        find="    app.state.redis = create_redis(settings)\n",
        replace="",
        also=[Edit("        await app.state.redis.aclose()\n", "", MAIN)],
        killed_by=[
            "test_two_requests_at_once_keep_their_own_ids",
            "test_ready_answers_503_naming_redis_when_it_is_down",
        ],
        says="no attribute 'redis'",
        why="the lifespan half written: every quote and every readiness probe is a 500 (AttributeError on app.state)",
    ),
]

STEP_2 = [
    Mutant(
        "domain-errors-not-logged",
        path=ERRORS,
        find='    logger.log(level, "domain error", extra={"code": error.code, "status": status_code})\n',
        replace="",
        killed_by=["test_a_domain_error_is_logged_with_its_code_and_request_id"],
        says="log every domain",
        why="refusals (401s, 409s) are invisible: nobody sees a client looping on a bad token",
    ),
    Mutant(
        "domain-errors-all-at-info",
        path=ERRORS,
        find="    level = logging.WARNING if status_code >= 500 else logging.INFO\n",
        replace="    level = logging.INFO\n",
        killed_by=["test_a_5xx_domain_error_is_logged_as_a_warning_a_client_error_as_info"],
        says="expected WARNING",
        why="a 503 (a dependency down) logged at INFO like a client's 401: no alert fires on it",
    ),
    Mutant(
        "domain-errors-all-at-warning",
        path=ERRORS,
        find="    level = logging.WARNING if status_code >= 500 else logging.INFO\n",
        replace="    level = logging.WARNING\n",
        killed_by=["test_a_5xx_domain_error_is_logged_as_a_warning_a_client_error_as_info"],
        says="expected INFO",
        why="every refused login and missing account is a warning: the real warnings drown in clients' mistakes",
    ),
    Mutant(
        "failed-commit-not-logged",
        path=SESSION,
        find=COMMIT,
        replace="            await session.commit()\n",
        killed_by=["test_a_failed_commit_is_logged_as_an_error_with_the_request_id"],
        says="no ERROR line",
        why="the one error that loses a client's write leaves no trace tied to the request",
    ),
    Mutant(
        "failed-commit-logged-as-a-warning",
        path=SESSION,
        find='                logger.exception("commit failed")\n',
        replace='                logger.warning("commit failed")\n',
        killed_by=["test_a_failed_commit_is_logged_as_an_error_with_the_request_id"],
        says="no ERROR line",
        why="alerts fire on ERROR: a lost write logged as a warning pages nobody, and the traceback is gone",
    ),
    Mutant(
        "failed-commit-swallowed",
        path=SESSION,
        find='                logger.exception("commit failed")\n                raise\n',
        replace='                logger.exception("commit failed")\n',
        killed_by=["test_a_failed_commit_is_logged_as_an_error_with_the_request_id"],
        says="stay a 500",
        why="the client gets a 2xx for a write that never happened",
    ),
    Mutant(
        "headers-in-the-access-line",
        path=LOGS,
        find=ACCESS_EXTRA,
        replace=ACCESS_EXTRA + '                    "headers": headers,\n',
        killed_by=["test_no_password_token_secret_or_hash_reaches_a_log_line"],
        says="an access token reached a log line",
        why="every Authorization header in the logs: whoever reads them can act as any user for 15 minutes",
    ),
    Mutant(
        "token-logged-with-a-401",
        path=ERRORS,
        find='extra={"code": error.code, "status": status_code})',
        replace='extra={"code": error.code, "status": status_code, "auth": request.headers.get("authorization")})',
        also=[  # log_domain_error has no request: the learner passes it in "for context"
            Edit(
                "def log_domain_error(error: DomainError, status_code: int) -> None:\n",
                "def log_domain_error(error: DomainError, status_code: int, request: Request) -> None:\n",
                ERRORS,
            ),
            Edit(
                "    log_domain_error(error, status_code)\n",
                "    log_domain_error(error, status_code, request)\n",
                ERRORS,
            ),
        ],
        killed_by=["test_no_password_token_secret_or_hash_reaches_a_log_line"],
        says="reached a log line",
        why="'to debug 401s' puts the token in the logs; a token with a typo is still the user's token",
    ),
    Mutant(
        "settings-logged-at-startup",
        path="app/main.py",
        find="    configure_logging(settings)\n",
        replace='    configure_logging(settings)\n    logging.getLogger("app").info("starting", extra={"database": settings.database_url})\n',
        also=[
            Edit(
                "from contextlib import asynccontextmanager\n",
                "import logging\nfrom contextlib import asynccontextmanager\n",
                "app/main.py",
            )
        ],
        killed_by=["test_no_password_token_secret_or_hash_reaches_a_log_line"],
        says="database's password",
        why="the database URL carries its password: every reader of the logs can now log in to production's database",
    ),
]

STEP_3 = [
    Mutant(
        "live-asks-redis",
        path=HEALTH,
        find='async def live() -> dict[str, str]:\n    """The process is up and its event loop answers."""\n    return {"status": "ok"}\n',
        replace=(
            'async def live(request: Request) -> dict[str, str]:\n    """The process is up and its event loop answers."""\n'
            "    await redis_answers(request.app.state.redis, 5.0)\n"
            '    return {"status": "ok"}\n'
        ),
        killed_by=["test_live_answers_200_without_asking_the_database_or_redis"],
        says="liveness touches nothing",
        why="a liveness probe that waits on Redis gets healthy processes restarted whenever Redis is slow",
    ),
    Mutant(
        "ready-forgets-the-database",
        path=HEALTH,
        find='        "database": await database_answers(request.app.state.engine, settings.ready_timeout),\n',
        replace='        "database": True,\n',
        killed_by=["test_ready_answers_503_naming_the_database_when_it_is_down"],
        says="database",
        why="an instance whose database is gone keeps getting traffic and answers 500s",
    ),
    Mutant(
        "ready-ignores-redis",
        path=HEALTH,
        find='        "redis": await redis_answers(request.app.state.redis, settings.ready_timeout),\n',
        replace="",
        killed_by=[
            "test_ready_answers_200_when_the_database_and_redis_answer",
            "test_ready_answers_503_naming_redis_when_it_is_down",
        ],
        says="redis",
        why="readiness that ignores Redis hides the slow instance from the orchestrator",
    ),
    Mutant(
        "redis-ping-not-awaited",
        path=PROBES,
        find="            await redis.ping()\n",
        replace="            redis.ping()\n",
        killed_by=["test_ready_answers_503_naming_redis_when_it_is_down"],
        says="readiness asks Redis",
        why="a coroutine never awaited asks nothing: Redis is always 'ok'",
    ),
    Mutant(
        "ready-without-a-timeout",
        path=PROBES,
        find="        async with asyncio.timeout(timeout), engine.connect() as connection:\n",
        replace="        async with engine.connect() as connection:\n",
        killed_by=["test_ready_answers_within_its_timeout_when_the_database_hangs"],
        says="without a timeout",
        why="a database that hangs hangs the probe: the orchestrator's own timeout then kills a healthy process",
    ),
    Mutant(
        "ready-refused-connection-escapes",
        path=PROBES,
        find="    except (TimeoutError, OSError, DBAPIError) as error:\n",
        replace="    except (TimeoutError, DBAPIError) as error:\n",
        killed_by=["test_ready_answers_503_naming_the_database_when_it_is_down"],
        says="503",
        why="a refused connection is an OSError: the probe answers 500 with a traceback instead of naming the database",
    ),
]

STEP_4 = [
    Mutant(
        "a-client-per-request",
        path=SERVICES,
        find="    return QuoteService(request.app.state.http_client, cache, retries=settings.rates_retries)\n",
        replace="    return QuoteService(create_http_client(settings), cache, retries=settings.rates_retries)\n",
        also=[
            Edit(
                "from app.core.cache import RatesCache\n",
                "from app.core.cache import RatesCache\nfrom app.core.rates import create_http_client\n",
                SERVICES,
            )
        ],
        killed_by=["test_one_http_client_serves_every_request_and_the_lifespan_closes_it"],
        says="a client per request",
        why="a new pool, TCP and TLS handshake per request, and a client nobody closes: sockets leak",
    ),
    Mutant(
        "client-never-closed",
        path=MAIN,
        find="        await app.state.http_client.aclose()\n",
        replace="",
        killed_by=["test_one_http_client_serves_every_request_and_the_lifespan_closes_it"],
        says="still open",
        why="the pool's connections outlive the app: warnings at shutdown, sockets left half-open",
    ),
    Mutant(
        "no-timeout",
        path=RATES,
        find="timeout=httpx.Timeout(settings.rates_timeout)",
        replace="timeout=None",
        killed_by=["test_a_rate_service_that_hangs_is_a_503_within_the_timeout"],
        says="without a timeout",
        why="a rate service that hangs holds every quote request, and their connections, forever",
    ),
    Mutant(
        "five-xx-not-retried",
        path=RATES,
        find=SERVER_ERROR,
        replace="",
        killed_by=["test_a_5xx_is_retried_and_the_next_answer_used"],
        says="retry a 5xx",
        why="a 502 from a load balancer in front of the rate service is usually gone a moment later",
    ),
    Mutant(
        "one-retry-too-many",
        path=RATES,
        find="    for attempt in range(1 + retries):\n",
        replace="    for attempt in range(2 + retries):\n",
        killed_by=["test_retries_are_bounded"],
        says="expected 3",
        why="retries multiply the load on a service that is already failing: the bound is the setting, exactly",
    ),
    Mutant(
        "retry-on-4xx",
        path=RATES,
        find="        if response.is_server_error:\n",
        replace="        if not response.is_success:\n",
        killed_by=["test_a_4xx_is_not_retried"],
        says="never a 4xx",
        why="a 4xx says the request is wrong; asking again triples the calls for the same answer",
    ),
    Mutant(
        "blocking-httpx-get-on-the-client-s-url",
        path=RATES,
        find='            response = await client.get("/latest", params={"base": base, "symbols": target})\n',
        replace=(
            "            response = httpx.get(\n"
            '                str(client.base_url.join("latest")),\n'
            '                params={"base": base, "symbols": target},\n'
            "                timeout=client.timeout,\n"
            "            )\n"
        ),
        killed_by=[
            "test_one_http_client_serves_every_request_and_the_lifespan_closes_it",
            "test_no_async_function_blocks_the_event_loop",
        ],
        says="blocks the event loop",
        why="the synchronous httpx.get blocks the event loop for the whole call and bypasses the lifespan's pool",
    ),
    Mutant(
        "connection-errors-escape",
        path=RATES,
        find=TRANSPORT_ERROR,
        replace="",
        killed_by=["test_an_unreachable_rate_service_is_a_503_not_a_500"],
        says="a connection error is retried",
        why="a refused connection becomes a 500 with httpx's traceback instead of a 503 the client can retry",
    ),
    Mutant(
        "redis-client-never-closed",
        path="app/main.py",
        find="        await app.state.redis.aclose()\n",
        replace="",
        killed_by=["test_the_lifespan_closes_its_redis_client"],
        says="aclose",
        why="every restart of a worker leaves its Redis connections open until the process ends",
    ),
]

STEP_4 += [
    Mutant(
        "every-error-is-rates-unavailable",
        path=QUOTES,
        find="        except RatesUnavailable as error:\n",
        replace="        except Exception as error:\n",
        also=[
            Edit(
                "from app.core.rates import RatesUnavailable, fetch_rate\n",
                "from app.core.rates import fetch_rate\n",
                QUOTES,
            )
        ],
        killed_by=["test_a_bug_on_the_rate_path_is_a_500_not_rates_unavailable"],
        says="except Exception",
        why="a TypeError in the app's own code becomes a 503 'rates unavailable': no traceback, and clients retry a bug",
    ),
    Mutant(
        "fetch-rate-retries-every-exception",
        path=RATES,
        find="        except httpx.TransportError:  # refused, reset, no such host\n",
        replace="        except Exception:  # refused, reset, no such host, anything\n",
        killed_by=["test_a_bug_on_the_rate_path_is_a_500_not_rates_unavailable"],
        says="except Exception",
        why="a bug in the call is retried as if the network had failed, then reported as the rate service being down",
    ),
]

STEP_5 = [
    Mutant(
        "float-money",
        path=RATES,
        find='        rate = json.loads(body, parse_float=Decimal)["rates"][target]\n',
        replace='        rate = json.loads(body)["rates"][target]\n',
        killed_by=["test_a_rate_is_read_exactly_never_through_a_float"],
        says="through a float",
        why="0.285 as a float is 0.28499999…: amounts a cent off, silently",
    ),
    Mutant(
        "float-arithmetic",
        path=QUOTES,
        find="    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUNDING))\n",
        replace="    return int(amount * float(rate) + 0.5)\n",
        killed_by=["test_a_rate_is_read_exactly_never_through_a_float"],
        says="through a float",
        why="float multiplication rounds in binary before our rule applies: 28.5 becomes 28.499999999999996",
    ),
    Mutant(
        "rate-rounded-before-the-multiplication",
        path=QUOTES,
        find="    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUNDING))\n",
        replace=(
            '    rate = rate.quantize(Decimal("0.0001"), rounding=ROUNDING)  # rates have 4 decimals\n'
            "    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUNDING))\n"
        ),
        killed_by=["test_a_rate_is_used_with_all_its_digits_rounding_only_the_result"],
        says="rounded before the multiplication",
        why="rounds twice: 0.123456 becomes 0.1235 and a large amount is off by whole units",
    ),
    Mutant(
        "rate-as-a-float-in-the-response",
        path=QUOTE_SCHEMA,
        find="    rate: Decimal = Field(",
        replace="    rate: float = Field(",
        killed_by=["test_a_quote_is_integer_minor_units_with_a_decimal_rate"],
        says="exact decimal string",
        why="a JSON float loses digits in every client that reads it as a double",
    ),
    Mutant(
        "bankers-rounding",
        path=QUOTES,
        find="ROUNDING = ROUND_HALF_UP\n",
        replace="ROUNDING = ROUND_HALF_EVEN\n",
        also=[
            Edit(
                "from decimal import ROUND_HALF_UP, Decimal\n",
                "from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal\n",
                QUOTES,
            )
        ],
        killed_by=["test_half_a_minor_unit_rounds_up[5-3]"],
        says="half up",
        why="the API promises half up; half to even (Python's round()) gives 2 for 2.5",
    ),
    Mutant(
        "truncated-not-rounded",
        path=QUOTES,
        find="    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUNDING))\n",
        replace="    return int(Decimal(amount) * rate)\n",
        killed_by=["test_half_a_minor_unit_rounds_up"],
        says="half up",
        why="int() cuts toward zero: every half cent and more is lost, always to the client's cost",
    ),
    Mutant(
        "pythons-round",
        path=QUOTES,
        find="    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUNDING))\n",
        replace="    return round(Decimal(amount) * rate)\n",
        killed_by=["test_half_a_minor_unit_rounds_up[5-3]"],
        says="half up",
        why="round() of a Decimal rounds half to even: 2.5 cents become 2, not the 3 the API promises",
    ),
    Mutant(
        "malformed-answer-escapes",
        path=RATES,
        find=PARSE,
        replace='    rate = Decimal(json.loads(body, parse_float=Decimal)["rates"][target])\n',
        killed_by=["test_a_malformed_answer_is_a_503_not_a_500"],
        says="parse_rate",
        why="the rate service's bad day becomes our 500, with a JSONDecodeError in the body",
    ),
    Mutant(
        "only-json-errors-caught",
        path=RATES,
        find="    except (ValueError, KeyError, TypeError, InvalidOperation) as error:\n",
        replace="    except (ValueError, KeyError) as error:\n",
        killed_by=[
            "test_a_malformed_answer_is_a_503_not_a_500[not-a-number]",
            "test_a_malformed_answer_is_a_503_not_a_500[rates-not-an-object]",
        ],
        says="parse_rate",
        why="a rate that is not a number, or rates that are a list, still escape as a 500",
    ),
    Mutant(
        "any-rate-accepted",
        path=RATES,
        find='    if not rate.is_finite() or rate <= 0:\n        raise RatesUnavailable(f"the rate service answered a rate of {rate} for {target}")\n',
        replace="",
        killed_by=[
            "test_a_malformed_answer_is_a_503_not_a_500[zero]",
            "test_a_malformed_answer_is_a_503_not_a_500[negative]",
            "test_a_malformed_answer_is_a_503_not_a_500[nan]",
        ],
        says="positive number",
        why="a rate of 0 quotes a conversion for nothing, a negative one pays the client to convert",
    ),
    Mutant(
        "zero-rate-accepted",
        path=RATES,
        find="    if not rate.is_finite() or rate <= 0:\n",
        replace="    if not rate.is_finite() or rate < 0:\n",
        killed_by=["test_a_malformed_answer_is_a_503_not_a_500[zero]"],
        says="positive number",
        why="a rate of 0 is the rate service failing, and the quote would give nothing for the money",
    ),
]

STEP_6 = [
    Mutant(
        "cache-never-asked",
        path=QUOTES,
        find="        cached = await self.cache.get(base, target)\n        if cached is not None:\n            return cached\n",
        replace="",
        killed_by=["test_a_second_quote_reads_the_rate_from_redis"],
        says="reads the rate from Redis",
        why="a cache that is filled and never read costs a Redis round trip and saves nothing",
    ),
    Mutant(
        "cache-without-ttl",
        path=CACHE,
        find="            await self.redis.set(self.key(base, target), str(rate), ex=self.ttl)\n",
        replace="            await self.redis.set(self.key(base, target), str(rate))\n",
        killed_by=["test_a_cached_rate_expires"],
        says="TTL",
        why="a rate cached forever: quotes at last month's price, and a Redis that only grows",
    ),
    Mutant(
        "redis-down-is-a-500",
        path=CACHE,
        find=CACHE_GET,
        replace="        cached = await self.redis.get(self.key(base, target))\n",
        killed_by=["test_redis_down_means_slower_not_failing"],
        says="a cache is an optimisation",
        why="the cache becomes a hard dependency: Redis down means every quote fails",
    ),
    Mutant(
        "cache-catches-only-connection-errors",
        path=CACHE,
        find="            cached = await self.redis.get(self.key(base, target))\n        except (RedisError, OSError) as error:\n",
        replace="            cached = await self.redis.get(self.key(base, target))\n        except (RedisConnectionError, OSError) as error:\n",
        also=[
            Edit(
                "from redis.exceptions import RedisError\n",
                "from redis.exceptions import ConnectionError as RedisConnectionError\nfrom redis.exceptions import RedisError\n",
                CACHE,
            )
        ],
        killed_by=["test_a_redis_that_hangs_means_slower_not_failing"],
        says="TimeoutError",
        why="a Redis that hangs instead of refusing makes every quote a 500, though the rate service is fine",
    ),
    Mutant(
        "cache-fails-in-silence",
        path=CACHE,
        find=CACHE_GET,
        replace=(
            "        try:\n"
            "            cached = await self.redis.get(self.key(base, target))\n"
            "        except (RedisError, OSError):\n"
            "            return None\n"
        ),
        also=[
            Edit(
                'str(rate), ex=self.ttl)\n        except (RedisError, OSError) as error:\n            logger.warning("rates cache unavailable: %s", type(error).__name__)\n',
                "str(rate), ex=self.ttl)\n        except (RedisError, OSError):\n            pass\n",
                CACHE,
            )
        ],
        killed_by=["test_redis_down_means_slower_not_failing", "test_a_redis_that_hangs_means_slower_not_failing"],
        says="no line at warning",
        why="Redis down for a week and nobody knows: every quote waits for the rate service, and no line says why",
    ),
]

STEP_7 = [
    Mutant(
        "a-test-that-calls-the-network",
        path=YOUR_TESTS,
        find="@respx.mock\nasync def test_a_rate_is_an_exact_decimal(",
        replace="async def test_a_rate_is_an_exact_decimal(",
        killed_by=["test_your_rate_tests_pass_on_a_correct_client_without_the_network"],
        says="without the network",
        why="a test that calls a real service is slow, flaky, and fails on a train",
    ),
    Mutant(
        "no-test-of-a-5xx",
        path=YOUR_TESTS,
        find=FIVE_XX_TEST,
        replace="",
        also=[
            Edit(
                '        await fetch_rate(client, "EUR", "USD", retries=2)\n    assert route.call_count == 3\n',
                '        await fetch_rate(client, "EUR", "USD", retries=2)\n',
                YOUR_TESTS,
            )
        ],
        killed_by=["test_your_rate_tests_catch_a_client_with_a_bug[never-retries-a-5xx]"],
        says="never retries a 5xx",
        why="the retry is the point of the client, and nothing tests it",
    ),
    Mutant(
        "calls-of-a-4xx-not-counted",
        path=YOUR_TESTS,
        find='        await fetch_rate(client, "EUR", "XXX", retries=2)\n    assert route.call_count == 1\n',
        replace='        await fetch_rate(client, "EUR", "XXX", retries=2)\n',
        killed_by=["test_your_rate_tests_catch_a_client_with_a_bug[retries-a-4xx]"],
        says="retries a 4xx",
        why="the outcome of a retried 4xx is the same error; only the count of calls shows the waste",
    ),
    Mutant(
        "no-test-of-a-timeout",
        path=YOUR_TESTS,
        find=TIMEOUT_TEST,
        replace="",
        killed_by=["test_your_rate_tests_catch_a_client_with_a_bug[lets-a-timeout-escape]"],
        says="lets a timeout escape",
        why="timeouts are the failure a real rate service produces most, and the one never seen in development",
    ),
    Mutant(
        "no-test-of-a-malformed-answer",
        path=YOUR_TESTS,
        find=MALFORMED_TEST,
        replace="",
        killed_by=["test_your_rate_tests_catch_a_client_with_a_bug[lets-malformed-json-escape]"],
        says="not JSON",
        why="an HTML error page with status 200 is what proxies answer; nothing tests it",
    ),
    Mutant(
        "only-a-missing-rate-tested-as-malformed",
        path=YOUR_TESTS,
        find="""@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"rates": {}}', b'{"rates": {"USD": "a lot"}}'])""",
        replace="""@pytest.mark.parametrize("body", [b'{"rates": {}}'])""",
        killed_by=["test_your_rate_tests_catch_a_client_with_a_bug[lets-malformed-json-escape]"],
        says="not JSON",
        why="only a body without the rate is tested: an HTML page with status 200 escaping as a 500 goes unnoticed",
    ),
    Mutant(
        "http-exception-in-the-service",
        path=QUOTES,
        find="            raise RateServiceUnavailable(str(error)) from error\n",
        replace="            raise HTTPException(status_code=503, detail=str(error)) from error\n",
        also=[Edit("import httpx\n", "import httpx\nfrom fastapi import HTTPException\n", QUOTES)],
        killed_by=["test_the_layers_hold"],
        says="services",
        why="a service that raises HTTPException knows it is called over HTTP; the error handler's body is bypassed",
    ),
    Mutant(
        "blocking-http-call",
        path=RATES,
        find='            response = await client.get("/latest", params={"base": base, "symbols": target})\n',
        replace='            response = httpx.get(f"{client.base_url}/latest", params={"base": base, "symbols": target})\n',
        killed_by=[
            "test_one_http_client_serves_every_request_and_the_lifespan_closes_it",
            "test_no_async_function_blocks_the_event_loop",
        ],
        says="blocks the event loop",
        why="a synchronous call inside async def stops every other request for as long as the rate service takes",
    ),
    Mutant(
        "untyped-convert",
        path=QUOTES,
        find="def convert(amount: int, rate: Decimal) -> int:\n",
        replace="def convert(amount, rate):\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="mypy",
        why="the money function is the one that most needs its types checked",
    ),
]

MUTANTS = [*STEP_1, *STEP_2, *STEP_3, *STEP_4, *STEP_5, *STEP_6, *STEP_7]
