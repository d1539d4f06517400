"""The health route: the first thing a load balancer or a colleague asks the service."""

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness probe", description="Answers while the process runs.")
async def health() -> dict[str, str]:
    """Say that the process is alive."""
    ### BEGIN SOLUTION return {"status": "ok"} from the health route (step 3)
    return {"status": "ok"}
    ### END SOLUTION
