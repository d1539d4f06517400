"""Dockerfiles and Compose files, read without a Docker engine, and the rules lesson 08 teaches.

    dockerfile.py   parse a Dockerfile and .dockerignore patterns
    compose.py      parse a Compose file
    rules.py        the rules, in one table (RULES), each returning a Problem or None

The names below are the package's public face: `from workshop.graders import docker`, then
`docker.parse_dockerfile(path)`, `docker.first_problem(check, files)`, …
"""

from workshop.graders.docker.compose import Compose, Service, Volume, load_compose, load_compose_text
from workshop.graders.docker.dockerfile import (
    Command,
    Dockerfile,
    Instruction,
    ParseError,
    Stage,
    dockerignore_patterns,
    is_ignored,
    parse_command,
    parse_dockerfile,
    parse_dockerfile_text,
)
from workshop.graders.docker.rules import *  # noqa: F403  (every rule, Problem, RULES, Files)
from workshop.graders.docker.rules import Files, Problem, Rule, all_problems, first_problem

__all__ = [
    "Command",
    "Compose",
    "Dockerfile",
    "Files",
    "Instruction",
    "ParseError",
    "Problem",
    "Rule",
    "Service",
    "Stage",
    "Volume",
    "all_problems",
    "dockerignore_patterns",
    "first_problem",
    "is_ignored",
    "load_compose",
    "load_compose_text",
    "parse_command",
    "parse_dockerfile",
    "parse_dockerfile_text",
]
