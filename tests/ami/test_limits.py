"""The gateway refuses, before writing, an action the real Asterisk would drop
(tests/real/test_ami_limits.py shows the same numbers on Asterisk 22)."""

from __future__ import annotations

import pytest
from telgate_server.backends.ami.connection import AMI_MAX_HEADERS, AMI_MAX_LINE, check_ami_limits
from telgate_server.errors import InvalidArgument


def test_a_line_of_1024_bytes_passes_and_one_more_is_refused() -> None:
    fits = "v" * (AMI_MAX_LINE - len("Data: ") - 2)
    check_ami_limits("Originate", [("Data", fits)], backend="pbx")
    with pytest.raises(InvalidArgument) as caught:
        check_ami_limits("Originate", [("Data", fits + "v")], backend="pbx")
    assert "1025-byte line" in caught.value.message
    # Bytes, not characters: a two-byte letter counts twice.
    with pytest.raises(InvalidArgument):
        check_ami_limits("Originate", [("Data", "é" * (len(fits) // 2 + 1))], backend="pbx")


def test_at_most_128_lines_with_action_and_actionid() -> None:
    headers = [("Variable", f"V{n}=1") for n in range(AMI_MAX_HEADERS - 2)]
    check_ami_limits("Originate", headers, backend="pbx")
    with pytest.raises(InvalidArgument, match="129 header lines"):
        check_ami_limits("Originate", [*headers, ("Variable", "X=1")], backend="pbx")
