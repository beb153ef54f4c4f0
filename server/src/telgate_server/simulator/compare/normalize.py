"""Message shapes: run-dependent values of AMI messages masked, for comparisons.

The rules of ``shared/fixtures/ami/README.md``: Uniqueids, Local channel
suffixes, bridge UUIDs, times, counters, session ids and the like change from
run to run, so a value is replaced by a placeholder *if it has the right
shape* (a malformed value stays and shows up as a difference). Everything
else (names, values, header order) is compared as sent.
"""

from __future__ import annotations

import re

from ...backends.ami.codec import Message

CHAN_RX = re.compile(r"(Local/[^@\s;,]+@[\w-]+?)-([0-9a-f]{8})(?=;[12])")
_UID = r"\d{9,11}\.\d+"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TV = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000"
_DATETIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
_SHAPES: dict[str, str] = {
    "uniqueid": _UID,
    "linkedid": _UID,
    "destuniqueid": _UID,
    "destlinkedid": _UID,
    "localoneuniqueid": _UID,
    "localonelinkedid": _UID,
    "localtwouniqueid": _UID,
    "localtwolinkedid": _UID,
    "bridgeuniqueid": _UUID,
    "bridgeid": f"(?:{_UUID})?",
    "timestamp": r"\d+\.\d{6}",
    "eventtv": _TV,
    "sessiontv": _TV,
    "sessionid": r"0x[0-9a-f]+",
    "localaddress": r"IPV4/TCP/127\.0\.0\.1/\d+",
    "remoteaddress": r"IPV4/TCP/127\.0\.0\.1/\d+",
    "uptime": r"\d+",
    # Getvar of UNIQUEID (or a VarSet of one): a run-dependent id.
    "value": _UID,
    "lastreload": r"\d+",
    "challenge": r"\d{6,10}",
    "starttime": _DATETIME,
    "answertime": f"(?:{_DATETIME})?",
    "endtime": _DATETIME,
    "duration": r"\d+|\d\d:\d\d:\d\d",
    "billableseconds": r"\d+",
    "seconds": r"\d+",
    "logintime": r"\d+",
    # Queue history (calls taken before the scenario) is not the scenario's doing.
    "callstaken": r"\d+",
    # CoreStatus: when the lab's Asterisk started and how many calls it had run.
    "corestartupdate": r"\d{4}-\d\d-\d\d",
    "corestartuptime": r"\d\d:\d\d:\d\d",
    "corereloaddate": r"\d{4}-\d\d-\d\d",
    "corereloadtime": r"\d\d:\d\d:\d\d",
    "coreprocessedcalls": r"\d+",
    "lastcall": r"\d+",
    # When a member last paused, and queue waits/talks: wall-clock seconds of the run.
    "lastpause": r"\d+",
    "holdtime": r"\d+",
    "talktime": r"\d+",
    "ringtime": r"\d+",
}
# Run- or history-dependent parts of CLI output lines.
_OUTPUT_SUBS: list[tuple[str, str]] = [
    (_UUID, "<uuid>"),
    (r"\b\d{9,11}\.\d+\b", "<uid>"),
    (r"\d+ calls? processed", "<n> calls processed"),
    (r"!3!\d+!", "!3!<secs>!"),  # concise: AMA flags, then the channel's age
    (r"on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", "on <date> UTC"),
    (r"\(\d+s holdtime, \d+s talktime\), W:\d+, C:\d+", "(<history>)"),
    (r"has taken .* \(login was \d+ secs ago\)", "has taken <history>"),
    (r"^(System uptime|Last reload): .*$", r"\1: <time>"),
    # manager show connected: Start (epoch), Elapsed, FileDes.
    (r"^(  \S+ +\S+ +)\d{9,11}( +)\d+( +)\d+ ", r"\1<start>\2<secs>\3<fd> "),
]
# VarSet values that are durations.
_TIMING_VARS = {
    "ANSWEREDTIME",
    "ANSWEREDTIME_MS",
    "DIALEDTIME",
    "DIALEDTIME_MS",
    "RINGTIME",
    "RINGTIME_MS",
    "QUEUEWAIT",
    "QUEUEWAIT_MS",
    # Where a ControlPlayback was stopped depends on when the action came (-1, the end
    # of the file, stays compared).
    "CPLAYBACKOFFSET",
}
# The dialplan prints the playback offset too ([playback] 300, priority 3).
_APPDATA_SUBS: list[tuple[str, str]] = [(r"CPLAYBACKOFFSET=\d+", "CPLAYBACKOFFSET=<n>")]
# DialBegin races the callee's Ringing in Asterisk: its Dest state is either one (and
# the Newstate Ringing can come just before it, see _canonical_order).
_DIALBEGIN_STATES = {"destchannelstate": r"0|5", "destchannelstatedesc": r"Down|Ringing"}


def norm_channels(text: str) -> str:
    """Replaces the 8-hex-digit suffix of Local channel names by ``<SEQ>``."""
    return CHAN_RX.sub(r"\1-<SEQ>", text)


def normalize(msg: Message) -> tuple[tuple[str, str], ...]:
    """A message with run-dependent values replaced by placeholders (if well-shaped)."""
    out: list[tuple[str, str]] = []
    is_timing_varset = msg.get("Event") == "VarSet" and msg.get("Variable") in _TIMING_VARS
    for key, raw in msg.headers:
        value = raw
        low = key.lower()
        shape = _SHAPES.get(low)
        if shape is None and low.endswith("bridgeuniqueid"):
            shape = _UUID  # OrigBridgeUniqueid, SecondBridgeUniqueid...
        elif shape is None and low.endswith(("uniqueid", "linkedid")):
            shape = _UID  # prefixed channel blocks: Transferer..., Spyer..., Dest...
        if shape is None and msg.get("Event") == "DialBegin":
            shape = _DIALBEGIN_STATES.get(low)
        if shape is not None and re.fullmatch(shape, value):
            value = f"<{low}>"
        elif is_timing_varset and low == "value" and value.isdigit():
            value = "<n>"
        elif low == "output":
            for rx, repl in _OUTPUT_SUBS:
                value = re.sub(rx, repl, value)
        elif low == "appdata":
            for rx, repl in _APPDATA_SUBS:
                value = re.sub(rx, repl, value)
        value = norm_channels(value)
        out.append((key, value))
    return tuple(out)


def raced(first: dict[str, str], second: dict[str, str]) -> bool:
    """Whether two adjacent events of one channel come from different Asterisk threads,
    so that the transcripts show them in either order."""
    # DialBegin races the callee's Newstate Ringing (see _DIALBEGIN_STATES).
    if first.get("Event") == "Newstate" and first.get("ChannelState") == "5":
        return second.get("Event") == "DialBegin"
    # A Local ;1 half gets the HangupRequest its ;2 half queued while the bridge clears
    # BRIDGEPEER: 15-hangup-action shows VarSet first, 17-blindtransfer HangupRequest.
    if first.get("Event") == "HangupRequest":
        return second.get("Event") == "VarSet" and second.get("Variable") == "BRIDGEPEER"
    return False


def canonical_order(seq: list[tuple[tuple[str, str], ...]]) -> None:
    """Puts pairs of raced events (:func:`raced`) in one canonical order."""
    for i in range(len(seq) - 1):
        if raced(dict(seq[i]), dict(seq[i + 1])):
            seq[i], seq[i + 1] = seq[i + 1], seq[i]
