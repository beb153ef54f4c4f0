"""The base image the container test builds the project's Dockerfile on (as
``--build-arg BASE=``): Docker Hub is out of reach on the test machines, so
Debian bookworm is debootstrapped (minbase), `docker import`ed, and
base.Dockerfile adds python3, its venv module and the host's CA certificates.

The finished image is kept with `docker save` in ~/.cache/telgate (or
$XDG_CACHE_HOME/telgate) for a week, keyed by base.Dockerfile and the
certificates, so a second run on one machine loads it in seconds; a fresh
machine (CI) builds it (about a minute)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.container.dockerd import Dockerd, remove_tree

HERE = Path(__file__).parent
BASE_DOCKERFILE = HERE / "base.Dockerfile"
HOST_CERTIFICATES = Path("/usr/local/share/ca-certificates")
MIRROR = "http://deb.debian.org/debian"
RAW_TAG = "telgate-test/bookworm-minbase:raw"
MAX_AGE = 7 * 86_400.0


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "telgate"


def _certificates() -> list[Path]:
    if not HOST_CERTIFICATES.is_dir():
        return []
    return sorted(p for p in HOST_CERTIFICATES.rglob("*.crt") if p.is_file())


def cache_key() -> str:
    """Changes whenever base.Dockerfile or a host certificate does."""
    h = hashlib.sha256(BASE_DOCKERFILE.read_bytes())
    for cert in _certificates():
        h.update(cert.name.encode() + b"\0" + cert.read_bytes())
    return h.hexdigest()[:16]


def debootstrap(rootfs: Path, log: Path) -> None:
    """A minimal bookworm in ``rootfs`` without apt's downloaded files."""
    with log.open("wb") as out:
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), MIRROR],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=900,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"debootstrap failed ({result.returncode}):\n{log.read_text(errors='replace')[-3000:]}"
        )
    # The .deb files and package lists are dead weight in the image (apt-get
    # update fetches fresh lists).
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (rootfs / junk).glob("*"):
            if path.is_file():
                path.unlink()


def build_base_image(daemon: Dockerd, work: Path, tag: str) -> None:
    """debootstrap + import + base.Dockerfile, tagged ``tag``."""
    rootfs = work / "rootfs"
    try:
        debootstrap(rootfs, work / "debootstrap.log")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        daemon.docker_stream(
            ["import", "-", RAW_TAG],
            stdin=tar.stdout.fileno(),
            log=work / "import.log",
            timeout=300,
        )
        tar.stdout.close()
        if tar.wait() != 0:
            raise RuntimeError(f"tar of the debootstrapped tree failed ({tar.returncode})")
    finally:
        remove_tree(rootfs)
    context = work / "base-context"
    (context / "certificates").mkdir(parents=True)
    for cert in _certificates():
        shutil.copy(cert, context / "certificates" / cert.name)
    shutil.copy(BASE_DOCKERFILE, context / "Dockerfile")
    daemon.docker_stream(
        ["build", "--network=host", "--build-arg", f"BASE={RAW_TAG}", "-t", tag, str(context)],
        log=work / "base-build.log",
        timeout=900,
    )
    daemon.docker("rmi", RAW_TAG, check=False)


def load_cached(daemon: Dockerd, cached: Path, work: Path) -> bool:
    """Loads the images of a `docker save` file younger than a week into
    ``daemon``; False when there is none (a damaged file is deleted)."""
    if not cached.exists() or time.time() - cached.stat().st_mtime >= MAX_AGE:
        return False
    try:
        with cached.open("rb") as f:
            daemon.docker_stream(["load"], stdin=f.fileno(), log=work / "load.log", timeout=300)
        return True
    except RuntimeError:
        # A damaged cache file: build anew (and replace it) rather than fail for a week.
        cached.unlink(missing_ok=True)
        return False


def save_cached(daemon: Dockerd, cached: Path, tags: list[str], stale: str) -> None:
    """`docker save`s ``tags`` to ``cached``, deleting the older files that
    match the glob ``stale`` (other keys of the same images)."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    for old in cached.parent.glob(stale):
        old.unlink(missing_ok=True)
    # Per process, renamed into place: two sessions building at once never
    # load a half-written file.
    partial = cached.with_suffix(f".{os.getpid()}.partial")
    try:
        daemon.docker("save", "-o", str(partial), *tags, timeout=300)
        partial.rename(cached)
    finally:
        partial.unlink(missing_ok=True)


def ensure_base_image(daemon: Dockerd, work: Path) -> str:
    """The base image's tag in ``daemon``: loaded from the cache, or built (and cached)."""
    key = cache_key()
    tag = f"telgate-test/python3:{key}"
    cached = cache_dir() / f"base-python3-{key}.tar"
    if not load_cached(daemon, cached, work):
        build_base_image(daemon, work, tag)
        save_cached(daemon, cached, [tag], "base-python3-*.tar")
    return tag
