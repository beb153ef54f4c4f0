"""A fake Asterisk 22 speaking AMI on a real TCP port (the fixture lab's world).

Programs tested against it should run unchanged against a real Asterisk:
same banner, framing, texts, header order and call event order as the
transcripts in shared/fixtures/ami.
"""

from .engine import Engine, OriginateRequest
from .server import AmiSimulator
from .world import World, lab_world

__all__ = ["AmiSimulator", "Engine", "OriginateRequest", "World", "lab_world"]
