"""Channels as the simulator models them, and the AMI header blocks that describe them.

Header names and order follow reference/ami.md §7 and the transcripts: every
channel event carries the same block (``Channel ... Linkedid``); events about a
second channel repeat it with a prefix (``Dest``, ``LocalOne``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backends.ami.codec import Header, Message

UNKNOWN = "<unknown>"

# ChannelState -> ChannelStateDesc (main/channel.c ast_state2str).
STATE_DESC: dict[int, str] = {
    0: "Down",
    1: "Rsrvd",
    2: "OffHook",
    3: "Dialing",
    4: "Ring",
    5: "Ringing",
    6: "Up",
    7: "Busy",
    8: "Dialing Offhook",
    9: "Pre-ring",
}
DOWN, RING, RINGING, UP, BUSY = 0, 4, 5, 6, 7

# Q.850 cause texts as Asterisk prints them in Hangup events (Cause-txt).
CAUSE_TEXT: dict[int, str] = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    27: "Destination out of order",
    28: "Invalid number format",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    42: "Switching equipment congestion",
    44: "Requested channel not available",
    66: "Channel not implemented",
    127: "Interworking, unspecified",
}


def cause_text(cause: int) -> str:
    """The Cause-txt of a Q.850 cause (``Unknown`` for numbers Asterisk has no text for)."""
    return CAUSE_TEXT.get(cause, "Unknown")


@dataclass
class Channel:
    """One Asterisk channel (here always one half of a Local channel pair)."""

    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    created: float  # engine clock time
    priority: int = 1
    state: int = DOWN
    cid_num: str = UNKNOWN
    cid_name: str = UNKNOWN
    conn_num: str = UNKNOWN
    conn_name: str = UNKNOWN
    language: str = "en"
    account: str = ""
    app: str = ""
    app_data: str = ""
    bridge_id: str = ""
    answered_at: float | None = None
    up_clock: float = float("-inf")  # engine clock time of the Newstate Up
    variables: dict[str, str] = field(default_factory=dict)
    hungup: bool = False
    # Cdr bookkeeping: last application seen (LastApplication/LastData).
    last_app: str = ""
    last_data: str = ""
    # Clock time at which the phone's Wait() ends (the ;2 half of a lab phone).
    wait_ends: float = float("inf")

    @property
    def half(self) -> int:
        """1 or 2: which half of the Local pair this is."""
        return 2 if self.name.endswith(";2") else 1

    @property
    def device(self) -> str:
        """The device name used in DeviceStateChange (``Local/201@phones``)."""
        return self.name.rsplit("-", 1)[0]

    def block(self, prefix: str = "") -> list[Header]:
        """The standard channel header block, optionally prefixed (``Dest``...)."""
        p = prefix
        return [
            (f"{p}Channel", self.name),
            (f"{p}ChannelState", str(self.state)),
            (f"{p}ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            (f"{p}CallerIDNum", self.cid_num),
            (f"{p}CallerIDName", self.cid_name),
            (f"{p}ConnectedLineNum", self.conn_num),
            (f"{p}ConnectedLineName", self.conn_name),
            (f"{p}Language", self.language),
            (f"{p}AccountCode", self.account),
            (f"{p}Context", self.context),
            (f"{p}Exten", self.exten),
            (f"{p}Priority", str(self.priority)),
            (f"{p}Uniqueid", self.uniqueid),
            (f"{p}Linkedid", self.linkedid),
        ]


def event(name: str, privilege: str | None, headers: list[Header]) -> Message:
    """An event message: ``Event``, then ``Privilege`` (if any), then the headers."""
    head: list[Header] = [("Event", name)]
    if privilege is not None:
        head.append(("Privilege", privilege))
    return Message(head + headers)


def parse_callerid(text: str) -> tuple[str, str]:
    """``"Agent 201" <201>`` -> (``201``, ``Agent 201``); missing parts are ``<unknown>``."""
    text = text.strip()
    if "<" in text and text.endswith(">"):
        name, _, rest = text.partition("<")
        num = rest[:-1].strip()
        name = name.strip().strip('"').strip()
        return (num or UNKNOWN, name or UNKNOWN)
    if text.replace("+", "").isdigit():
        return (text, UNKNOWN)
    return (UNKNOWN, text.strip('"') or UNKNOWN)
