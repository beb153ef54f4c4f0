"""The sans-I/O AMI client protocol: bytes and actions in, outputs out.

No sockets, no event loop, no sleeps: the tests feed bytes (the real ones from
the Asterisk 22 captures where it matters) and pass the time by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from telgate_server.backends.ami.codec import Message, Parser, encode_banner, encode_message
from telgate_server.backends.ami.protocol import (
    AMI_MAX_HEADERS,
    AMI_MAX_LINE,
    ActionCompleted,
    ActionFailed,
    ActionRefused,
    AmiClientProtocol,
    EventReceived,
    EventsDropped,
    LinkClosed,
    LinkLost,
    Output,
)

from tests.shared import ami_fixture_names, load_ami_fixture

BANNER = encode_banner("11.0.0")


class Observed:
    """Collects on_action_done calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float]] = []

    def __call__(self, action: str, outcome: str, seconds: float) -> None:
        self.calls.append((action, outcome, seconds))


def new_protocol(**over: object) -> tuple[AmiClientProtocol, Observed]:
    seen = Observed()
    proto = AmiClientProtocol(peer="the PBX", on_action_done=seen, **over)  # type: ignore[arg-type]
    proto.connection_made()
    proto.receive_data(BANNER, 0.0)
    return proto, seen


def response(action_id: str, status: str = "Success", *headers: tuple[str, str]) -> bytes:
    return encode_message([("Response", status), ("ActionID", action_id), *headers])


def event(name: str, *headers: tuple[str, str]) -> bytes:
    return encode_message([("Event", name), *headers])


def feed(proto: AmiClientProtocol, data: bytes, now: float = 1.0, step: int = 0) -> list[Output]:
    """Feeds ``data`` (in ``step``-byte reads if given) and takes every output."""
    for at in range(0, len(data), step or len(data) or 1):
        proto.receive_data(data[at : at + (step or len(data))], now)
    return proto.next_events()


def shape(outputs: Sequence[Output]) -> list[tuple[str, str]]:
    """Each output as (kind, what): event name, action id, reason, count."""
    out: list[tuple[str, str]] = []
    for item in outputs:
        if isinstance(item, EventReceived):
            out.append(("event", item.message.name))
        elif isinstance(item, ActionCompleted):
            out.append(("done", item.action_id))
        elif isinstance(item, ActionFailed):
            out.append(("failed", item.action_id))
        elif isinstance(item, EventsDropped):
            out.append(("dropped", str(item.count)))
        else:
            out.append(("lost", item.reason))
    return out


def completed(outputs: Sequence[Output]) -> dict[str, ActionCompleted]:
    return {o.action_id: o for o in outputs if isinstance(o, ActionCompleted)}


# ---------------------------------------------------------------- correlation


def test_action_bytes_carry_a_fresh_action_id_and_the_banner_is_kept() -> None:
    proto, _ = new_protocol()
    assert proto.banner is not None and proto.banner.version == "11.0.0"
    first, data = proto.send_action("Ping", now=0.0)
    second, _ = proto.send_action("Getvar", [("Variable", "X")], now=0.0)
    assert first != second
    (sent,) = Parser(expect_banner=False).feed(data)
    assert isinstance(sent, Message)
    assert sent.headers == [("Action", "Ping"), ("ActionID", first)]
    assert proto.in_flight == 2


def test_responses_matched_by_action_id_out_of_order() -> None:
    proto, seen = new_protocol()
    a, _ = proto.send_action("Getvar", [("Variable", "A")], now=1.0)
    b, _ = proto.send_action("Getvar", [("Variable", "B")], now=2.0)
    out = feed(
        proto,
        response(b, "Success", ("Variable", "B"), ("Value", "2"))
        + response(a, "Error", ("Message", "No such channel")),
        now=4.5,
    )
    assert shape(out) == [("done", b), ("done", a)]
    done = completed(out)
    assert done[b].result.ok and done[b].result.response.get("Value") == "2"
    assert done[b].action == "Getvar"
    assert not done[a].result.ok and done[a].result.message == "No such channel"
    assert (done[a].result.events, done[a].result.complete) == ([], None)
    # Once per action, timed on the caller's clock from send to the answer.
    assert seen.calls == [("Getvar", "success", 2.5), ("Getvar", "error", 3.5)]
    assert proto.in_flight == 0


