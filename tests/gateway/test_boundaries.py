"""The seam between the API and the backends, kept by reading every module's
imports: servicers, the event hub and the CDR code import nothing from
backends/, and no backend imports gRPC, protobuf or the API's messages."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import telgate_server

PACKAGE = Path(telgate_server.__file__).parent
NAME = "telgate_server"

# Folder -> import prefixes none of its modules may use.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "api": (f"{NAME}.backends",),
    "events": (f"{NAME}.backends",),
    "cdr": (f"{NAME}.backends",),
    "gateway": (f"{NAME}.backends", f"{NAME}.api", "grpc", "google.protobuf", "telgate.v1"),
    "backends": ("grpc", "google.protobuf", "telgate.v1", "telgate", f"{NAME}.api"),
}


def imports(path: Path, root: Path = PACKAGE) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the file, relative ones resolved."""
    package = ".".join((NAME, *path.relative_to(root).parent.parts))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield node.lineno, base
            # `from telgate_server import backends` names the module in the alias.
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _matches(module: str, prefix: str) -> bool:
    if prefix == "telgate":
        # The generated client package, not this server package.
        return module == "telgate" or module.startswith("telgate.")
    return module == prefix or module.startswith(prefix + ".")


def violations(root: Path = PACKAGE) -> list[str]:
    """`file:line imports module` for each import the seam forbids."""
    found = []
    for folder, prefixes in FORBIDDEN.items():
        for path in sorted((root / folder).rglob("*.py")):
            for line, module in imports(path, root):
                for prefix in prefixes:
                    if _matches(module, prefix):
                        where = path.relative_to(root)
                        found.append(f"{where}:{line} imports {module}")
    return found


def test_each_side_of_the_seam_imports_only_what_it_may() -> None:
    assert violations() == []


def test_the_walk_finds_each_form_of_a_forbidden_import(tmp_path: Path) -> None:
    # The check itself, on a package tree of its own: every import form counts.
    for folder in ("api", "events", "cdr", "gateway", "backends/toy"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "api" / "calls.py").write_text(
        "import grpc\nfrom telgate_server.backends.ami import codec\n", encoding="utf-8"
    )
    (tmp_path / "events" / "hub.py").write_text(
        "def f():\n    from ..backends import kinds\n", encoding="utf-8"
    )
    (tmp_path / "cdr" / "store.py").write_text(
        "from telgate_server import backends\n", encoding="utf-8"
    )
    (tmp_path / "gateway" / "backend.py").write_text("import telgate.v1\n", encoding="utf-8")
    (tmp_path / "backends" / "toy" / "backend.py").write_text(
        "import grpc.aio\nfrom telgate.v1 import calls_pb2\n"
        "from google.protobuf import message\nfrom ...api import convert\n"
        "from telgate_server.gateway import model\n",
        encoding="utf-8",
    )
    found = violations(tmp_path)
    for expected in (
        "api/calls.py:2 imports telgate_server.backends.ami",
        "events/hub.py:2 imports telgate_server.backends",
        "cdr/store.py:1 imports telgate_server.backends",
        "gateway/backend.py:1 imports telgate.v1",
        "backends/toy/backend.py:1 imports grpc.aio",
        "backends/toy/backend.py:2 imports telgate.v1",
        "backends/toy/backend.py:3 imports google.protobuf",
        "backends/toy/backend.py:4 imports telgate_server.api",
    ):
        assert expected in found, (expected, found)
    # `import grpc` in a servicer and gateway.model in a backend are allowed.
    assert not [f for f in found if f.startswith("api/calls.py:1")]
    assert not [f for f in found if "gateway.model" in f]
