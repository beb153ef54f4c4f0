"""Strict settings: every model refuses unknown keys, every ``TELGATE_*``
variable must name a setting, and validation errors are described without
the values that failed (a value may be a secret)."""

from __future__ import annotations

import tomllib
import types
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

ENV_PREFIX = "TELGATE_"
ENV_DELIMITER = "__"

# TELGATE_* variables that are not settings: the client token the examples
# read, the demo's token, and the test suite's switches.
RESERVED_ENV = frozenset(
    {
        "TELGATE_TOKEN",
        "TELGATE_DEMO_TOKEN",
        "TELGATE_SHARED",
        "TELGATE_SKIP_REAL_ASTERISK",
        "TELGATE_SKIP_MARIADB",
        "TELGATE_SKIP_POSTGRES",
        "TELGATE_SKIP_DOCKER",
        "TELGATE_SKIP_NATS",
        # The simulator's AMI secret (telgate sim), often set in the same shell.
        "TELGATE_SIM_SECRET",
    }
)


class StrictModel(BaseModel):
    """A settings section: an unknown key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ConfigError(ValueError):
    """A configuration the gateway refuses; the message never holds a secret."""


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The BaseModel classes a field's type leads to (through Optional, unions)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _unknown_path(model: type[BaseModel], parts: list[str]) -> str | None:
    """None when ``parts`` (lower-case) name a setting of ``model``; otherwise
    the dotted path up to the first unknown part."""
    fields = {name.lower(): info for name, info in model.model_fields.items()}
    head, rest = parts[0], parts[1:]
    info = fields.get(head)
    if info is None:
        return head
    if not rest:
        return None
    annotation = info.annotation
    if get_origin(annotation) is dict:
        # dict[str, Model]: the next part is a name the user chooses.
        models = _models_in(get_args(annotation)[1])
        if len(rest) == 1:
            return None
        # A tagged union (backends): a setting of any of its models.
        misses = [_unknown_path(sub, rest[1:]) for sub in models]
        if None in misses:
            return None
        return f"{head}.{rest[0]}.{misses[0] if misses else rest[1]}"
    models = _models_in(annotation)
    for sub in models:
        missing = _unknown_path(sub, rest)
        if missing is None:
            return None
        return f"{head}.{missing}"
    return f"{head}.{rest[0]}"


def check_environment(settings: type[BaseModel], environ: Mapping[str, str]) -> None:
    """Raises ConfigError naming every ``TELGATE_*`` variable that is no setting."""
    unknown: list[str] = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in RESERVED_ENV:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split(ENV_DELIMITER)]
        if any(not p for p in parts):
            unknown.append(f"{name} (empty part between `{ENV_DELIMITER}`)")
            continue
        missing = _unknown_path(settings, parts)
        if missing is not None:
            unknown.append(f"{name} (no setting `{missing}`)")
    if unknown:
        raise ConfigError("unknown environment variable: " + "; ".join(unknown))


def describe(exc: ValidationError, prefix: str = "", tags: Collection[str] = ()) -> str:
    """One line per error: where, and what is wrong; never the value given.
    ``tags`` are the tags of tagged unions, which pydantic puts in an error's
    place and a settings file never has (`backends.pbx.ami.port`)."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = [p for i, p in enumerate(error["loc"]) if not (i and p in tags)]
        where = ".".join(str(p) for p in loc) or "(top level)"
        if prefix:
            where = f"{prefix}.{where}" if error["loc"] else prefix
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown key `{where}`")
        else:
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"`{where}`: {message}")
    return "; ".join(lines)


def check_strict(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> list[str]:
    """Names of models reachable from ``model`` that would ignore unknown keys."""
    seen = set() if seen is None else seen
    if model in seen:
        return []
    seen.add(model)
    lax = [] if model.model_config.get("extra") == "forbid" else [model.__name__]
    for info in model.model_fields.values():
        annotation = info.annotation
        candidates = [annotation]
        if get_origin(annotation) in (dict, list):
            candidates = list(get_args(annotation))
        for candidate in candidates:
            for sub in _models_in(candidate):
                lax += check_strict(sub, seen)
    return lax


__all__ = [
    "ENV_PREFIX",
    "RESERVED_ENV",
    "ConfigError",
    "StrictModel",
    "check_environment",
    "check_strict",
    "describe",
]


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file's tables; ConfigError naming ``what`` and the path when it
    cannot be read or parsed (the decoder names a line and column, never the
    text, so a secret in the file is not echoed)."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read {what}{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what}{path} is not valid TOML: {exc}") from None
