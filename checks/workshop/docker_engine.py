"""Whether this machine runs a Docker engine: asked by `workshop doctor` and by lesson 08's one engine-gated check.

Standard library only: the learner's CLI imports it, and nothing of the maintainers' tools.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Engine:
    client: str | None  # path of the docker client
    running: bool  # `docker info` answers
    compose: bool  # the compose plugin is there

    def describe(self) -> str:
        if self.client is None:
            return "not installed"
        if not self.running:
            return "client only, no engine (docker info failed)"
        return "engine running" + ("" if self.compose else ", but no compose plugin")


def engine(timeout: float = 20) -> Engine:
    client = shutil.which("docker")
    if client is None:
        return Engine(None, False, False)

    def answers(*args: str) -> bool:
        try:
            return subprocess.run([client, *args], capture_output=True, timeout=timeout).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    running = answers("info")
    return Engine(client, running, running and answers("compose", "version"))
