"""Log output: JSON lines for machines (the default when stderr is not a
terminal, as in a container), readable text on a terminal; ``log_format``
(``TELGATE_LOG_FORMAT``) forces either.

Every line passes a redactor: the configured secrets (AMI secrets, token
secrets, database passwords) are replaced wherever they appear, and so is
whatever follows ``Bearer``, ``Authorization``, ``Secret:``, ``Key:`` or
``password=``. The gateway never logs a secret on purpose; this is the net
under that rule, for a library's message or an exception's text."""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO
from urllib.parse import urlsplit

from pydantic import SecretStr

from telgate_server.auth.tokens import read_tokens_file
from telgate_server.settings_strict import ConfigError

if TYPE_CHECKING:
    from telgate_server.config import Settings

LogFormat = Literal["auto", "json", "text"]
REDACTED = "[redacted]"
# Secrets shorter than this are not searched for (they would match ordinary
# words); the configuration refuses tokens under 16 characters anyway.
MIN_SECRET = 6

# (prefix)(value) pairs; the value is replaced. Long enough values only, so
# the words around ("the bearer token is not known") stay readable.
_PATTERNS = re.compile(
    r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=-]{8,})"
    r"|(\bauthorization[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)([^\s\"',;}]{8,})"
    r"|(\b(?:secret|password|passwd)[\"']?\s*[:=]\s*[\"']?)([^\s\"',;}?%]{4,})"
    r"|(\bkey:\s*)([0-9a-f]{32})\b"
)


def _redact_match(m: re.Match[str]) -> str:
    value = m.lastindex or 0
    return m.group(value - 1) + REDACTED


# LogRecord attributes that are not a caller's extra fields.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


class Redactor:
    """Replaces known secrets and secret-shaped fields in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Adds secrets to look for (longest first, so none is found half)."""
        known = set(self.secrets)
        known.update(s for s in secrets if len(s) >= MIN_SECRET)
        self.secrets = sorted(known, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _PATTERNS.sub(_redact_match, text)


class _Base(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def _exception(self, record: logging.LogRecord) -> str:
        text = ""
        if record.exc_info:
            text = self.formatException(record.exc_info)
        elif record.exc_text:
            text = record.exc_text
        if record.stack_info:
            text = f"{text}\n{self.formatStack(record.stack_info)}".strip()
        return text


class JsonFormatter(_Base):
    """One JSON object per line: time, level, logger, message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = self.redact(value) if isinstance(value, str) else value
        exc = self._exception(record)
        if exc:
            out["exception"] = self.redact(exc)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(_Base):
    """``time level logger: message`` for people."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        line = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}"
        exc = self._exception(record)
        if exc:
            line = f"{line}\n{exc}"
        return self.redact(line)


def choose(fmt: LogFormat, stream: TextIO) -> Literal["json", "text"]:
    """The format ``auto`` means for this stream: text on a terminal, else JSON."""
    if fmt != "auto":
        return fmt
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def configure(
    level: str,
    fmt: LogFormat = "auto",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> Redactor:
    """Sends every log record to ``stream`` (stderr) in the chosen format,
    redacted; returns the redactor (more secrets can be added to it)."""
    out = stream if stream is not None else sys.stderr
    redact = Redactor(secrets)
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        JsonFormatter(redact) if choose(fmt, out) == "json" else TextFormatter(redact)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return redact


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret the configuration names in clear or by file: AMI secrets,
    CDR backfill passwords, token secrets (inline, files, the tokens file),
    the CDR store's PostgreSQL DSN and password (and a password inside the DSN)."""
    out: list[str | None] = []
    for backend in settings.backends.values():
        # Every kind's secrets: its SecretStr fields and their `<name>_file`s.
        for name, value in backend:
            if isinstance(value, SecretStr):
                out.append(value.get_secret_value())
            elif (
                name.endswith("_file")
                and isinstance(value, Path)
                and name[: -len("_file")] in type(backend).model_fields
            ):
                out.append(_read(value))
        backfill = getattr(backend, "cdr_backfill", None)
        if backfill is not None:
            out.append(backfill.password.get_secret_value() if backfill.password else None)
            if backfill.password_file is not None:
                out.append(_read(backfill.password_file))
    tokens = dict(settings.auth.tokens)
    if settings.auth.tokens_file is not None:
        with contextlib.suppress(ConfigError, OSError):
            tokens.update(read_tokens_file(settings.auth.tokens_file))
    for token in tokens.values():
        out.append(token.secret.get_secret_value() if token.secret else None)
        if token.secret_file is not None:
            out.append(_read(token.secret_file))
    cdr = settings.cdr
    for secret, path in ((cdr.dsn, cdr.dsn_file), (cdr.password, cdr.password_file)):
        out.append(secret.get_secret_value() if secret else None)
        if path is not None:
            out.append(_read(path))
    dsns = [cdr.dsn.get_secret_value() if cdr.dsn else None]
    dsns.append(_read(cdr.dsn_file) if cdr.dsn_file is not None else None)
    for dsn in dsns:
        with contextlib.suppress(ValueError):
            out.append(urlsplit(dsn).password if dsn else None)
    return [s for s in out if s]