def test_events_interleaved_with_responses_keep_wire_order() -> None:
    proto, _ = new_protocol()
    a, _ = proto.send_action("Originate", [("Channel", "Local/201@phones")], now=0.0)
    b, _ = proto.send_action("Originate", [("Channel", "Local/202@phones")], now=0.0)
    wire = (
        event("Newchannel", ("Channel", "A"))
        + response(b, "Success", ("Message", "Originate successfully queued"))
        # Caused by an action but not a list item: an ordinary event.
        + event("OriginateResponse", ("ActionID", b), ("Response", "Success"))
        + event("Newchannel", ("Channel", "B"))
        + response(a, "Error", ("Message", "Extension does not exist."))
    )
    # Whatever the read boundaries (here 7 bytes at a time).
    out = feed(proto, wire, step=7)
    assert shape(out) == [
        ("event", "Newchannel"),
        ("done", b),
        ("event", "OriginateResponse"),
        ("event", "Newchannel"),
        ("done", a),
    ]
    assert out[2].message.action_id == b  # type: ignore[union-attr]


def test_an_event_with_an_action_id_before_its_response_is_an_event() -> None:
    proto, _ = new_protocol()
    a, _ = proto.send_action("Originate", [("Channel", "Local/201@phones")], now=0.0)
    out = feed(proto, event("OriginateResponse", ("ActionID", a)) + response(a))
    assert shape(out) == [("event", "OriginateResponse"), ("done", a)]


def coreshowchannels_answer() -> bytes:
    """The real answer to CoreShowChannels (ActionID a004) from fixture 13."""
    recv = load_ami_fixture("13-coreshowchannels").recv
    start = recv.index(b"Response: Success\r\nActionID: a004\r\n")
    complete = recv.index(b"Event: CoreShowChannelsComplete\r\n", start)
    return recv[start : recv.index(b"\r\n\r\n", complete) + 4]


@pytest.mark.parametrize("step", [0, 1, 13, 1001])
def test_list_start_items_complete_with_interleaved_events(step: int) -> None:
    proto, seen = new_protocol()
    action_id, _ = proto.send_action("CoreShowChannels", now=0.0)
    blocks = coreshowchannels_answer().replace(b"a004", action_id.encode()).split(b"\r\n\r\n")
    # An ordinary event between the items, as Asterisk may send one.
    blocks.insert(4, b"Event: Newexten\r\nPrivilege: dialplan,all\r\nChannel: Local/x;1")
    out = feed(proto, b"\r\n\r\n".join(blocks), now=0.25, step=step)
    assert shape(out) == [("event", "Newexten"), ("done", action_id)]
    result = completed(out)[action_id].result
    assert result.ok and result.message == "Channels will follow"
    assert [e.name for e in result.events] == ["CoreShowChannel"] * 8
    assert result.events[0].get("Channel") == "Local/201@phones-00000008;1"
    assert result.complete is not None
    assert result.complete.get("ListItems") == "8"
    assert seen.calls == [("CoreShowChannels", "success", 0.25)]


def test_an_empty_list_and_a_list_completed_across_reads() -> None:
    proto, _ = new_protocol()
    action_id, _ = proto.send_action("QueueStatus", [("Queue", "nope")], now=0.0)
    assert feed(proto, response(action_id, "Success", ("EventList", "start"))) == []
    assert proto.in_flight == 1
    out = feed(
        proto,
        event(
            "QueueStatusComplete",
            ("ActionID", action_id),
            ("EventList", "Complete"),
            ("ListItems", "0"),
        ),
    )
    result = completed(out)[action_id].result
    assert result.events == [] and result.complete is not None


# ---------------------------------------------------------------- deadlines, abandoned ids


