"""What v2's paged routes depend on: the cursors of the request's user, keyed by the settings' secret (lesson 11)."""

from typing import Annotated

from fastapi import Depends

from app.dependencies.auth import CurrentUser
from app.dependencies.settings import SettingsDep
from app.services.pages import Cursors


async def get_cursors(settings: SettingsDep, user: CurrentUser) -> Cursors:
    """Cursors signed with the service's secret key, for the request's user."""
    return Cursors(settings.secret_key, user.id)


CursorsDep = Annotated[Cursors, Depends(get_cursors)]
