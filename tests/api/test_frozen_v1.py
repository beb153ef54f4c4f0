"""v1 is frozen: `make check` runs `buf breaking` against the image in
proto/. These tests show the gate holds: today's protos pass, and the
changes a client would break on (a field renamed, renumbered or removed) fail."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUF = REPO / ".venv" / "bin" / "buf"
FROZEN = REPO / "proto" / "telgate-v1.frozen.binpb"


def breaking(tree: Path) -> subprocess.CompletedProcess[str]:
    """`buf breaking` of ``tree``'s proto module against the frozen image."""
    return subprocess.run(
        [str(BUF), "breaking", "proto", "--against", str(FROZEN)],
        cwd=tree,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the buf workspace (buf.yaml, proto/, third_party/)."""
    shutil.copy(REPO / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(REPO / "proto", tmp_path / "proto")
    shutil.copytree(REPO / "third_party", tmp_path / "third_party")
    return tmp_path


def edit(tree: Path, name: str, old: str, new: str) -> None:
    path = tree / "proto" / "telgate" / "v1" / name
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {name}"
    path.write_text(text.replace(old, new))


def test_the_protos_as_they_are_pass(tree: Path) -> None:
    result = breaking(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "old", "new", "said"),
    [
        ("events.proto", "EventPosition position = 12", "EventPosition pos = 12", "changed name"),
        ("cdrs.proto", "uint64 after_cursor = 2", "uint64 after_cursor = 9", "deleted"),
        ("calls.proto", "rpc Hangup(HangupRequest)", "rpc HangUp(HangupRequest)", "deleted"),
    ],
)
def test_a_change_a_client_breaks_on_fails(
    tree: Path, name: str, old: str, new: str, said: str
) -> None:
    edit(tree, name, old, new)
    result = breaking(tree)
    assert result.returncode == 100, result.stdout + result.stderr
    assert said in result.stdout


def test_a_new_field_and_a_new_comment_pass(tree: Path) -> None:
    edit(
        tree,
        "cdrs.proto",
        "uint64 after_cursor = 2",
        "uint64 after_cursor = 2;\n  // A field added later.\n  string added_later = 99",
    )
    result = breaking(tree)
    assert result.returncode == 0, result.stdout + result.stderr
