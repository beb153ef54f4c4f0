"""The seam between the API and the backends, kept by reading every module's
imports: servicers, the event hub and the CDR code import nothing from
backends/, and no backend imports gRPC, protobuf or the API's messages, not
even through another module of the gateway. Every part of the package has a
rule here, so a new folder cannot slip past the seam unnoticed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import telgate_server

PACKAGE = Path(telgate_server.__file__).parent
NAME = "telgate_server"

_WIRE = ("grpc", "google.protobuf", "telgate")
_API_SIDE = (f"{NAME}.api", f"{NAME}.ops", f"{NAME}.auth")
_WIRING = (f"{NAME}.app", f"{NAME}.cli", f"{NAME}.commands")

# Folder or top-level module -> import prefixes none of its modules may use
# (`telgate` is the generated client package, not this server package).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # The API side: servicers, interceptors, metrics, callers' auth.
    "api": (f"{NAME}.backends", *_WIRING),
    "ops": (f"{NAME}.backends", *_WIRING),
    "auth": (f"{NAME}.backends", *_WIRING),
    # Neutral cores: what both sides share, in neither side's terms. The
    # translation to protobuf lives in api/convert.py alone.
    "events": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    "cdr": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    "gateway": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    # Routing queries, decisions and the routers' hub (api/routing_convert.py
    # translates them to protobuf).
    "routing": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    # Link leases between gateway instances: the backend seam only, never a
    # backend's own code or the API.
    "cluster": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    "errors.py": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    "settings_strict.py": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    "scheduling.py": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    "collector.py": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    "webhook_server.py": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    # The NATS connection the JetStream hub and the link leases share.
    "nats_connect.py": (f"{NAME}.backends", *_API_SIDE, *_WIRING, *_WIRE),
    # The switch side: backends get an event sink, never the hub itself.
    "backends": (*_WIRE, *_API_SIDE, *_WIRING, f"{NAME}.events.hub"),
    # Fake switches speak their switch's wire protocol, never the gateway's API.
    "simulator": (*_WIRE, *_API_SIDE, *_WIRING),
    "fakes": (*_WIRE, *_API_SIDE, *_WIRING),
    # Assembles the tagged union of backend settings: may name backends' settings.
    "config.py": (*_WIRE, f"{NAME}.api", f"{NAME}.ops", *_WIRING),
    # Wiring: may import anything.
    "app.py": (),
    "cli.py": (),
    "commands": (),
    "__init__.py": (),
}

# Sans-I/O modules (in the manner of h11): bytes in, messages out; the
# asyncio edge (connection.py) moves bytes and timers.
SANS_IO = ("backends/ami/codec.py", "backends/ami/protocol.py")
_IO = ("asyncio", "socket", "selectors", "ssl", "threading", "time")


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
    return module == prefix or module.startswith(prefix + ".")


def _rule(path: Path, root: Path) -> tuple[str, ...] | None:
    rel = path.relative_to(root)
    return FORBIDDEN.get(rel.parts[0])


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = [p for p in path.relative_to(root).with_suffix("").parts if p != "__init__"]
    return ".".join([NAME, *parts])


def _modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _own(module: str, modules: dict[str, Path]) -> str | None:
    """The package module an import names (``a.b.C`` -> ``a.b``), or None."""
    while module and module not in modules:
        module = module.rpartition(".")[0]
    return module or None


def reaches(start: Path, root: Path = PACKAGE) -> dict[str, list[str]]:
    """Every module ``start`` imports, directly or through the package's own
    modules, with the chain of imports that leads to it."""
    modules = _modules(root)
    first = module_name(start, root)
    found: dict[str, list[str]] = {}
    todo = [(first, [first])]
    while todo:
        current, chain = todo.pop()
        for _, imported in imports(modules[current], root):
            own = _own(imported, modules)
            target = own if own is not None and imported.startswith(NAME) else imported
            if target in found or target == first:
                continue
            found[target] = [*chain, target]
            if own is not None and target == own:
                todo.append((own, found[target]))
    return found


def violations(root: Path = PACKAGE) -> list[str]:
    """`file:line imports module` for each import the seam forbids; for a
    backend, also `file reaches module via a -> b` for one that comes in
    through another module of the package."""
    found = []
    for path in sorted(root.rglob("*.py")):
        prefixes = _rule(path, root)
        if not prefixes:
            continue
        where = path.relative_to(root)
        for line, module in imports(path, root):
            for prefix in prefixes:
                if _matches(module, prefix):
                    found.append(f"{where}:{line} imports {module}")
        if where.parts[0] == "backends":
            for module, chain in reaches(path, root).items():
                if len(chain) > 2 and any(_matches(module, p) for p in _WIRE):
                    found.append(f"{where} reaches {module} via {' -> '.join(chain[1:-1])}")
    return found


def unclassified(root: Path = PACKAGE) -> list[str]:
    """Folders and top-level modules of the package that FORBIDDEN has no rule for."""
    return sorted(
        p.name
        for p in root.iterdir()
        if ((p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py")
        and p.name not in FORBIDDEN
    )


def test_every_part_of_the_package_has_a_rule() -> None:
    assert unclassified() == [], "add a rule to FORBIDDEN for these"


def test_the_sans_io_modules_import_no_io() -> None:
    for rel in SANS_IO:
        path = PACKAGE / rel
        for line, module in imports(path):
            assert not any(_matches(module, io) for io in _IO), f"{rel}:{line} imports {module}"
        # Nor through another module of the package.
        reached = reaches(path)
        for io in _IO:
            assert io not in reached, f"{rel} reaches {io} via {reached[io]}"


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
    # A backend that reaches gRPC through a module of the package that may import it.
    (tmp_path / "backends" / "toy" / "cdrs.py").write_text(
        "from telgate_server.helpers import wire\n", encoding="utf-8"
    )
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "helpers" / "wire.py").write_text("from . import deeper\n", encoding="utf-8")
    (tmp_path / "helpers" / "deeper.py").write_text(
        "from google.protobuf import message\n", encoding="utf-8"
    )
    found = violations(tmp_path)
    assert (
        "backends/toy/cdrs.py reaches google.protobuf via telgate_server.helpers.wire -> "
        "telgate_server.helpers.deeper"
    ) in found, found
    # A folder without a rule is named, so it gets one.
    assert "helpers" in unclassified(tmp_path)
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
