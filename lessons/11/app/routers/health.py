"""The probes: what an orchestrator (Compose, Kubernetes) or a load balancer asks the service.

* `GET /health/live`: is the process up? No I/O at all: a liveness probe that fails because the
  database is down gets a healthy process restarted, which fixes nothing.
* `GET /health/ready`: should this instance get traffic? The database and Redis must each answer
  within `ready_timeout` seconds; otherwise 503, naming the one that did not.
* `GET /health`: lesson 06's probe, kept for the clients that know it.
"""

from fastapi import APIRouter, Request, Response, status

from app.core.database import database_is_up
from app.core.probes import database_answers, redis_answers
from app.dependencies.session import SessionDep
from app.dependencies.settings import SettingsDep

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Health probe",
    description="Answers 200 when the service and its database work, 503 when the database is unreachable.",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"description": "The database is unreachable."}},
)
async def health(session: SessionDep, response: Response) -> dict[str, str]:
    """Say whether the process is alive and its database answers."""
    if await database_is_up(session):
        return {"status": "ok", "database": "ok"}
    response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "degraded", "database": "unreachable"}


@router.get("/health/live", summary="Liveness probe", description="200 while the process runs. Touches nothing.")
async def live() -> dict[str, str]:
    """The process is up and its event loop answers."""
    return {"status": "ok"}


@router.get(
    "/health/ready",
    summary="Readiness probe",
    description="200 when the database and Redis answer within the ready timeout; 503 naming the one that does not.",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"description": "The database or Redis does not answer."}},
)
async def ready(request: Request, settings: SettingsDep, response: Response) -> dict[str, str]:
    """Ask the database and Redis (the lifespan's engine and client), each within settings.ready_timeout."""
    checks = {
        "database": await database_answers(request.app.state.engine, settings.ready_timeout),
        "redis": await redis_answers(request.app.state.redis, settings.ready_timeout),
    }
    body = {name: "ok" if up else "unreachable" for name, up in checks.items()}
    if all(checks.values()):
        return {"status": "ok", **body}
    response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "unavailable", **body}