def test_deadline_decided_by_the_callers_clock() -> None:
    proto, seen = new_protocol()
    slow, _ = proto.send_action("Getvar", now=10.0, timeout=5.0)
    quick, _ = proto.send_action("Ping", now=11.0, timeout=1.0)
    untimed, _ = proto.send_action("Ping", now=11.0)
    assert proto.next_deadline == 12.0
    assert proto.expire(11.999) == []
    feed(proto, response(quick, "Success", ("Ping", "Pong")), now=11.5)
    # The answered action's deadline no longer counts.
    assert proto.next_deadline == 15.0
    assert proto.expire(14.9) == []
    (late,) = proto.expire(15.0)
    assert (late.action_id, late.action, late.timeout) == (slow, "Getvar", 5.0)
    assert proto.next_deadline is None
    assert proto.in_flight == 1  # the one without a timeout waits
    assert seen.calls == [("Ping", "success", 0.5), ("Getvar", "timeout", 5.0)]
    assert proto.expire(100.0) == []  # reported once
    assert list(completed(feed(proto, response(untimed)))) == [untimed]


def test_late_response_of_a_timed_out_action_is_ignored_then_forgotten() -> None:
    proto, seen = new_protocol()
    action_id, _ = proto.send_action("Getvar", now=0.0, timeout=1.0)
    assert [t.action_id for t in proto.expire(1.0)] == [action_id]
    assert proto.abandoned == 1
    out = feed(proto, response(action_id, "Success", ("Value", "1")) + event("Hangup"), now=2.0)
    assert shape(out) == [("event", "Hangup")]
    assert proto.abandoned == 0
    assert seen.calls == [("Getvar", "timeout", 1.0)]


def test_late_list_of_a_timed_out_action_is_swallowed_until_its_complete() -> None:
    proto, _ = new_protocol()
    action_id, _ = proto.send_action("Status", now=0.0, timeout=1.0)
    # The list began before the deadline; the rest comes after it.
    feed(proto, response(action_id, "Success", ("EventList", "start")), now=0.5)
    proto.expire(1.0)
    item = event("Status", ("Privilege", "Call"), ("ActionID", action_id))
    done = event("StatusComplete", ("ActionID", action_id), ("EventList", "Complete"))
    out = feed(proto, item + event("Hangup") + item + done + event("Newchannel"), now=2.0)
    assert shape(out) == [("event", "Hangup"), ("event", "Newchannel")]
    assert proto.abandoned == 0
    # A list answer that begins only after the deadline is swallowed the same way.
    other, _ = proto.send_action("Status", now=3.0, timeout=1.0)
    proto.expire(4.0)
    start = response(other, "Success", ("EventList", "start"))
    item = event("Status", ("ActionID", other))
    done = event("StatusComplete", ("ActionID", other), ("EventList", "Complete"))
    assert feed(proto, start + item + item + done, now=5.0) == []
    assert proto.abandoned == 0


def test_an_originate_response_of_a_timed_out_originate_is_still_an_event() -> None:
    proto, _ = new_protocol()
    action_id, _ = proto.send_action("Originate", now=0.0, timeout=1.0)
    proto.expire(1.0)
    out = feed(proto, event("OriginateResponse", ("ActionID", action_id)), now=2.0)
    assert shape(out) == [("event", "OriginateResponse")]


def test_abandoned_ids_are_forgotten_after_abandoned_for_and_beyond_the_cap() -> None:
    proto, _ = new_protocol(abandoned_for=60.0, max_abandoned=3)
    first, _ = proto.send_action("Status", now=0.0, timeout=1.0)
    feed(proto, response(first, "Success", ("EventList", "start")), now=0.5)
    proto.expire(1.0)
    assert proto.abandoned == 1
    proto.receive_data(event("Hangup"), 60.9)
    assert proto.abandoned == 1
    proto.receive_data(event("Hangup"), 61.0)
    assert proto.abandoned == 0
    # Forgotten: a (very) late item is an ordinary event again.
    out = feed(proto, event("Status", ("ActionID", first)), now=62.0)
    assert shape(out)[-1] == ("event", "Status")
    for n in range(5):
        proto.send_action("Getvar", now=100.0 + n, timeout=1.0)
    proto.expire(200.0)
    assert proto.abandoned == 3


