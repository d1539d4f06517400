"""The health route: the first thing a load balancer or a colleague asks the service."""

from fastapi import APIRouter, Response, status

from app.core.database import database_is_up
from app.dependencies.session import SessionDep

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
