"""The simulated PBX's static world: phones, dialplan contexts, queues, AMI users.

The default is the fixture lab (shared/fixtures/ami/README.md and
asterisk-config/): programs tested against the simulator see the same
extensions, queues and users as against the lab's real Asterisk 22.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class PhoneKind(enum.Enum):
    """How a lab "phone" (the far ;2 half of a Local channel in [phones]) behaves."""

    AGENT = "agent"  # rings 1 s, answers, stays up (Wait(240))
    CUSTOMER = "customer"  # rings 1 s, answers, hangs up (cause 16) after a talk time
    BUSY = "busy"  # Busy(5)
    NO_ANSWER = "no_answer"  # Ringing, Wait(60), Hangup(19)
    CONGESTION = "congestion"  # Congestion(5)
    SUPERVISOR = "supervisor"  # answers at once, stays up


@dataclass(frozen=True)
class Phone:
    """One extension of the [phones] context."""

    exten: str
    kind: PhoneKind
    ring_seconds: float = 1.0
    # How long the phone stays up after answering (Wait(N) in the dialplan).
    talk_seconds: float = 240.0

    @property
    def tone(self) -> str:
        """The Playtones() argument the lab dialplan uses for this phone."""
        if self.kind is PhoneKind.CUSTOMER:
            return "350+440"
        if self.kind is PhoneKind.SUPERVISOR:
            return "440"
        return "425"


# AMI permission classes (manager.c's `perms` table), in Asterisk's order.
ALL_CLASSES: tuple[str, ...] = (
    "system",
    "call",
    "log",
    "verbose",
    "command",
    "agent",
    "user",
    "config",
    "dtmf",
    "reporting",
    "cdr",
    "dialplan",
    "originate",
    "agi",
    "cc",
    "aoc",
    "test",
    "security",
    "message",
)


def parse_classes(text: str) -> frozenset[str]:
    """A manager.conf ``read=``/``write=`` value as a set of class names (``all`` expanded)."""
    out: set[str] = set()
    for word in text.replace(" ", "").lower().split(","):
        if word == "all":
            out.update(ALL_CLASSES)
        elif word in ALL_CLASSES:
            out.add(word)
    return frozenset(out)


@dataclass(frozen=True)
class AmiUser:
    """A manager.conf user."""

    username: str
    secret: str
    read: frozenset[str]
    write: frozenset[str]


@dataclass(frozen=True)
class QueueMember:
    """A static queue member (queues.conf ``member =>``)."""

    interface: str  # e.g. Local/201@phones/n
    name: str  # e.g. Agent 201

    @property
    def device(self) -> str:
        """The device whose state drives the member status (``Local/201@phones``)."""
        return self.interface.removesuffix("/n")


@dataclass(frozen=True)
class Queue:
    """A queues.conf queue."""

    name: str
    strategy: str
    members: tuple[QueueMember, ...]


def _lab_phones() -> dict[str, Phone]:
    phones: dict[str, Phone] = {}
    for n in range(201, 210):
        phones[str(n)] = Phone(str(n), PhoneKind.AGENT)
    for n in range(290, 300):
        phones[str(n)] = Phone(str(n), PhoneKind.CUSTOMER, talk_seconds=(n - 290) * 2 + 2)
    phones["280"] = Phone("280", PhoneKind.BUSY)
    phones["281"] = Phone("281", PhoneKind.NO_ANSWER, talk_seconds=60)
    phones["282"] = Phone("282", PhoneKind.CONGESTION)
    phones["250"] = Phone("250", PhoneKind.SUPERVISOR, ring_seconds=0.0)
    return phones


def _lab_users() -> dict[str, AmiUser]:
    users = [
        AmiUser("telgate", "telgate-secret", parse_classes("all"), parse_classes("all")),
        AmiUser("md5user", "md5-secret", parse_classes("all"), parse_classes("all")),
        AmiUser(
            "monitor",
            "monitor-secret",
            parse_classes("call,reporting"),
            parse_classes("reporting"),
        ),
    ]
    return {u.username: u for u in users}


def _lab_queues() -> dict[str, Queue]:
    return {
        "support": Queue(
            "support",
            "ringall",
            (
                QueueMember("Local/201@phones/n", "Agent 201"),
                QueueMember("Local/202@phones/n", "Agent 202"),
            ),
        ),
        "sales": Queue("sales", "leastrecent", (QueueMember("Local/203@phones/n", "Agent 203"),)),
    }


# The extensions of the lab's [agi-test] context (shared/fixtures/agi/README.md).
AGI_TEST_EXTENS = frozenset(
    {"100", "101", "102", "103", "104", "105", "106", "107", "200", "300", "h"}
)


def _lab_sounds() -> dict[str, int]:
    # custom/telgate-demo is 49.24 s, beep 0.64 s (fixtures/agi README); the
    # espeak-ng prompts are about a second long.
    sounds = {"custom/telgate-demo": 393889, "beep": 5128}
    for name in ("pbx-transfer", "pbx-invalid", "pbx-invalidpark", "vm-goodbye"):
        sounds[name] = 8000
    return sounds


@dataclass
class World:
    """Everything static the simulated Asterisk knows. Mutable so tests can tweak it."""

    phones: dict[str, Phone] = field(default_factory=_lab_phones)
    users: dict[str, AmiUser] = field(default_factory=_lab_users)
    queues: dict[str, Queue] = field(default_factory=_lab_queues)
    asterisk_version: str = "22.10.1"
    ami_version: str = "11.0.0"
    # The Dial() options [from-internal] uses for _2XX.
    dial_timeout: int = 20
    dial_options: str = "tT"
    # features.conf [featuremap] atxfer (empty: Atxfer answers that no code is set).
    atxfer_code: str = "*2"
    # features.conf [general] transferdigittimeout, in seconds.
    transfer_digit_timeout: float = 3.0
    # The FastAGI server the [agi-test] context calls: it stands where the lab's
    # extensions.conf says 127.0.0.1:4573 (the lab's LAB_AGI_ADDR; here the
    # TELGATE_SIM_AGI_ADDR setting).
    agi_addr: str = "127.0.0.1:4573"
    # Where extension 106 ("AGI server down") connects: nothing listens there.
    agi_down_addr: str = "127.0.0.1:4574"
    # The sound files the lab has, with their length in samples (8 kHz). There are
    # no digits/* sounds, so SAY NUMBER fails there as it does in the lab.
    sounds: dict[str, int] = field(default_factory=_lab_sounds)

    def has_exten(self, context: str, exten: str) -> bool:
        """Whether ``exten`` exists in ``context`` (the lab dialplan)."""
        if context == "phones":
            return exten in self.phones
        if context == "from-internal":
            return (len(exten) == 3 and exten.startswith("2") and exten.isdigit()) or exten in {
                "500",
                "300",
                "555",
            }
        if context == "playback":
            return exten in {"300", "301"}
        if context == "agi-test":
            return exten in AGI_TEST_EXTENS
        return False

    def queues_of(self, device: str) -> list[tuple[Queue, QueueMember]]:
        """The queues (with the member entry) in which ``device`` is a member."""
        return [(q, m) for q in self.queues.values() for m in q.members if m.device == device]


def lab_world() -> World:
    """A fresh copy of the fixture lab's world."""
    return World()