def test_a_cancelled_action_is_reported_and_its_answer_ignored() -> None:
    proto, seen = new_protocol()
    action_id, _ = proto.send_action("Hangup", now=0.0, timeout=5.0)
    assert proto.cancel_action(action_id, 0.25)
    assert not proto.cancel_action(action_id, 0.3)
    assert proto.next_deadline is None
    assert feed(proto, response(action_id), now=1.0) == []
    assert proto.expire(10.0) == []
    assert seen.calls == [("Hangup", "cancelled", 0.25)]


# ---------------------------------------------------------------- the link fails


def test_link_lost_fails_each_action_in_flight_after_earlier_answers() -> None:
    proto, seen = new_protocol()
    a, _ = proto.send_action("Ping", now=0.0, timeout=5.0)
    b, _ = proto.send_action("Hangup", now=0.0, timeout=5.0)
    c, _ = proto.send_action("Status", now=0.0, timeout=5.0)
    proto.receive_data(response(a) + response(c, "Success", ("EventList", "start")), 1.0)
    proto.receive_data(b"", 2.0)  # the PBX closed the socket
    assert not proto.session_open
    assert proto.failure == "the PBX closed the connection"
    proto.receive_data(response(b), 2.5)  # nothing counts after the end
    out = proto.next_events()
    assert shape(out) == [
        ("done", a),
        ("failed", b),
        ("failed", c),
        ("lost", "the PBX closed the connection"),
    ]
    assert {o.action for o in out if isinstance(o, ActionFailed)} == {"Hangup", "Status"}
    assert sorted(seen.calls) == [
        ("Hangup", "link_lost", 2.0),
        ("Ping", "success", 1.0),
        ("Status", "link_lost", 2.0),
    ]
    assert proto.in_flight == 0 and proto.expire(10.0) == []
    with pytest.raises(LinkClosed):
        proto.send_action("Ping", now=3.0)


@pytest.mark.parametrize(
    ("before", "garbage", "why"),
    [
        # Not AMI from its first bytes after the banner.
        (b"", b"\x00\xff" * 100, "after its banner it sent b'\\x00\\xff"),
        # A message that never ends; the complete event in the same read still counts.
        (event("FullyBooted"), b"Event: Endless\r\n" + b"x" * 2000, "no end of message after"),
    ],
)
def test_garbage_or_an_oversize_message_ends_the_session_not_the_caller(
    before: bytes, garbage: bytes, why: str
) -> None:
    seen = Observed()
    proto = AmiClientProtocol(peer="the PBX", max_message_size=1024, on_action_done=seen)
    proto.connection_made()
    action_id, _ = proto.send_action("Login", now=0.0)
    proto.receive_data(BANNER + before + garbage, 1.0)
    # The banner in the same read was kept.
    assert proto.banner is not None and proto.banner.text == "Asterisk Call Manager/11.0.0"
    assert not proto.session_open
    assert proto.failure is not None
    assert proto.failure.startswith("the PBX sent data that is not AMI: ")
    assert why in proto.failure
    proto.receive_data(response(action_id), 1.5)  # nothing counts after the end
    out = proto.next_events()
    expected = [("event", "FullyBooted")] if before else []
    assert shape(out) == [*expected, ("failed", action_id), ("lost", proto.failure)]
    assert seen.calls == [("Login", "link_lost", 1.0)]


def test_a_new_session_after_a_loss_keeps_the_old_outputs_first() -> None:
    proto, _ = new_protocol()
    old, _ = proto.send_action("Hangup", now=0.0)
    proto.receive_data(event("Newchannel"), 0.5)
    proto.connection_lost("the connection dropped", 1.0)
    # Reconnected before anyone took the outputs.
    proto.connection_made()
    assert proto.session_open and proto.failure is None and proto.banner is None
    proto.receive_data(BANNER, 2.0)
    new, _ = proto.send_action("Ping", now=2.0)
    assert new != old
    proto.receive_data(response(new), 2.5)
    out = proto.next_events()
    assert shape(out) == [
        ("event", "Newchannel"),
        ("failed", old),
        ("lost", "the connection dropped"),
        ("done", new),
    ]
    with pytest.raises(RuntimeError):
        proto.connection_made()  # the session is still open


