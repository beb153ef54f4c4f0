"""The one check of every request before anything acts on it.

:func:`check_request` walks any request message by its descriptor, so a
field added to a ``.proto`` file is covered the day it lands:

- every string (repeated and map entries too) must fit the limit its field
  has in :data:`LIMITS`, and hold no control character (C0, DEL, C1 such as
  U+0085, and the Unicode line / paragraph separators U+2028 / U+2029): AMI
  is a line protocol, and Asterisk also ends a line at a bare LF;
- every enum value must be one the ``.proto`` declares;
- every repeated field or map holds at most :data:`MAX_ITEMS` entries.

The limits come from what Asterisk 22 itself accepts (the numbers and their
reasons are in :data:`LIMITS`, and in the README): a longer value would be
cut short silently by the PBX, or make it drop the whole action (a header
line over 1024 bytes, manager.c ``inbuf[1025]``), or make its replies and
events too large for the gateway's own frame cap. The servicers add the
checks that depend on more than one field (Originate's allow-list,
:func:`check_originate`), all before the first byte goes to the PBX.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from telgate.v1 import events_pb2

from telgate_server import errors
from telgate_server.config import OriginateConfig
from telgate_server.errors import quote

__all__ = [
    "LIMITS",
    "MAX_ITEMS",
    "Limit",
    "check_no_expressions",
    "check_originate",
    "check_request",
    "check_subscribe",
    "check_text",
    "quote",
    "separate_args",
]

# Entries of one repeated field or map.
MAX_ITEMS = 1000


@dataclass(frozen=True, slots=True)
class Limit:
    """The most characters a field takes, and why."""

    chars: int
    reason: str


_EXTEN = "AST_MAX_EXTENSION (include/asterisk/channel.h)"
_CONTEXT = "AST_MAX_CONTEXT (include/asterisk/channel.h)"
_DIAL = "Originate copies Channel into a 256-byte buffer and cuts the rest (manager.c)"
_CHAN = (
    "Asterisk names channels within 255 bytes (Local/<exten 80>@<context 80>-xxxxxxxx;n "
    "is the longest usual form; Originate's Channel buffer is 256 bytes)"
)
_UID = "AST_MAX_UNIQUEID: AST_MAX_PUBLIC_UNIQUEID 149 plus ';2' (channel.h)"
_CID = (
    "a CDR keeps caller ids in AST_MAX_EXTENSION (80) bytes (cdr.h), and Originate's "
    'CallerID buffer holds 255 bytes for `"name" <number>`'
)
_ID = "an identifier the gateway made or a client chose; far longer than any of them"
_NUMBER = "a number dialled out becomes an Asterisk extension (AST_MAX_EXTENSION, channel.h)"
_ROUTE = "a route name from the backend's configuration"
_BACKEND = "a backend name from the gateway's configuration"
_QUEUE = "a queue is a queues.conf section; config categories hold 80 bytes (config.c)"
_MEMBER = "app_queue keeps member interfaces in AST_CHANNEL_NAME (80) bytes"
_MEMBER_TEXT = "app_queue keeps member names and pause reasons in 80 bytes"
_TOKEN = "page tokens this gateway returns are at most 258 characters (api/paging.py)"
_SOUND = (
    "a sound file name relative to the sounds directory; Asterisk takes paths up to "
    "PATH_MAX, the gateway keeps them to one short `Data:` line"
)
_FILTER = "a filter value is compared with names and ids of at most 255 characters"

#: The most characters of each request string field, by ``Message.field``
#: (``*`` for every message). tests/api/test_validation.py fails when a
#: request string field has no entry.
LIMITS: dict[str, Limit] = {
    "*.backend": Limit(64, _BACKEND),
    "*.request_id": Limit(128, _ID),
    "*.page_token": Limit(258, _TOKEN),
    "*.session_id": Limit(64, _ID),
    "*.playback_id": Limit(64, _ID),
    "ChannelRef.unique_id": Limit(151, _UID),
    "ChannelRef.name": Limit(255, _CHAN),
    "CallerId.number": Limit(80, _CID),
    "CallerId.name": Limit(80, _CID),
    "ExtensionDestination.context": Limit(80, _CONTEXT),
    "ExtensionDestination.extension": Limit(80, _EXTEN),
    "NumberDestination.number": Limit(80, _NUMBER),
    "NumberDestination.route": Limit(64, _ROUTE),
    "OriginateRequest.endpoint": Limit(255, _DIAL),
    "OriginateRequest.account_code": Limit(80, "AST_MAX_ACCOUNT_CODE (channel.h)"),
    "ApplicationTarget.name": Limit(32, "AST_MAX_APP (include/asterisk/pbx.h)"),
    "ApplicationTarget.data": Limit(
        1000, "`Data: <data>` must fit AMI's 1024-byte line (manager.c inbuf[1025])"
    ),
    "VariablesEntry.key": Limit(
        80, "a channel variable or function name; `Variable: NAME=value` must fit 1024 bytes"
    ),
    "VariablesEntry.value": Limit(
        900, "`Variable: NAME=value` must fit AMI's 1024-byte line (manager.c inbuf[1025])"
    ),
    "SendDtmfRequest.digits": Limit(
        80, "one PlayDTMF action per digit; no dialplan extension is longer (AST_MAX_EXTENSION)"
    ),
    "StartListenRequest.target_extension": Limit(80, _EXTEN),
    "StartListenRequest.listener_endpoint": Limit(255, _DIAL),
    "StartPlaybackRequest.endpoint": Limit(255, _DIAL),
    "StartPlaybackRequest.recording": Limit(255, _SOUND),
    "GetQueueRequest.queue": Limit(80, _QUEUE),
    "AddMemberRequest.queue": Limit(80, _QUEUE),
    "RemoveMemberRequest.queue": Limit(80, _QUEUE),
    "PauseMemberRequest.queue": Limit(80, _QUEUE),
    "AddMemberRequest.interface": Limit(80, _MEMBER),
    "RemoveMemberRequest.interface": Limit(80, _MEMBER),
    "PauseMemberRequest.interface": Limit(80, _MEMBER),
    "AddMemberRequest.state_interface": Limit(80, _MEMBER),
    "AddMemberRequest.member_name": Limit(80, _MEMBER_TEXT),
    "PauseMemberRequest.reason": Limit(80, _MEMBER_TEXT),
    "EventPosition.epoch": Limit(
        64, "epochs this gateway makes are at most about 40 characters (a JetStream stream name)"
    ),
    "EventFilter.backends": Limit(64, _BACKEND),
    "EventFilter.raw_names": Limit(64, "PBX event names are under 40 characters"),
    "EventFilter.channels": Limit(256, _FILTER),
    "EventFilter.unique_ids": Limit(151, _UID),
    "EventFilter.linked_ids": Limit(151, _UID),
    "EventFilter.extensions": Limit(80, _EXTEN),
    "CdrFilter.backends": Limit(64, _BACKEND),
    "CdrFilter.caller": Limit(80, _CID),
    "CdrFilter.callee": Limit(80, _EXTEN),
    # CallRoutingService: what a router names and decides.
    "RouterRegistration.routes": Limit(255, "AGI script paths and Simotel app names"),
    "RouterRegistration.backends": Limit(64, _BACKEND),
    "RoutingDecision.query_id": Limit(64, _ID),
    "ExitCase.case": Limit(80, "a Simotel component output case"),
    "Fail.reason": Limit(255, "a sentence for the log"),
    "RouteToExtension.extension": Limit(80, _EXTEN),
    "RouteToTrunk.trunk": Limit(80, _EXTEN),
    "RouteToTrunk.number": Limit(80, _EXTEN),
    "RunSteps.exit": Limit(80, "a Simotel component output case"),
    "PlayAnnouncement.name": Limit(255, _SOUND),
    "PlaySound.file": Limit(255, _SOUND),
    "SayDigits.digits": Limit(80, _EXTEN),
    "GetData.prompts": Limit(255, _SOUND),
    "MusicOnHold.music_class": Limit(80, "MAX_MUSICCLASS (channel.h)"),
    "SetExtension.extension": Limit(80, _EXTEN),
    "Dial.endpoint": Limit(255, _DIAL),
    "SetVariable.name": Limit(80, "a channel variable name"),
    "SetVariable.value": Limit(900, "a channel variable value (one AGI line of 8192 bytes)"),
    "GoTo.context": Limit(80, _CONTEXT),
    "GoTo.extension": Limit(80, _EXTEN),
}

# Every control character (Unicode category Cc: C0 such as NUL and ESC, DEL,
# C1 such as U+0085 NEL) and the line / paragraph separators (Zl, Zp) that
# some parsers end a line at.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def limit_of(descriptor: Descriptor | None, field: str) -> Limit | None:
    """The limit of a string field of a message (None: the table has none)."""
    owner = descriptor.name if descriptor is not None else ""
    return LIMITS.get(f"{owner}.{field}") or LIMITS.get(f"*.{field}")


def _invalid(field: str, message: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(message, metadata={"field": field})


def check_text(value: str, field: str, limit: Limit) -> None:
    """INVALID_ARGUMENT unless ``value`` fits ``limit`` and holds no control character."""
    if len(value) > limit.chars:
        raise _invalid(
            field,
            f"{field} is {len(value)} characters long; the limit is {limit.chars} ({limit.reason})",
        )
    bad = _CONTROL.search(value)
    if bad is not None:
        char = bad.group()
        raise _invalid(
            field,
            f"{field} holds the control character U+{ord(char):04X} at position "
            f"{bad.start()}; line breaks and other control characters cannot reach the PBX",
        )


def _check_enum(field: str, fd: FieldDescriptor, value: int) -> None:
    enum = fd.enum_type
    assert enum is not None
    if value not in enum.values_by_number:
        if len(enum.values) <= _LISTED_VALUES:
            names = ", ".join(v.name for v in enum.values)
            raise _invalid(field, f"{field} is {value}, not a {enum.name} value ({names})")
        raise _invalid(
            field,
            f"{field} is {value}, not a {enum.name} value (this gateway knows "
            f"{min(enum.values_by_number)} to {max(enum.values_by_number)})",
        )


# Enums with more values than this are not listed in full in an error.
_LISTED_VALUES = 12


def _check_scalar(field: str, fd: FieldDescriptor, value: object) -> None:
    if fd.type == FieldDescriptor.TYPE_STRING:
        assert isinstance(value, str)
        limit = limit_of(fd.containing_type, fd.name)
        if limit is None:  # a field added without a limit: the tightest usual one
            limit = Limit(255, "no limit is listed for this field; 255 applies")
        check_text(value, field, limit)
    elif fd.type == FieldDescriptor.TYPE_ENUM:
        assert isinstance(value, int)
        _check_enum(field, fd, value)


# The ranges google/protobuf/duration.proto and timestamp.proto define: a value
# outside them is not a Duration or a Timestamp (and Python's conversions of a
# Timestamp raise on it).
MAX_DURATION_SECONDS = 315_576_000_000
MIN_TIMESTAMP_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_TIMESTAMP_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
_NANOS = 999_999_999


def _check_well_known(message: Message, field: str) -> None:
    name = message.DESCRIPTOR.full_name
    seconds: int = getattr(message, "seconds", 0)
    nanos: int = getattr(message, "nanos", 0)
    if name == "google.protobuf.Duration":
        if (
            abs(seconds) > MAX_DURATION_SECONDS
            or abs(nanos) > _NANOS
            or (seconds > 0 > nanos)
            or (seconds < 0 < nanos)
        ):
            raise _invalid(
                field,
                f"{field} (seconds {seconds}, nanos {nanos}) is not a valid Duration: seconds "
                f"within ±{MAX_DURATION_SECONDS}, nanos within ±{_NANOS} with the sign of seconds",
            )
    elif name == "google.protobuf.Timestamp" and not (
        MIN_TIMESTAMP_SECONDS <= seconds <= MAX_TIMESTAMP_SECONDS and 0 <= nanos <= _NANOS
    ):
        raise _invalid(
            field,
            f"{field} (seconds {seconds}, nanos {nanos}) is not a valid Timestamp: years 1 "
            f"to 9999 (seconds {MIN_TIMESTAMP_SECONDS} to {MAX_TIMESTAMP_SECONDS}), nanos 0 "
            f"to {_NANOS}",
        )


def check_request(message: Message, prefix: str = "") -> None:
    """Every string, enum and list of ``message`` (recursively) within its
    bounds, and every Duration and Timestamp in its range; INVALID_ARGUMENT
    naming the first field that is not."""
    for fd, value in message.ListFields():
        field = f"{prefix}{fd.name}"
        message_type = fd.message_type
        if message_type is not None and message_type.GetOptions().map_entry:
            _check_count(field, len(value))
            key_fd = message_type.fields_by_name["key"]
            value_fd = message_type.fields_by_name["value"]
            for key, item in value.items():
                _check_scalar(f"{field} (a name)", key_fd, key)
                if value_fd.message_type is not None:
                    check_request(item, f"{field}[{quote(str(key))}].")
                else:
                    _check_scalar(f"{field}[{quote(str(key))}]", value_fd, item)
        elif fd.is_repeated:
            _check_count(field, len(value))
            for i, item in enumerate(value):
                if message_type is not None:
                    _check_well_known(item, f"{field}[{i}]")
                    check_request(item, f"{field}[{i}].")
                else:
                    _check_scalar(f"{field}[{i}]", fd, item)
        elif message_type is not None:
            _check_well_known(value, field)
            check_request(value, f"{field}.")
        else:
            _check_scalar(field, fd, value)


def _check_count(field: str, count: int) -> None:
    if count > MAX_ITEMS:
        raise _invalid(field, f"{field} has {count} entries; the limit is {MAX_ITEMS}")


# ---------------------------------------------------------------- Subscribe

#: EventType value -> the typed kind it names (the ``Event.payload`` field
#: name, which is also the hub's kind): ``EVENT_TYPE_CHANNEL_HUNG_UP`` ->
#: ``channel_hung_up``. tests/events check it covers the oneof exactly.
EVENT_KINDS: dict[int, str] = {
    v.number: v.name.removeprefix("EVENT_TYPE_").lower()
    for v in events_pb2.EventType.DESCRIPTOR.values
    if v.number != events_pb2.EVENT_TYPE_UNSPECIFIED
}
# A PBX event name: AMI's (`VarSet`), Simotel's (`IncomingCall`), the gateway's own
# (`telgate.LinkStateChanged`).
_RAW_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")


def check_subscribe(request: events_pb2.SubscribeRequest) -> None:
    """What check_request cannot see in a SubscribeRequest: an UNSPECIFIED
    event type, a raw name that is not one, a position with no epoch
    (INVALID_ARGUMENT naming the field)."""
    f = request.filter
    for i, t in enumerate(f.types):
        if t == events_pb2.EVENT_TYPE_UNSPECIFIED:
            raise _invalid(
                f"filter.types[{i}]",
                f"filter.types[{i}] is EVENT_TYPE_UNSPECIFIED, which names no kind of event",
            )
    for i, name in enumerate(f.raw_names):
        if not _RAW_NAME.match(name):
            raise _invalid(
                f"filter.raw_names[{i}]",
                f"filter.raw_names[{i}] {quote(name)} is not a PBX event name (a letter, then "
                "letters, digits, '_', '-', '.' or ':')",
            )
    if request.start == events_pb2.START_POSITION_AFTER and not request.after.epoch:
        raise _invalid(
            "after",
            "START_POSITION_AFTER needs `after`: a position received earlier (an event's, a "
            "heartbeat's or SubscriptionStarted's), sent back as is",
        )


# ---------------------------------------------------------------- Originate

_APP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# A plain channel variable, optionally inherited (`_NAME`, `__NAME`).
_PLAIN_VARIABLE = re.compile(r"^_{0,2}[A-Za-z][A-Za-z0-9_]*$")
# A dialplan function written to: `NAME(arguments)`.
# Its arguments hold no '$' (no expression), no '=' (AMI splits `Variable:` at
# the first one), no quotes or backslashes (AMI strips them) and no nesting.
_FUNCTION_VARIABLE = re.compile(r'^([A-Za-z][A-Za-z0-9_]*)\(([^()$="\\]*)\)$')
# Dialplan expressions: `${...}` (variables and functions) and `$[...]`.
_EXPRESSION = re.compile(r"\$[{\[]")
# Asterisk's AMI argument parser (AST_STANDARD_APP_ARGS in manager.c) splits
# `Variable:` at commas and removes quotes and backslashes.
_VALUE_MANGLED = re.compile(r'[,"\\]')


def separate_args(data: str) -> list[str]:
    """``data`` split into arguments the way Asterisk splits an application's
    (``__ast_app_separate_args`` in main/app.c, as AST_STANDARD_APP_ARGS calls
    it): at commas outside parentheses, brackets and double quotes; quotes are
    removed and a backslash makes the next character literal."""
    args: list[str] = []
    current: list[str] = []
    paren = bracket = 0
    quoted = False
    chars = iter(data)
    for char in chars:
        if char == "(":
            paren += 1
        elif char == ")":
            paren = max(paren - 1, 0)
        elif char == "[":
            bracket += 1
        elif char == "]":
            bracket = max(bracket - 1, 0)
        elif char == '"':
            quoted = not quoted
            continue
        elif char == "\\":  # the next character, taken as it is
            current.append(next(chars, ""))
            continue
        elif char == "," and not (paren or bracket or quoted):
            args.append("".join(current))
            current = []
            continue
        current.append(char)
    args.append("".join(current))
    return args


# A file path in an argument (`Playback(/var/spool/...)`, `Dial(...,A(/etc/...))`,
# `ControlPlayback(../../x)`): Asterisk plays any file it can read, so the
# sound files an application names stay relative to the sounds directory.
_ABSOLUTE_PATH = re.compile(r"(?:^|[(&^|])/")
# Playback and the other file players fetch these (res_http_media_cache).
_MEDIA_URL = re.compile(r"https?://", re.IGNORECASE)
_PARENT_DIR = re.compile(r"(?:^|[(&^|/])\.\.(?:$|[/)&^|])")


def check_originate(
    *,
    application: str,
    data: str,
    variables: Iterable[tuple[str, str]],
    config: OriginateConfig,
    texts: Iterable[tuple[str, str]] = (),
) -> None:
    """Originate's application, its data and the variables against the
    allow-list and the variable rule (see README "Originate: what may run");
    PERMISSION_DENIED naming the setting that would allow what was refused.
    ``texts`` are the request's other strings that reach the PBX (endpoint,
    caller id, account code...) as (field, value): no dialplan expression."""
    allowed_apps = {a.lower() for a in config.allowed_applications}
    if application:
        if not _APP_NAME.fullmatch(application):
            raise _invalid(
                "application.name",
                f"application.name {quote(application)} is not an application name "
                "(letters, digits and '_')",
            )
        if application.lower() not in allowed_apps:
            raise errors.PermissionDenied(
                f"Originate into application {quote(application)} is not allowed; "
                "the gateway setting originate.allowed_applications lists the "
                "applications it may run",
                reason="ORIGINATE_NOT_ALLOWED",
                metadata={"field": "application.name", "setting": "originate.allowed_applications"},
            )
        args = separate_args(data)
        if application.lower() == "queue" and "agi" not in allowed_apps:
            _check_queue_args(args)
        for arg in args:
            if _ABSOLUTE_PATH.search(arg) or _PARENT_DIR.search(arg):
                raise _invalid(
                    "application.data",
                    f"application.data argument {quote(arg)} names a file outside the sounds "
                    "directory (an absolute path or '..'); sound files are relative to it",
                )
            if _MEDIA_URL.search(arg):
                # The PBX would request any address it can reach.
                raise _invalid(
                    "application.data",
                    f"application.data argument {quote(arg)} is an http(s) URL, which the PBX "
                    "would fetch; sound files are names relative to the sounds directory",
                )
        if not config.allow_expressions and (
            _EXPRESSION.search(data) or any(_EXPRESSION.search(a) for a in args)
        ):
            raise _expression_denied("application.data")
    check_no_expressions(texts, config)
    allowed_functions = {f.upper() for f in config.allowed_variable_functions}
    denied_variables = {v.lstrip("_").upper() for v in config.denied_variables}
    for name, value in variables:
        field = f"variables[{quote(name)}]"
        function = _FUNCTION_VARIABLE.fullmatch(name)
        if function is not None:
            if function.group(1).upper() not in allowed_functions:
                raise errors.PermissionDenied(
                    f"variables: setting {quote(name)} writes to the dialplan function "
                    f"{function.group(1)}, which is not allowed; the gateway setting "
                    "originate.allowed_variable_functions lists the functions a variable "
                    "may name",
                    reason="ORIGINATE_NOT_ALLOWED",
                    metadata={
                        "field": "variables",
                        "setting": "originate.allowed_variable_functions",
                    },
                )
        elif not _PLAIN_VARIABLE.fullmatch(name):
            raise _invalid(
                "variables",
                f"variable name {quote(name)} is neither a channel variable (letters, "
                "digits, '_'; '_' or '__' first to inherit) nor FUNCTION(arguments)",
            )
        elif name.lstrip("_").upper() in denied_variables:
            raise errors.PermissionDenied(
                f"variables: {quote(name)} is a channel variable the PBX runs as a command or "
                "uses as a path (the gateway setting originate.denied_variables lists them)",
                reason="ORIGINATE_NOT_ALLOWED",
                metadata={"field": "variables", "setting": "originate.denied_variables"},
            )
        if _VALUE_MANGLED.search(value):
            raise _invalid(
                field,
                f"{field} holds ',', '\"' or '\\', which Asterisk's AMI would split or "
                "strip (manager.c reads `Variable:` as a comma-separated argument list)",
            )
        if not config.allow_expressions and _EXPRESSION.search(value):
            raise _expression_denied(field)


def check_no_expressions(texts: Iterable[tuple[str, str]], config: OriginateConfig) -> None:
    """PERMISSION_DENIED for a dialplan expression in any of ``texts`` ((field,
    value) pairs a call places on the PBX: endpoint, caller id, account code,
    dialplan location) unless ``originate.allow_expressions`` is set. Asterisk
    does not expand them there, but a dialplan that copies such a value
    through EVAL() or into an application's arguments would."""
    if config.allow_expressions:
        return
    for field, text in texts:
        if _EXPRESSION.search(text):
            raise _expression_denied(field)


def _check_queue_args(args: list[str]) -> None:
    # Queue(queuename,options,URL,announceoverride,timeout,AGI,...): the sixth
    # argument runs an AGI script (manager.c queue_match refuses it as well,
    # parsing the data as Asterisk does: quotes and parentheses hide commas).
    if len(args) > 5 and args[5].strip():
        raise errors.PermissionDenied(
            "Originate into Queue with an AGI argument runs an AGI script, which is not "
            "allowed; add AGI to the gateway setting originate.allowed_applications to "
            "allow it",
            reason="ORIGINATE_NOT_ALLOWED",
            metadata={"field": "application.data", "setting": "originate.allowed_applications"},
        )


def _expression_denied(field: str) -> errors.PermissionDenied:
    return errors.PermissionDenied(
        f"{field} holds a dialplan expression ('${{' or '$['), which could call any "
        "dialplan function on the PBX; the gateway setting originate.allow_expressions "
        "allows them",
        reason="ORIGINATE_NOT_ALLOWED",
        metadata={"field": field, "setting": "originate.allow_expressions"},
    )
