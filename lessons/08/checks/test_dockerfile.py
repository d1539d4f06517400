"""Lesson 08 checks, steps 1 to 4: the Dockerfile and .dockerignore, read without a Docker engine."""

from __future__ import annotations

import pytest

from workshop.graders import docker

from . import rules
from .conftest import folder, teach


@pytest.mark.step(1)
def test_uv_comes_from_a_pinned_image(dockerfile: docker.Dockerfile) -> None:
    """Hint: copy the uv binary out of its image at a version you chose: `COPY --from=<uv image>:<x.y.z> …`."""
    teach(docker.uv_image_problem(dockerfile), "Dockerfile", 1)


@pytest.mark.step(1)
def test_uv_compiles_the_bytecode_at_build_time(dockerfile: docker.Dockerfile) -> None:
    """Hint: who compiles the .pyc files, the build once or every container at each start? uv reads an ENV for it."""
    teach(rules.bytecode_problem(dockerfile), "Dockerfile", 1)


@pytest.mark.step(1)
def test_uv_never_downloads_an_interpreter(dockerfile: docker.Dockerfile) -> None:
    """Hint: the .venv points at an interpreter; which one exists in both stages? uv reads an ENV for it."""
    teach(rules.python_downloads_problem(dockerfile), "Dockerfile", 1)


@pytest.mark.step(2)
def test_uv_sync_installs_the_lock_without_dev_dependencies(dockerfile: docker.Dockerfile) -> None:
    """Hint: one flag makes the build fail on a stale lock, another leaves out the `dev` group."""
    teach(docker.uv_sync_problem(dockerfile), "Dockerfile", 2)


@pytest.mark.step(2)
def test_uv_sync_keeps_its_cache_in_a_cache_mount(dockerfile: docker.Dockerfile) -> None:
    """Hint: `RUN --mount=type=cache,target=…` keeps downloads between builds and out of the image."""
    teach(docker.cache_mount_problem(dockerfile), "Dockerfile", 2)


@pytest.mark.step(2)
def test_the_dependencies_get_a_layer_before_the_code(dockerfile: docker.Dockerfile) -> None:
    """Hint: which changes more often, uv.lock or app/? Install from the one before copying the other."""
    teach(docker.layering_problem(dockerfile), "Dockerfile", 2)


@pytest.mark.step(3)
def test_the_final_stage_copies_the_build_from_the_first(dockerfile: docker.Dockerfile) -> None:
    """Hint: the final stage starts from a clean Python image and takes /app (with its .venv) from the build stage."""
    teach(docker.multi_stage_problem(dockerfile) or rules.venv_copy_problem(dockerfile), "Dockerfile", 3)


@pytest.mark.step(3)
def test_the_final_stage_runs_as_a_non_root_user(dockerfile: docker.Dockerfile) -> None:
    """Hint: create a system user, give it the files with `--chown`, then `USER` before `CMD`."""
    teach(docker.non_root_problem(dockerfile) or rules.root_uid_problem(dockerfile), "Dockerfile", 3)


@pytest.mark.step(3)
def test_the_command_is_in_exec_form(dockerfile: docker.Dockerfile) -> None:
    """Hint: who receives SIGTERM from `docker stop`: the shell, or the server?"""
    teach(docker.exec_form_problem(dockerfile) or rules.shell_pid1_problem(dockerfile), "Dockerfile", 3)


@pytest.mark.step(3)
def test_the_server_listens_on_every_interface_of_the_container(dockerfile: docker.Dockerfile) -> None:
    """Hint: 127.0.0.1 inside a container is the container itself; a published port arrives on another interface."""
    teach(docker.listen_problem(dockerfile), "Dockerfile", 3)


@pytest.mark.step(3)
def test_the_server_runs_without_the_development_reloader(dockerfile: docker.Dockerfile) -> None:
    """Hint: does the code inside an image ever change while the container runs?"""
    teach(rules.reloader_problem(dockerfile), "Dockerfile", 3)


@pytest.mark.step(4)
def test_the_image_has_a_healthcheck_written_in_python(dockerfile: docker.Dockerfile) -> None:
    """Hint: the slim image has Python but no curl; `urllib.request.urlopen` raises on a 503."""
    found = (
        rules.healthcheck_tool_problem(dockerfile)
        or docker.healthcheck_problem(dockerfile)
        or rules.healthcheck_can_fail_problem(dockerfile)
    )
    teach(found, "Dockerfile", 4)


@pytest.mark.step(4)
def test_dockerignore_keeps_the_venv_and_the_secrets_out() -> None:
    """Hint: the build context is everything in lessons/08 that .dockerignore does not name."""
    path = folder() / ".dockerignore"
    found = rules.needed_files_problem(path) or docker.dockerignore_problem(path) or rules.not_shipped_problem(path)
    teach(found, ".dockerignore", 4)


@pytest.mark.step(4)
def test_no_secret_is_baked_into_the_image(dockerfile: docker.Dockerfile) -> None:
    """Hint: everything an image was given stays in it, layer by layer; who should hand the container its secrets?"""
    found = rules.baked_secret_problem(dockerfile, folder() / ".dockerignore")
    if found is not None:
        teach(found[1], found[0], 4)
