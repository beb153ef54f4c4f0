"""The webhook receiver on the gateway's webhook port: every documented event
body accepted in each delivery style, the byte-exact sample requests, field
aliases, CDR webhooks stored as CDRs, and refusals (bad body, wrong password,
disallowed address) answered and counted."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
from telgate.v1 import (
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
)
from telgate_server.app import Gateway
from telgate_server.backends.simotel.dedup import RecentDeliveries

from tests.shared import SIMOTEL_FIXTURES
from tests.simotel.conftest import HOOK_PASSWORD, HOOK_USER, Make
from tests.simotel.test_calls import live, until

HOOKS = SIMOTEL_FIXTURES / "webhooks"
AUTH = (HOOK_USER, HOOK_PASSWORD)


def bodies() -> dict[str, dict[str, Any]]:
    return {
        p.name: json.loads(p.read_text())
        for p in sorted(HOOKS.glob("*.json"))
        if p.name != "_index.json"
    }


def counted(gateway: Gateway, outcome: str) -> float:
    value = gateway.metrics.registry.get_sample_value(
        "telgate_webhook_requests_total", {"backend": "sim", "outcome": outcome}
    )
    return value or 0.0


async def collect(stream: Any, count: int, seen: list[tuple[str, dict[str, str]]]) -> None:
    async for message in stream:
        for event in message.batch.events:
            if event.name.startswith("telgate."):
                continue  # the gateway's own (CDR recorded)
            seen.append((event.name, {f.name: f.value for f in event.fields}))
            if len(seen) >= count:
                return


async def test_every_documented_event_is_accepted_and_published_raw(simotel: Make) -> None:
    env = await simotel()
    events = events_pb2_grpc.EventServiceStub(env.channel)
    stream = events.Subscribe(
        events_pb2.SubscribeRequest(filter=events_pb2.EventFilter(backends=["sim"]))
    )
    names: set[str] = set()
    await live(stream)
    async with httpx.AsyncClient(auth=AUTH) as client:
        for file, body in bodies().items():
            name = file.split(".")[0]
            names.add(name)
            # AutoDialerReport has no event key: Rest style names it in the path.
            url = env.hook_url + ("/autodialerreport" if name == "AutoDialerReport" else "")
            got = await client.post(url, json=body)
            assert got.status_code == 200, (file, got.text)
            assert got.json() == {"ok": 1}
    seen: list[tuple[str, dict[str, str]]] = []
    # Each body's event (Ping's POST is one) in the order sent.
    await asyncio.wait_for(collect(stream, len(bodies()), seen), 30)
    stream.cancel()
    assert names == {name for name, _ in seen}
    fields = dict(zip(bodies(), (f for _, f in seen), strict=True))
    # Aliases: the table's `cuid` also as `unique_id`; Survey's `event` key read.
    assert fields["Survey.json"]["event_name"] == "Survey"
    dialer = bodies()["NewState.dialer.json"]
    assert fields["NewState.dialer.json"]["unique_id"] == dialer["cuid"]
    assert fields["Transfer.json"]["transferer"]


async def test_the_sample_requests_are_accepted_byte_for_byte(simotel: Make) -> None:
    env = await simotel()
    port = env.gateway.webhook_port
    token = base64.b64encode(f"{HOOK_USER}:{HOOK_PASSWORD}".encode()).decode()
    before = counted(env.gateway, "accepted")
    files = sorted((HOOKS / "raw").glob("*.http"))
    for file in files:
        head, _, body = file.read_bytes().partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        method, target, version = lines[0].split(b" ")
        path, sep, query = target.partition(b"?")
        rest = path.rsplit(b"/", 1)[-1] if b"Rest" in file.name.encode() else b""
        new_target = b"/simotel/sim" + (b"/" + rest if rest else b"") + sep + query
        headers = [
            (b"Authorization: Basic " + token.encode())
            if h.lower().startswith(b"authorization:")
            else h
            for h in lines[1:]
        ]
        request = (
            b"\r\n".join([b" ".join([method, new_target, version]), *headers]) + b"\r\n\r\n" + body
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        await writer.drain()
        status = await reader.readline()
        writer.close()
        assert b" 200 " in status, (file.name, status)
    # Four transports carry one NewState: taken once, then repeats (dedup.py).
    assert counted(env.gateway, "accepted") - before == 2  # the Cdr and the NewState
    assert counted(env.gateway, "duplicate") == len(files) - 2 == 3


async def test_cdr_webhooks_become_cdrs_keyed_by_simotels_id(simotel: Make) -> None:
    env = await simotel()
    async with httpx.AsyncClient(auth=AUTH) as client:
        for name in ("Cdr.answered_recorded", "Cdr.local_busy_with_poll", "CdrQueue"):
            body = json.loads((HOOKS / f"{name}.json").read_text())
            # Form-encoded, as versions 2 and 3 send (nested values as JSON).
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
            assert (await client.post(env.hook_url, data=form)).status_code == 200
    cdrs = cdrs_pb2_grpc.CdrServiceStub(env.channel)

    async def three() -> bool:
        return len((await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())).cdrs) == 3

    await until(three, "three CDRs stored")
    by_id = {c.source_id: c for c in (await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())).cdrs}
    answered = by_id["1722590103.8812"]
    # 2024-08-02 09:25:03.114020 in Asia/Tehran (+03:30).
    assert answered.start_time.seconds == 1722578103  # 05:55:03 UTC
    assert answered.duration.seconds == 100 and answered.billable.seconds == 94
    assert answered.recording == "20240802_1722590103.8812.mp3"
    assert answered.direction == cdrs_pb2.CALL_DIRECTION_INBOUND
    busy = by_id["1722590702.8833"]  # keyed by the table's `cuid`
    assert busy.disposition == cdrs_pb2.CDR_DISPOSITION_BUSY
    # A call's stay in one queue: keyed by its id and the queue.
    assert by_id["queue:1722590991.8840:900"].billable.seconds == 62


async def test_refusals_are_answered_and_counted(simotel: Make) -> None:
    env = await simotel()
    async with httpx.AsyncClient() as client:
        bad = await client.post(
            env.hook_url,
            content=b"{not json",
            headers={"Content-Type": "application/json"},
            auth=AUTH,
        )
        assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
        listy = await client.post(env.hook_url, json=[1, 2], auth=AUTH)
        assert listy.status_code == 400
        nameless = await client.post(env.hook_url, json={"exten": "215"}, auth=AUTH)
        assert nameless.status_code == 400 and "no event name" in nameless.json()["error"]
        deep = await client.post(
            env.hook_url,
            content=b'{"a":' * 100_000,
            headers={"Content-Type": "application/json"},
            auth=AUTH,
        )
        assert deep.status_code == 400 and "nested too deeply" in deep.json()["error"]
        wrong = await client.post(env.hook_url, json={"event_name": "Ping"}, auth=(HOOK_USER, "x"))
        assert wrong.status_code == 401
        none = await client.get(env.hook_url, params={"event_name": "Ping"})
        assert none.status_code == 401
    assert counted(env.gateway, "bad_request") == 4
    assert counted(env.gateway, "unauthorized") == 2
    assert counted(env.gateway, "accepted") == 0


async def test_an_address_off_the_allow_list_is_refused(simotel: Make) -> None:
    env = await simotel(backend={"webhook_allow_ips": ["10.0.0.0/8"]})
    async with httpx.AsyncClient(auth=AUTH) as client:
        got = await client.post(env.hook_url, json={"event_name": "Ping"})
    assert got.status_code == 403
    assert counted(env.gateway, "forbidden") == 1
    allowed = await simotel(
        backend={"webhook_allow_ips": ["127.0.0.1"]},
        data_dir=env.gateway.settings.cdr.data_dir.parent / "allowed",
    )
    async with httpx.AsyncClient(auth=AUTH) as client:
        ok = await client.post(allowed.hook_url, json={"event_name": "Ping"})
    assert ok.status_code == 200


async def test_a_repeated_delivery_is_answered_counted_and_published_once(simotel: Make) -> None:
    env = await simotel()
    events = events_pb2_grpc.EventServiceStub(env.channel)
    stream = events.Subscribe(
        events_pb2.SubscribeRequest(filter=events_pb2.EventFilter(backends=["sim"]))
    )
    await live(stream)
    hooks = bodies()
    ringing, idle = hooks["NewState.ringing.json"], hooks["NewState.idle.json"]
    marker = {"event_name": "NewState", "exten": "999", "state": "Unavailable"}
    # A PBX resending the ring; then the same call rings the agent again after
    # an Idle (a queue does): a real event, not a repeat. Pings name nothing.
    sent = [ringing, ringing, idle, ringing, {"event_name": "Ping"}, {"event_name": "Ping"}]
    # A name Simotel may add later: taken and published raw.
    sent.append({"event_name": "SomethingNew", "exten": "", "detail": "x"})
    async with httpx.AsyncClient(auth=AUTH) as client:
        for body in [*sent, marker]:
            got = await client.post(env.hook_url, json=body)
            assert got.status_code == 200 and got.json() == {"ok": 1}
        # G style with the docs' final slash (`<url>/?event_name=…`).
        slash = await client.get(env.hook_url + "/", params={"event_name": "Ping"})
        assert slash.status_code == 200
    seen: list[tuple[str, dict[str, str]]] = []
    await asyncio.wait_for(collect(stream, 8, seen), 30)
    stream.cancel()
    published = [(name, f.get("state", "")) for name, f in seen]
    assert published == [
        ("NewState", "Ringing"),
        ("NewState", "Idle"),
        ("NewState", "Ringing"),
        ("Ping", ""),
        ("Ping", ""),
        ("SomethingNew", ""),
        ("NewState", "Unavailable"),
        ("Ping", ""),
    ]
    assert seen[5][1]["detail"] == "x"
    assert counted(env.gateway, "duplicate") == 1
    assert counted(env.gateway, "accepted") == 8
    # The live channel follows the deliveries taken: ringing again.
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    listed = await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="sim"))
    assert [(c.name, c.state) for c in listed.channels] == [
        ("Simotel/215", common_pb2.CHANNEL_STATE_RINGING)
    ]


def test_repeats_are_remembered_for_the_window_only() -> None:
    recent = RecentDeliveries(window=60, max_subjects=2)
    ring = {"exten": "215", "state": "Ringing", "unique_id": "1.1"}
    assert not recent.repeated("NewState", ring, now=0)
    assert recent.repeated("NewState", ring, now=59)
    # Past the window (from the first delivery taken), the same body is new.
    assert not recent.repeated("NewState", ring, now=61)
    # The oldest subject is forgotten beyond max_subjects.
    assert not recent.repeated("NewState", {"exten": "216", "state": "Idle"}, now=62)
    assert not recent.repeated("NewState", {"exten": "217", "state": "Idle"}, now=63)
    assert not recent.repeated("NewState", ring, now=64)
    assert not RecentDeliveries(window=0).repeated("NewState", ring, now=0)


async def test_a_receiver_with_no_credentials_or_allow_list_refuses_everything(
    simotel: Make,
) -> None:
    env = await simotel(backend={"webhook_username": "", "webhook_password": None})
    async with httpx.AsyncClient() as client:
        got = await client.post(env.hook_url, json={"event_name": "Ping"})
    assert got.status_code == 403 and "no credentials or allow-list" in got.json()["error"]
    assert counted(env.gateway, "forbidden") == 1
    assert counted(env.gateway, "accepted") == 0
    # Opened on purpose by an allow-list of every address.
    opened = await simotel(
        backend={
            "webhook_username": "",
            "webhook_password": None,
            "webhook_allow_ips": ["0.0.0.0/0"],
        },
        data_dir=env.gateway.settings.cdr.data_dir.parent / "opened",
    )
    async with httpx.AsyncClient() as client:
        ok = await client.post(opened.hook_url, json={"event_name": "Ping"})
    assert ok.status_code == 200
