"""The private daemon leaves nothing behind: no process, no mount, no folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.container.dockerd import mounts_under, require_docker, running_dockerd

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


def alive(pid: int) -> bool:
    # Not our child once dockerd is gone, so no zombie answers for it.
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text()


def test_a_stopped_daemon_leaves_no_process_mount_or_file() -> None:
    require_docker()
    folder = Path(tempfile.mkdtemp(prefix="tgdock-"))
    with running_dockerd(folder) as daemon:
        daemon.docker("volume", "create", "left-behind")
        dockerd_pid = daemon.process.pid
        containerd_pid = int((folder / "exec" / "containerd" / "containerd.pid").read_text())
        assert mounts_under(folder)  # at least its network namespace
        assert alive(containerd_pid)
    assert not folder.exists()
    assert mounts_under(folder) == []
    assert not alive(containerd_pid)
    with pytest.raises(ProcessLookupError):
        os.kill(dockerd_pid, 0)
