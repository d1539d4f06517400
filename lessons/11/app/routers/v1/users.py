"""The users endpoints: sign up, and read the user of the access token."""

from fastapi import APIRouter, status

from app.dependencies.auth import CurrentUser
from app.dependencies.services import UserServiceDep
from app.routers.errors import error_responses
from app.schemas.users import UserCreate, UserRead

router = APIRouter(prefix="/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Sign up",
    responses=error_responses(status.HTTP_409_CONFLICT, status.HTTP_422_UNPROCESSABLE_CONTENT),
)
async def sign_up(body: UserCreate, users: UserServiceDep) -> UserRead:
    """Create a user with this email and password; then log in at POST /api/v1/auth/token."""
    user = await users.sign_up(email=body.email, password=body.password)
    return UserRead.model_validate(user)


@router.get(
    "/me",
    summary="Read the current user",
    responses=error_responses(status.HTTP_401_UNAUTHORIZED),
)
async def read_me(user: CurrentUser) -> UserRead:
    """The user the access token was issued to."""
    return UserRead.model_validate(user)
