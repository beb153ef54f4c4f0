"""`telgate token`: a new bearer token and the lines that configure it.

The configuration keeps only the token's SHA-256 (``sha256 = "..."``, see
auth/tokens.py), so the file holds nothing worth stealing; the token itself
is shown once, or written to a file only its owner can read."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
from pathlib import Path

from telgate_server.auth.roles import Role
from telgate_server.auth.settings import MIN_TOKEN_LENGTH
from telgate_server.auth.tokens import MAX_TOKEN_LENGTH, digest
from telgate_server.commands.terminal import Styled

# A TOML bare key, so `[auth.tokens.NAME]` needs no quoting (and a
# TELGATE_AUTH__TOKENS__NAME__... variable can name it).
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_BYTES = 32


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `token` to the `telgate` subcommands."""
    roles = ", ".join(r.value for r in Role)
    p = sub.add_parser(
        "token",
        help="make a bearer token and its hash for the configuration",
        description=(
            "Makes a random bearer token and prints it with the [auth.tokens.NAME] table "
            "for the settings file. The table holds only the token's SHA-256, so the "
            "settings file is useless to whoever reads it; the token is shown once."
        ),
    )
    p.add_argument(
        "name", help="the token's name in the configuration and in logs (A-Z a-z 0-9 _ -)"
    )
    p.add_argument(
        "--role",
        dest="roles",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        metavar="ROLE",
        help=f"a role the token grants; repeat for several ({roles})",
    )
    p.add_argument(
        "--bytes",
        type=int,
        default=DEFAULT_BYTES,
        help=f"random bytes in the token (default {DEFAULT_BYTES}; at least 12)",
    )
    p.add_argument(
        "--stdin",
        action="store_true",
        help="hash a token read from standard input instead of making one (rotating an "
        "existing token to the sha256 form); it is not printed",
    )
    p.add_argument(
        "--token-file",
        type=Path,
        help="write the token to this new file (mode 0600, e.g. a container secret) "
        "instead of printing it",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object {"name", "roles", "sha256"[, "token"]} instead',
    )


def _token(args: argparse.Namespace) -> str:
    if args.stdin:
        token = sys.stdin.readline().strip()
        if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH:
            raise ValueError(
                f"the token on standard input needs {MIN_TOKEN_LENGTH} to "
                f"{MAX_TOKEN_LENGTH} characters (got {len(token)})"
            )
        return token
    if args.bytes < 12:
        raise ValueError("--bytes must be at least 12 (96 random bits)")
    return secrets.token_urlsafe(args.bytes)


def config_table(name: str, roles: list[str], sha256: str) -> str:
    """The settings-file table for a token known only by its hash."""
    listed = ", ".join(json.dumps(r) for r in roles)
    return f'[auth.tokens.{name}]\nroles = [{listed}]\nsha256 = "{sha256}"'


def _write_secret(path: Path, token: str) -> None:
    # O_EXCL: never overwrite (an existing file may be another token in use).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")


def run(args: argparse.Namespace) -> int:
    """Makes (or reads) the token and prints what configures it."""
    out = Styled(sys.stdout)
    if not _NAME.fullmatch(args.name):
        print(
            f"telgate token: the name {args.name[:20]!r} may hold only letters, digits, "
            "`_` and `-` (at most 64)",
            file=sys.stderr,
        )
        return 2
    try:
        token = _token(args)
    except ValueError as exc:
        print(f"telgate token: {exc}", file=sys.stderr)
        return 2
    roles = list(dict.fromkeys(args.roles))
    sha256 = digest(token).hex()
    show = not args.stdin and args.token_file is None
    if args.token_file is not None:
        try:
            _write_secret(args.token_file, token)
        except OSError as exc:
            print(f"telgate token: cannot write {args.token_file}: {exc.strerror}", file=sys.stderr)
            return 1
    if args.json:
        record: dict[str, object] = {"name": args.name, "roles": roles, "sha256": sha256}
        if show:
            record["token"] = token
        out.line(json.dumps(record))
        return 0
    if show:
        out.line(out.dim("# the token: give it to the client; it is not shown again"))
        out.line(out.good(token))
        out.line()
    elif args.token_file is not None:
        out.line(out.dim(f"# the token is in {args.token_file}"))
    out.line(out.dim("# for the settings file (only the hash; no secret in it):"))
    out.line(config_table(args.name, roles, sha256))
    return 0
