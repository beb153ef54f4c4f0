"""The simulator's FastAGI text handling (simulator/agi_wire.py, agi_commands.find_command)
against what reference/agi.md and the fixtures/agi transcripts show."""

from __future__ import annotations

import pytest
from telgate_server.simulator.agi_commands import find_command, usage_of
from telgate_server.simulator.agi_wire import (
    AgiEnv,
    env_block,
    escape_c,
    expand,
    parse_args,
    parse_url,
    split_app_args,
)
from telgate_server.simulator.cli import AGI_ADDR_VARIABLE, world_from_env


@pytest.mark.parametrize(
    ("line", "words"),
    [
        # fixtures/agi 06: what Asterisk stored for each SET VARIABLE.
        (
            'SET VARIABLE "MY VAR" "value with \\"quotes\\" and  two spaces"',
            ["SET", "VARIABLE", "MY VAR", 'value with "quotes" and  two spaces'],
        ),
        ("SET VARIABLE QV a\\\\b\\ c", ["SET", "VARIABLE", "QV", "a\\b c"]),
        ('SET VARIABLE MIX abc"def ghi"jkl', ["SET", "VARIABLE", "MIX", "abcdef ghijkl"]),
        ('SET VARIABLE EMPTY ""', ["SET", "VARIABLE", "EMPTY", ""]),
        ("GET VARIABLE MIX\r", ["GET", "VARIABLE", "MIX\r"]),  # the CR stays
        ("NOOP\twith  tabs", ["NOOP", "with", "tabs"]),
        ("", []),
        ('STREAM FILE x ""', ["STREAM", "FILE", "x", ""]),
    ],
)
def test_parse_args_splits_as_asterisk(line: str, words: list[str]) -> None:
    assert parse_args(line) == words


def test_parse_args_keeps_at_most_127_words() -> None:
    assert len(parse_args(" ".join(["w"] * 200))) == 127


def test_app_args_remove_quotes_and_keep_empty_ones() -> None:
    # agi-test,101's AGI() arguments and the agi_arg_N lines of fixture 07.
    data = 'agi://h:1/p?a=1&b=two%20words,extra,args with spaces,"quoted, with comma",,last'
    assert split_app_args(data) == [
        "agi://h:1/p?a=1&b=two%20words",
        "extra",
        "args with spaces",
        "quoted, with comma",
        "",
        "last",
    ]
    assert split_app_args("CALLERID(num),x") == ["CALLERID(num)", "x"]


def test_url_parts() -> None:
    url = parse_url("agi://127.0.0.1:4573/args/sub/path?arg=1&name=two%20words")
    assert url is not None
    assert (url.host, url.port, url.script) == (
        "127.0.0.1",
        4573,
        "args/sub/path?arg=1&name=two%20words",
    )
    bare = parse_url("agi://10.0.0.1")
    assert bare is not None and (bare.port, bare.script) == (4573, None)
    slash = parse_url("agi://h:99/")
    assert slash is not None and (slash.port, slash.script) == (99, None)
    assert parse_url("/var/lib/asterisk/agi-bin/x.sh") is None


def _env() -> AgiEnv:
    return AgiEnv(
        channel="Local/201@phones-00000000;1",
        language="en",
        tech="Local",
        uniqueid="1.0",
        version="22.10.1",
        callerid="5550100",
        calleridname="unknown",
        context="agi-test",
        extension="101",
        priority=2,
        accountcode="",
        threadid="7",
    )


def test_env_block_lines() -> None:
    url = parse_url("agi://127.0.0.1:4573")
    assert url is not None
    lines = env_block(url, _env(), ["a", ""])
    text = b"".join(lines).decode()
    # One write per line, LF only, no script line without a path, args numbered from 1.
    assert all(line.endswith(b"\n") and b"\r" not in line for line in lines)
    assert lines[-1] == b"\n" and text.endswith("agi_arg_1: a\nagi_arg_2: \n\n")
    assert "agi_network_script" not in text
    assert text.startswith("agi_network: yes\nagi_request: agi://127.0.0.1:4573\n")
    assert "\nagi_accountcode: \nagi_threadid: 7\n" in text


def test_expand_nested_and_unset() -> None:
    values = {"FOO": "bar baz", "CHANNEL": "Local/x;1", "N": "FOO"}
    look = values.get
    assert expand("${FOO} on ${CHANNEL}", look) == "bar baz on Local/x;1"
    assert expand("${NOPE}", look) == ""
    assert expand("${${N}}", look) == "bar baz"
    assert expand("${FOO", look) == "${FOO"


def test_varset_values_are_c_escaped() -> None:
    # fixtures/agi 06: the VarSet events of SET VARIABLE.
    assert escape_c('value with "quotes" and  two spaces') == (
        'value with \\"quotes\\" and  two spaces'
    )
    assert escape_c("a\\b c") == "a\\\\b c"
    assert escape_c("x\ry") == "x\\ry"
    assert escape_c("plain") == "plain"


def test_commands_are_found_case_insensitively_with_their_words() -> None:
    answer = find_command(["answer"])
    assert answer is not None and answer.words == ("ANSWER",)
    full = find_command(["get", "full", "variable", "${X}"])
    assert full is not None and full.words == ("GET", "FULL", "VARIABLE")
    assert find_command(["STREAM"]) is None  # a command needs all its words
    assert find_command(["FOO", "BAR"]) is None
    assert find_command([]) is None
    stream = find_command(["STREAM", "FILE"])
    assert stream is not None
    usage = usage_of(stream).split("\n")
    assert usage[0] == "520-Invalid command syntax.  Proper usage follows:"
    assert usage[-1] == "520 End of proper usage."


def test_agi_address_from_env() -> None:
    assert world_from_env({}).agi_addr == "127.0.0.1:4573"
    assert world_from_env({AGI_ADDR_VARIABLE: "10.1.2.3:9000"}).agi_addr == "10.1.2.3:9000"
    for bad in ("nohost", "h:", "h:70000", ":4573", "h:x"):
        with pytest.raises(ValueError, match=AGI_ADDR_VARIABLE):
            world_from_env({AGI_ADDR_VARIABLE: bad})
