"""The token store: where secrets come from, how they are kept and compared,
and how the tokens file is re-read on SIGHUP."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from telgate.v1 import calls_pb2, calls_pb2_grpc
from telgate_server.auth.policy import bearer
from telgate_server.auth.roles import Role
from telgate_server.auth.settings import AuthConfig
from telgate_server.auth.tokens import MAX_TOKEN_LENGTH, TokenStore
from telgate_server.settings_strict import ConfigError
from telgate_server.simulator.server import AmiSimulator

from tests.auth.conftest import running, settings_with

CRM = "crm-token-0123456789abcdef"
WALLBOARD = "wallboard-token-0123456789"


def store(**auth: object) -> TokenStore:
    return TokenStore.from_config(AuthConfig.model_validate(auth))


def test_secret_from_env_file_and_sha256(tmp_path: Path) -> None:
    secret_file = tmp_path / "wallboard.token"
    secret_file.write_text(WALLBOARD + "\n")
    ops = "ops-token-0123456789abcdef"
    tokens = store(
        tokens={
            "crm": {"secret": CRM, "roles": ["calls.control", "events.read"]},
            "wallboard": {"secret_file": str(secret_file), "roles": ["events.read"]},
            "ops": {"sha256": hashlib.sha256(ops.encode()).hexdigest(), "roles": ["admin"]},
        }
    )
    crm = tokens.lookup(CRM)
    assert crm is not None and crm.name == "crm"
    assert crm.roles == {Role.CALLS_CONTROL, Role.EVENTS_READ}
    wallboard = tokens.lookup(WALLBOARD)
    assert wallboard is not None and wallboard.roles == {Role.EVENTS_READ}
    admin = tokens.lookup(ops)
    assert admin is not None and admin.roles == {Role.ADMIN}
    assert tokens.lookup(CRM + "x") is None
    assert tokens.lookup(CRM[:-1]) is None
    assert tokens.lookup("") is None
    assert tokens.lookup("a" * (MAX_TOKEN_LENGTH + 1)) is None


def test_the_store_keeps_no_token_in_clear() -> None:
    tokens = store(tokens={"crm": {"secret": CRM, "roles": ["admin"]}})
    assert CRM.encode() not in pickle.dumps(tokens)


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            {
                "tokens": {
                    "a": {"secret": CRM, "roles": ["admin"]},
                    "b": {"secret": CRM, "roles": ["events.read"]},
                }
            },
            "tokens `a` and `b` have the same secret",
        ),
        (
            {"tokens": {"a": {"secret_file": "/nonexistent/token", "roles": ["admin"]}}},
            "token `a`: cannot read secret_file /nonexistent/token",
        ),
    ],
)
def test_refused_token_sets(auth: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        store(**auth)
    assert message in str(refused.value)
    assert CRM not in str(refused.value)


def test_a_short_secret_file_is_refused(tmp_path: Path) -> None:
    short = tmp_path / "short.token"
    short.write_text("tiny-secret")
    with pytest.raises(ConfigError, match="needs at least 16 characters") as refused:
        store(tokens={"a": {"secret_file": str(short), "roles": ["admin"]}})
    assert "tiny-secret" not in str(refused.value)


def test_tokens_file_and_its_conflicts(tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens.toml"
    tokens_file.write_text(f"[crm]\nsecret = '{CRM}'\nroles = ['calls.control']\n")
    tokens = store(tokens_file=str(tokens_file))
    found = tokens.lookup(CRM)
    assert found is not None and found.roles == {Role.CALLS_CONTROL}
    with pytest.raises(ConfigError, match="token `crm` is defined both"):
        store(
            tokens_file=str(tokens_file),
            tokens={"crm": {"secret": WALLBOARD, "roles": ["admin"]}},
        )
    tokens_file.write_text("[crm]\nsecret = \n")
    with pytest.raises(ConfigError, match="is not valid TOML") as refused:
        store(tokens_file=str(tokens_file))
    assert CRM not in str(refused.value)


@pytest.mark.parametrize(
    ("metadata", "result"),
    [
        ((), None),
        ((("authorization", "Bearer abc"),), "abc"),
        ((("Authorization", "bearer   abc  "),), "abc"),
        ((("authorization", "Token abc"),), "refused"),
        ((("authorization", "Bearer "),), "refused"),
        ((("authorization", "Bearer a"), ("authorization", "Bearer b")), "refused"),
        ((("x-other", "Bearer abc"),), None),
    ],
)
def test_bearer_header(metadata: tuple[tuple[str, str], ...], result: str | None) -> None:
    got = bearer(metadata)
    if result == "refused":
        assert not isinstance(got, str) and got is not None
        assert got.code is grpc.StatusCode.UNAUTHENTICATED
    else:
        assert got == result


async def test_reload_rereads_the_tokens_file(sim: AmiSimulator, tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens.toml"
    tokens_file.write_text(f"[crm]\nsecret = '{CRM}'\nroles = ['events.read']\n")
    gw = await running(settings_with(sim.port, auth={"tokens_file": str(tokens_file)}))
    request = calls_pb2.ListChannelsRequest()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as ch:
            stub = calls_pb2_grpc.CallControlServiceStub(ch)
            await stub.ListChannels(request, metadata=[("authorization", f"Bearer {CRM}")])
            # Rotate: the old token goes, a new one comes.
            tokens_file.write_text(
                f"[wallboard]\nsecret = '{WALLBOARD}'\nroles = ['events.read']\n"
            )
            gw.reload()
            with pytest.raises(grpc.aio.AioRpcError) as gone:
                await stub.ListChannels(request, metadata=[("authorization", f"Bearer {CRM}")])
            assert gone.value.code() is grpc.StatusCode.UNAUTHENTICATED
            await stub.ListChannels(request, metadata=[("authorization", f"Bearer {WALLBOARD}")])
            # A broken file keeps the tokens in force.
            tokens_file.write_text("[wallboard]\nroles = 'x'\n")
            gw.reload()
            await stub.ListChannels(request, metadata=[("authorization", f"Bearer {WALLBOARD}")])
    finally:
        await gw.stop(0)


def test_sighup_rotates_tokens_in_a_running_serve(tmp_path: Path) -> None:
    """`telgate serve` as an operator runs it: SIGHUP re-reads the tokens file."""
    tokens_file = tmp_path / "tokens.toml"
    tokens_file.write_text(f"[crm]\nsecret = '{CRM}'\nroles = ['admin']\n")
    config = tmp_path / "telgate.toml"
    config.write_text(
        f"[server]\nlisten = '127.0.0.1:0'\n[auth]\ntokens_file = '{tokens_file}'\n"
        f"[cdr]\ndata_dir = '{tmp_path / 'cdr'}'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TELGATE_")}
    serve = subprocess.Popen(
        [sys.executable, "-m", "telgate_server.cli", "serve", "--config", str(config)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stderr is not None
        port = 0
        for line in serve.stderr:
            found = re.search(r"listening on \S+ \(port (\d+);", line)
            if found:
                port = int(found.group(1))
                break
        assert port, "serve never said it was listening"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            list_backends = ch.unary_unary(
                "/telgate.v1.BackendService/ListBackends",
                request_serializer=lambda m: m,
                response_deserializer=lambda m: m,
            )

            def accepted(secret: str) -> bool:
                try:
                    list_backends(b"", metadata=(("authorization", f"Bearer {secret}"),), timeout=5)
                except grpc.RpcError as exc:
                    assert exc.code() is grpc.StatusCode.UNAUTHENTICATED
                    return False
                return True

            assert accepted(CRM) and not accepted(WALLBOARD)
            tokens_file.write_text(f"[wallboard]\nsecret = '{WALLBOARD}'\nroles = ['admin']\n")
            serve.send_signal(signal.SIGHUP)
            for _ in range(500):
                if accepted(WALLBOARD):
                    break
                time.sleep(0.01)
            assert accepted(WALLBOARD) and not accepted(CRM)
    finally:
        serve.terminate()
        serve.wait(timeout=10)
