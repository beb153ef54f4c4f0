"""AMI action headers built from neutral requests, and AMI error answers turned
into gateway errors with the PBX's own sentence (reference/ami.md §4)."""

from __future__ import annotations

import re

from telgate_server import errors
from telgate_server.backends.ami.codec import Message
from telgate_server.gateway.model import OriginateParams

Headers = list[tuple[str, str]]

# Channel variable names Asterisk accepts, and dialplan function calls like
# CDR(x) or PJSIP_HEADER(add,X-Name) (AMI splits `Variable:` at commas outside
# parentheses only, and at the first '=').
_VAR_NAME = re.compile(r'^[A-Za-z0-9_.\-]+(\([^()$="\\]*\))?$')
_ENDPOINT = re.compile(r"^[A-Za-z0-9_\-]+/\S+$")
# An endpoint given as a bare extension, the form every kind of backend takes.
_EXTENSION = re.compile(r"^[A-Za-z0-9_\-+*#.]{1,80}$")


def dial_string(endpoint: str, technology: str) -> str:
    """The endpoint as Asterisk dials it: a bare extension (``201``) on the
    backend's ``technology`` (``PJSIP/201``); a dial string as it is."""
    return f"{technology}/{endpoint}" if _EXTENSION.match(endpoint) else endpoint


def originate_headers(
    p: OriginateParams, place: tuple[str, str, int] | None, unique_id: str, other_unique_id: str
) -> Headers:
    """Headers of an Async Originate whose channels get our unique ids; ``place``
    is the destination as (context, extension, priority) (AmiBackend.place).

    Always Async: a synchronous Originate holds back every event on the
    session until the far end answers (fixture 11)."""
    if not p.endpoint:
        raise errors.InvalidArgument("endpoint is required, e.g. `PJSIP/201`")
    if not _ENDPOINT.match(p.endpoint):
        raise errors.InvalidArgument(
            f"endpoint {errors.quote(p.endpoint)} is neither an extension (`201`) nor a dial "
            "string of the form `TECH/resource`"
        )
    headers: Headers = [("Channel", p.endpoint)]
    if p.application:
        headers += [("Application", p.application), ("Data", p.application_data)]
    elif place is not None:
        context, exten, priority = place
        headers += [("Context", context), ("Exten", exten), ("Priority", str(priority or 1))]
    else:
        raise errors.InvalidArgument("a destination is required: an extension or an application")
    if p.timeout is not None:
        if p.timeout <= 0:
            raise errors.InvalidArgument("timeout must be positive")
        headers.append(("Timeout", str(round(p.timeout * 1000))))
    if p.caller_num or p.caller_name:
        for part in (p.caller_num, p.caller_name):
            if any(c in part for c in '"<>'):
                raise errors.InvalidArgument(
                    f"caller id {errors.quote(part)} may not contain '\"', '<' or '>'"
                )
        headers.append(
            ("CallerID", f'"{p.caller_name}" <{p.caller_num}>' if p.caller_name else p.caller_num)
        )
    for key, value in p.variables:
        if not _VAR_NAME.match(key):
            raise errors.InvalidArgument(
                f"variable name {errors.quote(key)} is not a valid channel variable"
            )
        if "," in value:
            # Asterisk splits each Variable header on commas (astman_get_variables).
            raise errors.InvalidArgument(
                f"the value of variable {errors.quote(key)} contains ',', which AMI would "
                "split into "
                "two variables"
            )
        headers.append(("Variable", f"{key}={value}"))
    if p.account_code:
        headers.append(("Account", p.account_code))
    headers += [("Async", "true"), ("ChannelId", unique_id), ("OtherChannelId", other_unique_id)]
    return headers


def check_channel_name(name: str) -> str:
    """A channel name safe to pass to actions: Hangup treats `/.../` as a regex
    that could end every call, so such names are refused."""
    if not name:
        raise errors.InvalidArgument("a channel name or unique id is required")
    if name.startswith("/"):
        raise errors.InvalidArgument(
            f"channel {errors.quote(name)} starts with '/', which the PBX would read as a pattern"
        )
    return name


# The most of the PBX's sentence an error shows: Asterisk repeats inputs in some
# ("Channel does not exist: <name>"), and errors quote inputs short.
PBX_TEXT_CHARS = 64


def pbx_text(full: str) -> str:
    """The PBX's message as an error shows it: cut to PBX_TEXT_CHARS (with its length)."""
    if len(full) <= PBX_TEXT_CHARS:
        return full
    return f"{full[:PBX_TEXT_CHARS]}… ({len(full)} characters)"


def raise_for(response: Message, *, backend: str, action: str, subject: str = "") -> None:
    """Raises the gateway error for an AMI `Response: Error`; returns if it succeeded."""
    if response.name in ("Success", "Goodbye", "Follows"):
        return
    full = response.get("Message") or "(no message)"
    low = full.lower()
    text = pbx_text(full)
    meta = {"backend": backend, "pbx_message": text, "action": action}
    about = f" {subject}" if subject else ""
    # Hangup/Status say `No such channel`, PlayDTMF `Channel not found`,
    # Redirect `Channel does not exist: <name>` (manager.c, app_senddtmf.c).
    if low in ("no such channel", "channel not found") or low.startswith("channel does not exist"):
        raise errors.NotFound(
            f"backend {backend!r} has no channel{about} (the PBX says: {text})", metadata=meta
        )
    if low == "permission denied":
        raise errors.PermissionDenied(
            f"the AMI account of backend {backend!r} may not run {action} (the PBX says: {text})",
            metadata=meta,
        )
    if low.startswith("extension does not exist"):
        raise errors.NotFound(
            f"{action}{about}: the destination is not in the PBX dialplan (the PBX says: {text})",
            reason="PBX_REJECTED",
            metadata=meta,
        )
    malformed = ("not specified", "requires", "missing", "invalid", "could not convert")
    if any(w in low for w in malformed) or (
        low.startswith("no ") and low.endswith((" specified", " provided"))
    ):
        raise errors.InvalidArgument(
            f"{action}{about} was refused by the PBX as malformed: {text}", metadata=meta
        )
    raise errors.PbxError(f"{action}{about} failed on backend {backend!r}: {text}", metadata=meta)
