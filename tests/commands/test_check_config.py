"""`telgate check-config`: validation, then every backend link tested, with
what failed said in plain words and the right exit status."""

from __future__ import annotations

from pathlib import Path

from tests.auth.cli import run_cli
from tests.commands.conftest import SIM_SECRET, write_config
from tests.lab import free_port


def check(config: Path, secret: str, *extra: str) -> tuple[int, str, str]:
    result = run_cli(
        "check-config", "--config", str(config), *extra,
        env={"TELGATE_BACKENDS__PBX__SECRET": secret},
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def test_a_reachable_backend_passes_every_step(simulator: int, tmp_path: Path) -> None:
    config = write_config(tmp_path / "t.toml", simulator, free_port())
    code, out, err = check(config, SIM_SECRET)
    assert code == 0, out + err
    assert f"backend pbx (ami, 127.0.0.1:{simulator}):" in out
    assert "ok     link: up" in out
    assert "ok     ping: Pong from Asterisk" in out
    assert f"ok     cdr store: writable: {tmp_path / 'data' / 'cdrs.sqlite3'}" in out
    assert out.rstrip().endswith("all 3 checks passed")
    # Not a terminal: no colours, no progress lines.
    assert "\033[" not in out + err


def test_a_wrong_secret_is_a_refused_login_and_never_printed(
    simulator: int, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "t.toml", simulator, free_port())
    code, out, err = check(config, "a-wrong-secret-1234")
    assert code == 1, out + err
    assert "FAILED link: auth_failed" in out
    assert "the PBX refused the login of user 'telgate'" in out
    assert "ping" not in out
    assert "1 of 2 checks failed" in out
    assert "a-wrong-secret-1234" not in out + err


def test_nothing_listening_is_said_plainly(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path / "t.toml", port, free_port())
    code, out, err = check(config, SIM_SECRET, "--timeout", "5")
    assert code == 1, out + err
    assert f"FAILED link: down (127.0.0.1:{port}): could not connect to 127.0.0.1:{port}" in out
    assert "Connection refused" in out


def test_no_connect_only_validates(tmp_path: Path) -> None:
    config = write_config(tmp_path / "t.toml", free_port(), free_port())
    code, out, err = check(config, SIM_SECRET, "--no-connect")
    assert code == 0, out + err
    assert "backend pbx" not in out
    assert "backend links not tested (--no-connect)" in out


def test_an_unknown_backend_name_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path / "t.toml", free_port(), free_port())
    code, _out, err = check(config, SIM_SECRET, "--backend", "nope")
    assert code == 2
    assert "no backend named nope in the configuration (configured: pbx)" in err


def test_an_invalid_configuration_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path / "t.toml", free_port(), free_port())
    config.write_text(config.read_text() + "[server.extra]\n")
    code, out, err = check(config, SIM_SECRET)
    assert code == 2
    assert "INVALID" in out
    assert "unknown key `server.extra`" in err


def test_a_data_dir_that_cannot_be_made_fails_the_store_step(
    simulator: int, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    config = write_config(tmp_path / "t.toml", simulator, free_port())
    config.write_text(config.read_text().replace(str(tmp_path / "data"), str(blocker / "data")))
    code, out, err = check(config, SIM_SECRET, "--no-connect")
    assert code == 1, out + err
    assert f"FAILED cdr store: {blocker} is not a directory" in out
