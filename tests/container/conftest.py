"""The private daemon, the test base image and the project's image, shared
by the container tests (test_image.py runs the image by hand,
test_compose_up.py through compose.yaml, test_compose_cluster_up.py through
deploy/compose.cluster.yaml): one daemon and one build for the package,
removed after its last test."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.container.base_image import ensure_base_image
from tests.container.dockerd import Dockerd, remove_tree, require_docker, running_dockerd

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "telgate:test"


@pytest.fixture(scope="package")
def daemon() -> Iterator[Dockerd]:
    require_docker()
    # A short path: the daemon's unix sockets live under it (108-byte limit).
    with running_dockerd(Path(tempfile.mkdtemp(prefix="tgdock-"))) as d:
        yield d


@pytest.fixture(scope="package")
def base(daemon: Dockerd) -> Iterator[str]:
    """The test base image's tag (base_image.py): debootstrapped bookworm with python3."""
    work = Path(tempfile.mkdtemp(prefix="tgbase-"))
    try:
        yield ensure_base_image(daemon, work)
    finally:
        remove_tree(work)


@pytest.fixture(scope="package")
def image(daemon: Dockerd, base: str) -> Iterator[str]:
    """The project's Dockerfile built FROM the test base image."""
    work = Path(tempfile.mkdtemp(prefix="tgimage-"))
    try:
        started = time.monotonic()
        daemon.docker_stream(
            ["build", "--network=host", "--build-arg", f"BASE={base}", "-t", IMAGE, str(ROOT)],
            log=work / "build.log",
            timeout=900,
        )
        took = time.monotonic() - started

        def size(tag: str) -> float:
            return int(daemon.docker("image", "inspect", "-f", "{{.Size}}", tag).stdout) / 1e6

        # Figures for the report (pytest -s shows them); nothing asserts on them.
        print(
            f"\nimage {IMAGE}: built in {took:.1f} s, {size(IMAGE):.0f} MB "
            f"({size(IMAGE) - size(base):.0f} MB over the base)"
        )
        yield IMAGE
    finally:
        remove_tree(work)
