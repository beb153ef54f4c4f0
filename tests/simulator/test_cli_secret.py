"""The simulator's AMI account takes a deployment's secret from the environment."""

from __future__ import annotations

from telgate_server.simulator.cli import LAB_USER, SECRET_VARIABLE, world_from_env
from telgate_server.simulator.world import lab_world


def test_the_lab_secret_unless_the_environment_gives_one() -> None:
    lab = lab_world().users[LAB_USER].secret
    assert world_from_env({}).users[LAB_USER].secret == lab
    assert world_from_env({SECRET_VARIABLE: ""}).users[LAB_USER].secret == lab
    given = world_from_env({SECRET_VARIABLE: "made-for-this-run"})
    assert given.users[LAB_USER].secret == "made-for-this-run"
    # The other lab accounts keep theirs.
    assert given.users["monitor"] == lab_world().users["monitor"]
