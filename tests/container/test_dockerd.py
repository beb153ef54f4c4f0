"""The private daemon leaves nothing behind: no process, no mount, no folder,
no network bridge."""

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


def test_a_stopped_daemon_leaves_no_process_mount_file_or_bridge() -> None:
    require_docker()
    folder = Path(tempfile.mkdtemp(prefix="tgdock-"))
    with running_dockerd(folder) as daemon:
        daemon.docker("volume", "create", "left-behind")
        # A user-defined network (as compose makes) is a bridge on the host.
        network = daemon.docker("network", "create", "left-behind").stdout.strip()
        bridge = Path("/sys/class/net") / f"br-{network[:12]}"
        assert bridge.exists()
        dockerd_pid = daemon.process.pid
        containerd_pid = int((folder / "exec" / "containerd" / "containerd.pid").read_text())
        assert mounts_under(folder)  # at least its network namespace
        assert alive(containerd_pid)
    assert not folder.exists()
    assert mounts_under(folder) == []
    assert not alive(containerd_pid)
    assert not bridge.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(dockerd_pid, 0)
