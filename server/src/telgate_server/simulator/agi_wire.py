"""FastAGI text as Asterisk 22 handles it: command words, AGI() arguments, the URL, the
environment block and the answer lines (reference/agi.md sections 2, 3 and 5).

Pure functions, no I/O: :mod:`.agi` does the socket work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_ARGS = 128  # res_agi.c MAX_ARGS: words after the 127th are dropped
DEFAULT_PORT = 4573

NOT_PERMITTED = "511 Command Not Permitted on a dead channel or intercept routine"
UNKNOWN_COMMAND = "510 Invalid or unknown command"


def parse_args(line: str) -> list[str]:
    """A command line split as res_agi.c parse_args() does: spaces and tabs separate
    words outside quotes, ``"`` groups (and may sit inside a word), ``\\`` makes the
    next character literal; ``""`` is an empty word. A ``\\r`` stays in its word."""
    words: list[str] = []
    cur: list[str] | None = None
    quoted = escaped = False
    whitespace = True

    def start() -> None:
        nonlocal cur
        if cur is not None:
            words.append("".join(cur))
        cur = []

    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                if len(words) + (cur is not None) >= MAX_ARGS - 1:
                    continue
                start()
                whitespace = False
            escaped = False
            continue
        if ch in " \t" and not quoted and not escaped:
            whitespace = True
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            if len(words) + (cur is not None) >= MAX_ARGS - 1:
                escaped = False
                continue
            start()
            whitespace = False
        assert cur is not None
        cur.append(ch)
        escaped = False
    if cur is not None:
        words.append("".join(cur))
    return words


def split_app_args(data: str) -> list[str]:
    """Dialplan application arguments as ast_app_separate_args() splits them: commas
    outside quotes and parentheses separate, quotes are removed, ``\\`` escapes."""
    args: list[str] = []
    cur: list[str] = []
    quoted = False
    depth = 0
    escaped = False
    for ch in data:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "(" and not quoted:
            depth += 1
            cur.append(ch)
        elif ch == ")" and not quoted and depth:
            depth -= 1
            cur.append(ch)
        elif ch == "," and not quoted and not depth:
            args.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    args.append("".join(cur))
    return args


@dataclass(frozen=True)
class AgiUrl:
    """An ``agi://host[:port][/script]`` URL as launch_netscript() reads it."""

    request: str
    host: str
    port: int
    script: str | None  # everything after "host:port/", as is; None without a path


def parse_url(url: str) -> AgiUrl | None:
    """The parts of a FastAGI URL, or None if it is not ``agi://``."""
    if not url.lower().startswith("agi://"):
        return None
    rest = url[len("agi://") :]
    host, slash, script = rest.partition("/")
    port = DEFAULT_PORT
    if ":" in host:
        host, _, port_text = host.partition(":")
        digits = ""
        for ch in port_text:  # atoi(): the leading digits
            if not ch.isdigit():
                break
            digits += ch
        port = int(digits) if digits else 0
    return AgiUrl(url, host, port, script if slash and script else None)


@dataclass(frozen=True)
class AgiEnv:
    """What the environment block says about the channel."""

    channel: str
    language: str
    tech: str
    uniqueid: str
    version: str
    callerid: str
    calleridname: str
    context: str
    extension: str
    priority: int
    accountcode: str
    threadid: str


def env_block(url: AgiUrl, env: AgiEnv, args: list[str]) -> list[bytes]:
    """The environment block, one ``write()`` per line as Asterisk sends it (LF only,
    an empty line at the end)."""
    lines = ["agi_network: yes"]
    if url.script is not None:
        lines.append(f"agi_network_script: {url.script}")
    lines += [
        f"agi_request: {url.request}",
        f"agi_channel: {env.channel}",
        f"agi_language: {env.language}",
        f"agi_type: {env.tech}",
        f"agi_uniqueid: {env.uniqueid}",
        f"agi_version: {env.version}",
        f"agi_callerid: {env.callerid}",
        f"agi_calleridname: {env.calleridname}",
        "agi_callingpres: 0",
        "agi_callingani2: 0",
        "agi_callington: 0",
        "agi_callingtns: 0",
        "agi_dnid: unknown",
        "agi_rdnis: unknown",
        f"agi_context: {env.context}",
        f"agi_extension: {env.extension}",
        f"agi_priority: {env.priority}",
        "agi_enhanced: 0.0",
        f"agi_accountcode: {env.accountcode}",
        f"agi_threadid: {env.threadid}",
    ]
    lines += [f"agi_arg_{n}: {arg}" for n, arg in enumerate(args, start=1)]
    return [f"{line}\n".encode("latin-1", "replace") for line in lines] + [b"\n"]


def usage_answer(usage: str | None) -> str:
    """The 520 answer for a command used with the wrong arguments."""
    if usage is None:
        return "520 Invalid command syntax.  Proper usage not available."
    return f"520-Invalid command syntax.  Proper usage follows:\n{usage}\n520 End of proper usage."


def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """``${NAME}`` substitution as pbx_substitute_variables does it (nested
    ``${...}`` inside a name are expanded first); an unset name gives ``""``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                if text.startswith("${", j):
                    depth += 1
                    j += 2
                    continue
                if text[j] == "}":
                    depth -= 1
                j += 1
            if depth:  # no closing brace: Asterisk keeps the text as is
                out.append(text[i:])
                break
            name = expand(text[i + 2 : j - 1], lookup)
            out.append(lookup(name) or "")
            i = j
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


_C_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "?": "\\?",
}


def escape_c(text: str) -> str:
    """main/utils.c ast_escape_c(): how a VarSet event shows a value (``"`` as ``\\"``,
    ``\\`` doubled, control characters as C escapes)."""
    return "".join(_C_ESCAPES.get(ch, ch) for ch in text)


def ami_safe(text: str) -> str:
    """``text`` without CR/LF, for an AMI header (Asterisk writes a trailing ``\\r``
    raw; telgate's AMI codec refuses a value that could break the framing)."""
    return text.replace("\r", "").replace("\n", "")


__all__ = [
    "DEFAULT_PORT",
    "NOT_PERMITTED",
    "UNKNOWN_COMMAND",
    "AgiEnv",
    "AgiUrl",
    "ami_safe",
    "env_block",
    "escape_c",
    "expand",
    "parse_args",
    "parse_url",
    "split_app_args",
    "usage_answer",
]
