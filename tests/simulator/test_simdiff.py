"""simdiff (telgate_server.simulator.compare) itself: a small scenario against the real
lab and the simulator, and the diff machinery on deliberately changed messages."""

from __future__ import annotations

from telgate_server.backends.ami.codec import Message
from telgate_server.simulator.compare.groups import diff_lines, percent, score
from telgate_server.simulator.compare.run import play_simulator
from telgate_server.simulator.compare.script import Script, play

from tests.lab import Lab


def _small() -> Script:
    s = Script("small", "stateless actions both PBXs answer alike")
    # Events off: the session lab may carry other tests' calls.
    s.login("off").quiet(0.3)
    s.action("Ping").action("NoSuchAction").action("Hangup").action("Getvar")
    s.bare("Ping")
    return s.quiet(0.5)


def _changed(messages: list[Message], index: int, key: str, value: str) -> list[Message]:
    out = [Message(list(m.headers)) for m in messages]
    out[index].headers = [(k, value if k == key else v) for k, v in out[index].headers]
    return out


async def test_small_scenario_same_on_both_and_changes_are_caught(asterisk_lab: Lab) -> None:
    script = _small()
    real = await play(script, asterisk_lab.host, asterisk_lab.port)
    sim = await play_simulator(script, time_scale=0.1)
    names = [m.get("Response") or m.get("Event") for m in real.messages]
    assert names[:1] == ["Success"] and "Error" in names, names
    # Run-dependent values (Ping's Timestamp, session ids, times) are masked: same shape.
    assert percent(score(real.messages, sim.messages)) == 100.0, diff_lines(
        real.messages, sim.messages
    )

    # One value changed in one response: exactly that message stops counting as identical.
    where = next(
        i for i, m in enumerate(sim.messages) if (m.get("Message") or "").startswith("Inv")
    )
    broken = _changed(sim.messages, where, "Message", "something else")
    scores = score(real.messages, broken)
    total = sum(s.total for s in scores)
    assert sum(s.same for s in scores) == total - 1
    assert any(
        "Message: 'Invalid/unknown command" in line for line in diff_lines(real.messages, broken)
    )

    # The same headers in another order differ in shape too.
    swapped = [Message(list(m.headers)) for m in sim.messages]
    first, second, *rest = swapped[where].headers[1:]
    swapped[where].headers = [swapped[where].headers[0], second, first, *rest]
    assert percent(score(real.messages, swapped)) < 100.0
    assert any("header order" in line for line in diff_lines(real.messages, swapped))

    # A missing message counts against the simulator; a run-dependent value does not.
    assert percent(score(real.messages, sim.messages[:-1])) < 100.0
    ping = next(i for i, m in enumerate(sim.messages) if m.get("Ping") == "Pong")
    retimed = _changed(sim.messages, ping, "Timestamp", "1234567890.123456")
    assert percent(score(real.messages, retimed)) == 100.0