def test_abort_fails_everything_at_once_and_drops_the_queue() -> None:
    proto, seen = new_protocol()
    a, _ = proto.send_action("Getvar", now=0.0, timeout=1.0)
    proto.receive_data(event("Hangup") + response(a), 0.5)
    b, _ = proto.send_action("Ping", now=0.5)
    failed = proto.abort("the gateway closed the link", 0.75)
    # a's answer was queued but not handed out: it fails too.
    assert {(f.action_id, f.reason) for f in failed} == {
        (a, "the gateway closed the link"),
        (b, "the gateway closed the link"),
    }
    assert proto.next_events() == [] and proto.backlog == 0
    assert sorted(seen.calls) == [("Getvar", "link_lost", 0.75), ("Ping", "link_lost", 0.25)]


# ---------------------------------------------------------------- overflow, refusals


def test_overflow_drops_events_only_and_marks_the_gap() -> None:
    proto, _ = new_protocol(max_queued_events=3)
    action_id, _ = proto.send_action("Getvar", now=0.0)
    burst = b"".join(event("VarSet", ("Value", str(i))) for i in range(5))
    burst += response(action_id) + b"".join(event("VarSet", ("Value", str(i))) for i in range(5, 7))
    proto.receive_data(burst, 1.0)
    first = proto.next_events(2)
    assert [o.message.get("Value") for o in first] == ["0", "1"]  # type: ignore[union-attr]
    # Two slots free again: the next events are queued, after a gap marker.
    proto.receive_data(event("VarSet", ("Value", "7")) + event("VarSet", ("Value", "8")), 2.0)
    out = proto.next_events()
    assert shape(out) == [
        ("event", "VarSet"),
        ("done", action_id),
        ("dropped", "4"),
        ("event", "VarSet"),
        ("event", "VarSet"),
    ]
    assert [o.message.get("Value") for o in out if isinstance(o, EventReceived)] == ["2", "7", "8"]


def test_drops_at_the_end_are_reported_once_caught_up() -> None:
    proto, _ = new_protocol(max_queued_events=2)
    proto.receive_data(b"".join(event("VarSet", ("Value", str(i))) for i in range(5)), 1.0)
    assert proto.backlog == 3
    assert shape(proto.next_events(1)) == [("event", "VarSet")]
    assert shape(proto.next_events()) == [("event", "VarSet"), ("dropped", "3")]
    assert proto.backlog == 0 and proto.next_events() == []


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ([("CallerID", "x\r\nAction: Hangup")], "CallerID"),
        ([("Bad:Name", "x")], "Bad:Name"),
        ([("actionid", "mine")], "actionid"),
        ([("Data", "v" * (AMI_MAX_LINE - len("Data: ") - 1))], "Data"),
    ],
)
def test_refused_actions_register_nothing(headers: list[tuple[str, str]], named: str) -> None:
    proto, seen = new_protocol()
    with pytest.raises(ActionRefused) as info:
        proto.send_action("Originate", headers, now=0.0, timeout=1.0)
    assert repr(named) in info.value.message
    assert "Action: Hangup" not in info.value.message  # never quotes a value
    with pytest.raises(ActionRefused):
        proto.check_action("Originate", headers)
    assert proto.in_flight == 0 and proto.next_deadline is None and seen.calls == []


def test_too_many_headers_and_no_name_are_refused() -> None:
    proto, _ = new_protocol()
    headers = [("Variable", f"V{n}=1") for n in range(AMI_MAX_HEADERS - 1)]
    with pytest.raises(ActionRefused, match="129 header lines"):
        proto.send_action("Originate", headers, now=0.0)
    with pytest.raises(ActionRefused, match="needs a name"):
        proto.send_action("", now=0.0)


