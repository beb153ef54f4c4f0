"""Every ErrorInfo reason the server's code can give is a value of the
ErrorReason enum in common.proto, the one place reasons are documented: a
reason a client's enum lacks cannot be branched on (a Simotel error once
gave ERROR_REASON_QUEUE_NOT_FOUND, which the enum never had)."""

from __future__ import annotations

import ast
from pathlib import Path

import telgate_server
from telgate.v1 import common_pb2
from telgate_server import errors

SERVER = Path(telgate_server.__file__).parent
_REASON = str.isupper


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "TEXT"`` assignments."""
    out: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def _text(node: ast.expr, constants: dict[str, str], imported: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id) or imported.get(node.id)
    return None


def reasons_in_code() -> dict[str, list[str]]:
    """Each reason the code names (``reason="X"`` to an error, a class's
    ``reason = "X"``, abort_with's reason argument) -> where it is named."""
    trees = {path: ast.parse(path.read_text()) for path in SERVER.rglob("*.py")}
    # Constants other modules import by name (ops/drain.py's SHUTTING_DOWN).
    imported: dict[str, str] = {}
    for tree in trees.values():
        imported.update({k: v for k, v in _constants(tree).items() if _REASON(v)})
    found: dict[str, list[str]] = {}
    for path, tree in trees.items():
        constants = _constants(tree)
        where = str(path.relative_to(SERVER))
        for node in ast.walk(tree):
            texts: list[ast.expr] = []
            if isinstance(node, ast.Call):
                texts += [k.value for k in node.keywords if k.arg == "reason"]
                name = node.func.attr if isinstance(node.func, ast.Attribute) else None
                name = node.func.id if isinstance(node.func, ast.Name) else name
                if name == "abort_with" and len(node.args) >= 4:
                    texts.append(node.args[3])
            elif isinstance(node, ast.ClassDef):
                texts += [
                    item.value
                    for item in node.body
                    if isinstance(item, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "reason" for t in item.targets)
                ]
            for expr in texts:
                text = _text(expr, constants, imported)
                if text is not None and _REASON(text):
                    found.setdefault(text, []).append(f"{where}:{expr.lineno}")
    return found


def test_every_reason_the_server_gives_is_an_error_reason_value() -> None:
    found = reasons_in_code()
    # The scan sees each way a reason is given: a class default, a keyword,
    # a module constant, abort_with's argument.
    assert {"CHANNEL_NOT_FOUND", "LINK_LOST", "SHUTTING_DOWN", "SUBSCRIBER_TOO_SLOW"} <= set(found)
    declared = set(common_pb2.ErrorReason.keys())
    undeclared = {
        reason: places
        for reason, places in found.items()
        if f"ERROR_REASON_{reason}" not in declared
    }
    assert undeclared == {}


def test_every_error_class_maps_to_a_declared_reason() -> None:
    classes: list[type[errors.GatewayError]] = [
        errors.GatewayError,
        *errors.GatewayError.__subclasses__(),
    ]
    for cls in classes:
        assert f"ERROR_REASON_{cls.reason}" in common_pb2.ErrorReason.keys(), cls  # noqa: SIM118
