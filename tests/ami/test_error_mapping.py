"""Every `Response: Error` sentence in the transcripts becomes the right
gateway error (and so the right gRPC status), with the PBX's words kept."""

from __future__ import annotations

import grpc
import pytest
from telgate_server import errors
from telgate_server.api.status import code_for
from telgate_server.backends.ami.actions import raise_for
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.queues import AmiQueues

from tests.shared import ami_fixture_names, load_ami_fixture

EXPECTED: dict[str, grpc.StatusCode] = {
    "No such channel": grpc.StatusCode.NOT_FOUND,
    "Permission denied": grpc.StatusCode.PERMISSION_DENIED,
    "Extension does not exist.": grpc.StatusCode.NOT_FOUND,
    "Channel not specified": grpc.StatusCode.INVALID_ARGUMENT,
    "No channel specified": grpc.StatusCode.INVALID_ARGUMENT,
    "Control not specified": grpc.StatusCode.INVALID_ARGUMENT,
    "'Queue' not specified.": grpc.StatusCode.INVALID_ARGUMENT,
    "Missing action in request": grpc.StatusCode.INVALID_ARGUMENT,
    "Originate with 'Exten' requires 'Context' and 'Priority'": grpc.StatusCode.INVALID_ARGUMENT,
    "Unknown control type": grpc.StatusCode.FAILED_PRECONDITION,
    "Originate failed": grpc.StatusCode.FAILED_PRECONDITION,
    "Authentication failed": grpc.StatusCode.FAILED_PRECONDITION,
    "No variable specified": grpc.StatusCode.INVALID_ARGUMENT,
    "No command provided": grpc.StatusCode.INVALID_ARGUMENT,
}
QUEUE_ERRORS: dict[str, grpc.StatusCode] = {
    "Unable to add interface: Already there": grpc.StatusCode.ALREADY_EXISTS,
    "Unable to add interface to queue: No such queue": grpc.StatusCode.NOT_FOUND,
    "Unable to remove interface: Not there": grpc.StatusCode.NOT_FOUND,
    "Interface not found": grpc.StatusCode.NOT_FOUND,
}


def _errors_in_transcripts() -> dict[str, Message]:
    found: dict[str, Message] = {}
    for name in ami_fixture_names():
        for msg in Parser().feed(load_ami_fixture(name).recv):
            if isinstance(msg, Message) and msg.is_response and msg.name == "Error":
                found.setdefault(msg.get("Message") or "", msg)
    return found


def test_the_transcripts_hold_these_sentences() -> None:
    seen = set(_errors_in_transcripts())
    assert set(EXPECTED) <= seen
    assert set(QUEUE_ERRORS) <= seen


@pytest.mark.parametrize(("text", "code"), sorted(EXPECTED.items()))
def test_action_errors_map_to_status(text: str, code: grpc.StatusCode) -> None:
    response = Message([("Response", "Error"), ("ActionID", "x"), ("Message", text)])
    with pytest.raises(errors.GatewayError) as info:
        raise_for(response, backend="pbx", action="Act")
    assert code_for(info.value) == code
    assert text in info.value.message
    assert info.value.metadata["pbx_message"] == text


@pytest.mark.parametrize(("text", "code"), sorted(QUEUE_ERRORS.items()))
def test_queue_errors_map_to_status(text: str, code: grpc.StatusCode) -> None:
    response = Message([("Response", "Error"), ("ActionID", "x"), ("Message", text)])
    queues = AmiQueues("pbx", None)  # type: ignore[arg-type]
    with pytest.raises(errors.GatewayError) as info:
        queues._raise(response, "QueueAdd", "support", "Local/203@phones/n")
    assert code_for(info.value) == code
    assert text in info.value.message


def test_success_is_not_an_error() -> None:
    raise_for(Message([("Response", "Success")]), backend="pbx", action="Ping")


def test_a_pbx_sentence_repeating_a_long_input_is_quoted_short() -> None:
    # Redirect answers `Channel does not exist: <name>` with the 255-character
    # name the caller sent; the error showed all of it.
    name = "PJSIP/" + "x" * 249
    response = Message(
        [("Response", "Error"), ("ActionID", "x"), ("Message", f"Channel does not exist: {name}")]
    )
    with pytest.raises(errors.NotFound) as info:
        raise_for(response, backend="pbx", action="Redirect", subject="named 'PJSIP/x'")
    assert "x" * 41 not in info.value.message
    assert "x" * 41 not in info.value.metadata["pbx_message"]
    assert "(279 characters)" in info.value.message
    queues = AmiQueues("pbx", None)  # type: ignore[arg-type]
    response = Message([("Response", "Error"), ("ActionID", "x"), ("Message", "Q" * 300)])
    with pytest.raises(errors.GatewayError) as failed:
        queues._raise(response, "QueueAdd", "support", "Local/203@phones/n")
    assert "Q" * 65 not in failed.value.message
