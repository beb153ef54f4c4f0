"""The real Asterisk lab of ../shared/asterisk, started fresh for each scenario.

A fresh lab (about 0.5 s to start) gives every scenario an idle PBX with its
queues as configured, as the simulator starts.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

_REPO = Path(__file__).resolve().parents[5]


def default_lab_sh() -> Path:
    """``$TELGATE_SHARED/asterisk/lab.sh``, else ``shared/`` beside the repository."""
    shared = os.environ.get("TELGATE_SHARED")
    base = Path(shared) if shared else _REPO.parent / "shared"
    return base / "asterisk" / "lab.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RealLab:
    """One lab.sh lab in a temporary folder on a free loopback port."""

    def __init__(self, lab_sh: Path) -> None:
        if not lab_sh.is_file():
            raise RuntimeError(f"the Asterisk lab is not at {lab_sh} (set TELGATE_SHARED)")
        self.lab_sh = lab_sh
        # Short: Asterisk's control socket path must stay under 108 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="simdiff-"))
        self.port = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(self.lab_sh), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def start(self) -> int:
        """Starts Asterisk (retrying when the port was taken meanwhile); returns the port."""
        result = None
        for _ in range(5):
            self.port = _free_port()
            result = self._run("start", str(self.dir), str(self.port))
            if result.returncode != 3:
                break
        assert result is not None
        if result.returncode != 0:
            raise RuntimeError(f"lab.sh start failed ({result.returncode}): {result.stderr[-800:]}")
        return self.port

    def stop(self) -> None:
        """Stops Asterisk (the unpacked build stays for the next start)."""
        self._run("stop", str(self.dir))

    def remove(self) -> None:
        """Stops Asterisk and deletes the folder."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
