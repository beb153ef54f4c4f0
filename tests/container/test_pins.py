"""Every package the image installs has an exact version: the pyproject files
pin the direct dependencies, docker/constraints.txt the rest (checked against
the packages this venv resolved from the same pyproject files)."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "docker" / "constraints.txt"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure(root: str) -> dict[str, str]:
    """Installed name -> version of ``root`` and everything it needs at run time."""
    found: dict[str, str] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if canonical(name) in found:
            continue
        dist = md.distribution(name)
        found[canonical(name)] = dist.version
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


def pinned(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        req = Requirement(line)
        spec = [s for s in req.specifier if s.operator == "=="]
        if spec:
            pins[canonical(req.name)] = spec[0].version
    return pins


def project_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for package in ("server", "clients/python"):
        path = ROOT / package / "pyproject.toml"
        pins.update(pinned(tomllib.loads(path.read_text())["project"]["dependencies"]))
    return pins


def constraint_pins() -> dict[str, str]:
    lines = [ln.split("#")[0].strip() for ln in CONSTRAINTS.read_text().splitlines()]
    return pinned([ln for ln in lines if ln])


def test_every_runtime_package_of_the_image_is_pinned() -> None:
    pins = {**project_pins(), **constraint_pins()}
    closure = runtime_closure("telgate-server")
    ours = {"telgate-server", "telgate-client"}
    unpinned = sorted(f"{n}=={v}" for n, v in closure.items() if n not in pins and n not in ours)
    assert not unpinned, f"add to docker/constraints.txt: {', '.join(unpinned)}"
    stale = sorted(
        f"{n}: {pins[n]} pinned, {v} installed"
        for n, v in closure.items()
        if n in pins and pins[n] != v
    )
    assert not stale, stale


def test_the_dockerfile_build_tools_are_the_constrained_ones() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    tools = constraint_pins()
    for tool in ("pip", "setuptools"):
        assert f"{tool}=={tools[tool]}" in dockerfile