def test_a_failing_observer_does_not_break_correlation() -> None:
    def broken(action: str, outcome: str, seconds: float) -> None:
        raise RuntimeError("metrics down")

    proto = AmiClientProtocol(on_action_done=broken)
    proto.connection_made()
    proto.receive_data(BANNER, 0.0)
    action_id, _ = proto.send_action("Ping", now=0.0)
    out = feed(proto, response(action_id))
    assert shape(out) == [("done", action_id)]


# ---------------------------------------------------------------- every real transcript


def replay(name: str, split: int = 0) -> tuple[list[Output], set[str], list[Message]]:
    """Plays a capture's actions and received bytes through the protocol in
    capture order (the real read boundaries, or ``split``-byte reads): the
    outputs, the ids of the actions sent, and every message received."""
    fixture = load_ami_fixture(name)
    next_id = [""]
    proto = AmiClientProtocol(action_ids=iter(lambda: next_id[0], None))
    proto.connection_made()
    sent: set[str] = set()
    actions = Parser(expect_banner=False)
    out: list[Output] = []
    for chunk in fixture.chunks:
        if chunk.dir == "sent":
            for msg in actions.feed(chunk.data):
                assert isinstance(msg, Message)
                action_id = msg.action_id
                headers = [(k, v) for k, v in msg.headers[1:] if k.lower() != "actionid"]
                if not action_id or action_id in sent:
                    continue  # sent without an id on purpose: nothing to correlate
                next_id[0] = action_id
                try:
                    proto.send_action(msg.name, headers, now=chunk.t)
                except ActionRefused:
                    continue  # a malformed action a capture sends on purpose
                sent.add(action_id)
        elif chunk.dir == "recv":
            step = split or len(chunk.data)
            for at in range(0, len(chunk.data), step):
                proto.receive_data(chunk.data[at : at + step], chunk.t)
            out += proto.next_events(7)  # not always everything: the FIFO carries on
        elif chunk.dir == "eof":
            proto.receive_data(b"", chunk.t)
    out += proto.next_events()
    received = [m for m in Parser().feed(fixture.recv) if isinstance(m, Message)]
    return out, sent, received


@pytest.mark.parametrize("name", [n for n in ami_fixture_names() if n != "30-event-burst"])
def test_every_capture_correlates_each_answer_once_and_passes_every_other_event(
    name: str,
) -> None:
    out, sent, received = replay(name)
    # Expected from the bytes alone: list answers begun for our actions, the
    # actions answered in full, and every event that is not such a list's part.
    lists = {
        m.action_id
        for m in received
        if m.is_response and m.action_id in sent and (m.get("EventList") or "") == "start"
    }
    answered = {m.action_id for m in received if m.is_response and m.action_id in sent} - lists
    answered |= {
        m.action_id
        for m in received
        if m.is_event and m.action_id in lists and m.name.endswith("Complete")
    }
    events = [m for m in received if m.is_event and m.action_id not in lists]
    done = [o for o in out if isinstance(o, ActionCompleted)]
    assert sorted(o.action_id for o in done) == sorted(answered)  # each once
    assert all(o.result.response.action_id == o.action_id for o in done)
    for o in done:
        if o.action_id in lists:
            items = [m for m in received if m.is_event and m.action_id == o.action_id]
            assert o.result.events == items[:-1] and o.result.complete == items[-1]
    assert [o.message for o in out if isinstance(o, EventReceived)] == events
    closed = load_ami_fixture(name).closed_by_asterisk
    assert isinstance(out[-1], LinkLost) is closed
    failed = {o.action_id for o in out if isinstance(o, ActionFailed)}
    assert failed == (sent - answered if closed else set())


@pytest.mark.parametrize("split", [1, 5, 97])
def test_read_boundaries_change_nothing(split: int) -> None:
    name = "14-status"
    assert replay(name, split) == replay(name)


# ---------------------------------------------------------------- strangers, splits


