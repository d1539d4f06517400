"""Lesson 08 checks, steps 1 to 4: the Dockerfile and .dockerignore, read without a Docker engine."""

from __future__ import annotations

import pytest

from workshop.graders import docker

from .conftest import apply_rules


@pytest.mark.step(1)
def test_uv_comes_from_a_pinned_image(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: copy the uv binary out of its image at a version you chose: `COPY --from=<uv image>:<x.y.z> …`."""
    apply_rules(request, files)


@pytest.mark.step(1)
def test_uv_compiles_the_bytecode_at_build_time(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: who compiles the .pyc files, the build once or every container at each start? uv reads an ENV for it."""
    apply_rules(request, files)


@pytest.mark.step(1)
def test_uv_never_downloads_an_interpreter(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: the .venv points at an interpreter; which one exists in both stages? uv reads an ENV for it."""
    apply_rules(request, files)


@pytest.mark.step(2)
def test_uv_sync_installs_the_lock_without_dev_dependencies(
    request: pytest.FixtureRequest, files: docker.Files
) -> None:
    """Hint: one flag makes the build fail on a stale lock, another leaves out the `dev` group."""
    apply_rules(request, files)


@pytest.mark.step(2)
def test_uv_sync_keeps_its_cache_in_a_cache_mount(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: `RUN --mount=type=cache,target=…` keeps downloads between builds and out of the image."""
    apply_rules(request, files)


@pytest.mark.step(2)
def test_the_dependencies_get_a_layer_before_the_code(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: which changes more often, uv.lock or app/? Install from the one before copying the other."""
    apply_rules(request, files)


@pytest.mark.step(3)
def test_the_final_stage_copies_the_build_from_the_first(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: the final stage starts from a clean Python image and takes /app (with its .venv) from the build stage."""
    apply_rules(request, files)


@pytest.mark.step(3)
def test_the_final_stage_runs_as_a_non_root_user(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: create a system user, give it the files with `--chown`, then `USER` before `CMD`."""
    apply_rules(request, files)


@pytest.mark.step(3)
def test_the_command_is_in_exec_form(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: who receives SIGTERM from `docker stop`: the shell, or the server?"""
    apply_rules(request, files)


@pytest.mark.step(3)
def test_the_server_listens_on_every_interface_of_the_container(
    request: pytest.FixtureRequest, files: docker.Files
) -> None:
    """Hint: 127.0.0.1 inside a container is the container itself; a published port arrives on another interface."""
    apply_rules(request, files)


@pytest.mark.step(3)
def test_the_server_runs_without_the_development_reloader(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: does the code inside an image ever change while the container runs?"""
    apply_rules(request, files)


@pytest.mark.step(4)
def test_the_image_has_a_healthcheck_written_in_python(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: the slim image has Python but no curl; `urllib.request.urlopen` raises on a 503."""
    apply_rules(request, files)


@pytest.mark.step(4)
def test_dockerignore_keeps_the_venv_and_the_secrets_out(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: the build context is everything in lessons/08 that .dockerignore does not name."""
    apply_rules(request, files)


@pytest.mark.step(4)
def test_no_secret_is_baked_into_the_image(request: pytest.FixtureRequest, files: docker.Files) -> None:
    """Hint: everything an image was given stays in it, layer by layer; who should hand the container its secrets?"""
    apply_rules(request, files)
