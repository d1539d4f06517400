"""Shared by lesson 02's checks: the address of a database that is not there."""

import socket

import pytest


@pytest.fixture
def unreachable_url() -> str:
    """A PostgreSQL URL on a local port nobody listens on: connecting fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+asyncpg://ledger:not-a-secret@127.0.0.1:{port}/ledger"