def test_an_answer_for_an_unknown_id_is_dropped_and_disturbs_nothing() -> None:
    proto, seen = new_protocol()
    ours, _ = proto.send_action("Getvar", now=0.0, timeout=5.0)
    listing, _ = proto.send_action("Status", now=0.0, timeout=5.0)
    stranger = (
        # Answers to ids this client never sent (another client's, or garbage),
        # one of them a whole list answer, and a response with no id at all.
        response("someone-else", "Success", ("Value", "x"))
        + response("tg-999", "Success", ("EventList", "start"))
        + event("Status", ("ActionID", "tg-999"), ("Channel", "PJSIP/9-1"))
        + event("StatusComplete", ("ActionID", "tg-999"), ("EventList", "Complete"))
        + encode_message([("Response", "Error"), ("Message", "Missing action in request")])
    )
    opened = response(listing, "Success", ("EventList", "start"))
    item = event("Status", ("ActionID", listing), ("Channel", "PJSIP/201-1"))
    done = event("StatusComplete", ("ActionID", listing), ("EventList", "Complete"))
    out = feed(proto, opened + stranger + item + response(ours, "Success", ("Value", "1")) + done)
    # The stranger's list items are ordinary events (nobody here waits for
    # them); its responses go nowhere; our two actions complete, each once.
    assert shape(out) == [
        ("event", "Status"),
        ("event", "StatusComplete"),
        ("done", ours),
        ("done", listing),
    ]
    results = completed(out)
    assert results[ours].result.message == "" and results[ours].result.response.get("Value") == "1"
    assert [e.get("Channel") for e in results[listing].result.events] == ["PJSIP/201-1"]
    assert proto.in_flight == 0 and proto.abandoned == 0
    assert sorted(seen.calls) == [("Getvar", "success", 1.0), ("Status", "success", 1.0)]


def test_a_link_failure_mid_list_fails_the_action_and_hands_out_none_of_its_items() -> None:
    proto, seen = new_protocol()
    listing, _ = proto.send_action("CoreShowChannels", now=0.0, timeout=5.0)
    answer = coreshowchannels_answer().replace(b"a004", listing.encode())
    # The link drops after the third item: the Complete never comes.
    cut = answer.index(b"Event: CoreShowChannel\r\n")
    for _ in range(3):
        cut = answer.index(b"\r\n\r\n", cut) + 4
    proto.receive_data(answer[:cut] + event("Hangup"), 1.0)
    proto.connection_lost("the connection dropped", 1.5)
    out = proto.next_events()
    assert shape(out) == [
        ("event", "Hangup"),
        ("failed", listing),
        ("lost", "the connection dropped"),
    ]
    assert seen.calls == [("CoreShowChannels", "link_lost", 1.5)]
    # A late rest of the list on the next session belongs to nobody: nothing
    # of the old list is taken for the new session's answers.
    proto.connection_made()
    proto.receive_data(BANNER + answer[cut:], 2.0)
    late = proto.next_events()
    assert all(isinstance(o, EventReceived) for o in late)
    assert proto.in_flight == 0


def _split_answer(action_id: str) -> bytes:
    return (
        response(action_id, "Success", ("EventList", "start"), ("Message", "Queue status"))
        + event("QueueParams", ("ActionID", action_id), ("Queue", "support"))
        + event("Newchannel", ("Channel", "PJSIP/201-1"))
        + event("QueueStatusComplete", ("ActionID", action_id), ("EventList", "Complete"))
    )


def test_an_answer_split_in_two_reads_at_every_byte_boundary() -> None:
    whole, _ = new_protocol()
    action_id, _ = whole.send_action("QueueStatus", now=0.0)
    data = _split_answer(action_id)
    expected = feed(whole, data)
    assert shape(expected) == [("event", "Newchannel"), ("done", action_id)]
    for at in range(1, len(data)):
        proto, _ = new_protocol()
        assert proto.send_action("QueueStatus", now=0.0)[0] == action_id
        proto.receive_data(data[:at], 1.0)
        before = proto.next_events()
        # Nothing completes before the last byte of the Complete event came.
        assert ("done", action_id) not in shape(before), at
        proto.receive_data(data[at:], 1.0)
        out = before + proto.next_events()
        assert out == expected, at
        assert proto.in_flight == 0 and proto.session_open, at
