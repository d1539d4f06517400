"""The settings the app was built with: `create_app(settings)` keeps them on `app.state`.

A dependency reads them from there rather than calling `get_settings()`: a test (or a second
app in one process) that builds the app with its own Settings gets those, not the environment's.
"""

from typing import Annotated

from fastapi import Depends, Request

from app.core.config import Settings


async def get_app_settings(request: Request) -> Settings:
    """The Settings of the app serving this request."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
