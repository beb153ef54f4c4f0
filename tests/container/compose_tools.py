"""What the compose tests share: Debian's docker-compose (1.29) and the
state of what it made in the private daemon."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.container.dockerd import Dockerd

DOCKER_COMPOSE = "/usr/bin/docker-compose"


def require_compose() -> None:
    """Fails (never skips) when docker-compose is not installed."""
    if not Path(DOCKER_COMPOSE).exists():
        pytest.fail(
            f"{DOCKER_COMPOSE} not found: install the docker-compose package "
            "(`make test-deps` as root), or set TELGATE_SKIP_DOCKER=1 to skip"
        )


def left_over(daemon: Dockerd, project: str) -> list[str]:
    """The project's containers, networks and volumes still in the daemon."""
    label = f"label=com.docker.compose.project={project}"
    found = []
    for kind, listing in (
        ("container", ["ps", "-aq"]),
        ("network", ["network", "ls", "-q"]),
        ("volume", ["volume", "ls", "-q"]),
    ):
        ids = daemon.docker(*listing, "--filter", label).stdout.split()
        found += [f"{kind} {i}" for i in ids]
    return found


def state(daemon: Dockerd, cid: str) -> tuple[str, str]:
    """(running?, health) of a container."""
    out = daemon.docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", cid)
    status, health = out.stdout.split()
    return status, health
