"""The stand-ins for deploy/compose.cluster.yaml's Docker Hub images (NATS
and PostgreSQL), which the test machines cannot pull: nats.Dockerfile and
postgres.Dockerfile built FROM the test base image (base_image.py) with
Debian's packages.

Both are kept in one `docker save` file in the cache folder base_image.py
uses, for a week, keyed by the base image's key and the files they are built
from, so a second run loads them in seconds; a fresh machine (CI) builds them
(about a minute: apt-get of nats-server, wget and postgresql-15)."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.container.base_image import cache_dir, cache_key, load_cached, save_cached
from tests.container.dockerd import Dockerd

HERE = Path(__file__).parent
# Each image: its Dockerfile and the files next to it that it COPYs.
SOURCES = {
    "nats": ("nats.Dockerfile", ()),
    "postgres": ("postgres.Dockerfile", ("postgres-entrypoint.sh",)),
}


@dataclass(frozen=True)
class ServiceImages:
    """Tags of the stand-ins in the daemon."""

    nats: str
    postgres: str


def images_key() -> str:
    """Changes whenever the base image's key or a file of either image does."""
    h = hashlib.sha256(cache_key().encode())
    for name, (dockerfile, extras) in sorted(SOURCES.items()):
        for file in (dockerfile, *extras):
            h.update(f"{name}/{file}\0".encode() + (HERE / file).read_bytes())
    return h.hexdigest()[:16]


def build_image(daemon: Dockerd, work: Path, base: str, name: str, tag: str) -> None:
    """One stand-in, built in a context holding only its own files."""
    dockerfile, extras = SOURCES[name]
    context = work / f"{name}-context"
    context.mkdir()
    shutil.copy(HERE / dockerfile, context / "Dockerfile")
    for extra in extras:
        shutil.copy2(HERE / extra, context / extra)  # keeps the entry point's mode
    daemon.docker_stream(
        ["build", "--network=host", "--build-arg", f"BASE={base}", "-t", tag, str(context)],
        log=work / f"{name}-build.log",
        timeout=900,
    )


def ensure_service_images(daemon: Dockerd, work: Path, base: str) -> ServiceImages:
    """Both stand-ins in ``daemon`` (``base`` is the test base image's tag):
    loaded from the cache, or built (and cached)."""
    key = images_key()
    images = ServiceImages(nats=f"telgate-test/nats:{key}", postgres=f"telgate-test/postgres:{key}")
    cached = cache_dir() / f"services-{key}.tar"
    if not load_cached(daemon, cached, work):
        build_image(daemon, work, base, "nats", images.nats)
        build_image(daemon, work, base, "postgres", images.postgres)
        save_cached(daemon, cached, [images.nats, images.postgres], "services-*.tar")
    return images
