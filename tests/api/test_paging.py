"""The page-token module on its own: tokens round-trip, are refused when
damaged, altered, from another version or made for other filters (quoting
only a short prefix), and a key-ordered walk over a list that changes between
pages returns every item present throughout exactly once."""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass

import pytest
from telgate.v1 import calls_pb2, cdrs_pb2, queues_pb2, supervision_pb2
from telgate_server import errors
from telgate_server.api import paging, validation


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _refusal(request: paging.ListRequest) -> errors.InvalidArgument:
    with pytest.raises(errors.InvalidArgument) as caught:
        paging.read(request)
    return caught.value


def test_a_token_round_trips_with_its_filters_and_any_page_size() -> None:
    first = calls_pb2.ListChannelsRequest(backend="pbx", page_size=5)
    walk = paging.read(first)
    assert (walk.size, walk.after) == (5, None)
    token = walk.token_after(paging.text_key("1733000000.42"))
    # AIP-158: page_size may change between pages; the filters may not.
    for size, expected in ((5, 5), (0, paging.DEFAULT_PAGE_SIZE), (10**6, paging.MAX_PAGE_SIZE)):
        again = paging.read(
            calls_pb2.ListChannelsRequest(backend="pbx", page_size=size, page_token=token)
        )
        assert again.after == b"1733000000.42"
        assert again.size == expected
        assert again.fingerprint == walk.fingerprint
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_number_keys_round_trip_up_to_the_largest_cursor() -> None:
    request = cdrs_pb2.ListCdrsRequest(filter=cdrs_pb2.CdrFilter(caller="201"))
    walk = paging.read(request)
    assert walk.after_number() == 0
    for cursor in (0, 1, 7, paging.MAX_POSITION):
        token = walk.token_after(paging.number_key(cursor))
        request.page_token = token
        assert paging.read(request).after_number() == cursor
    # Number keys sort as their numbers do.
    assert paging.number_key(9) < paging.number_key(10) < paging.number_key(1 << 40)


def test_a_cursor_beyond_any_cdr_or_a_text_key_is_no_cdr_position() -> None:
    request = cdrs_pb2.ListCdrsRequest()
    walk = paging.read(request)
    for key in (paging.number_key(paging.MAX_POSITION + 1), paging.text_key("queue-a"), b""):
        request.page_token = walk.token_after(key)
        with pytest.raises(errors.InvalidArgument) as caught:
            paging.read(request).after_number()
        assert "page_token does not hold a position" in caught.value.message


def test_a_token_used_with_other_filters_is_refused_saying_so() -> None:
    token = paging.read(
        cdrs_pb2.ListCdrsRequest(filter=cdrs_pb2.CdrFilter(caller="201"))
    ).token_after(paging.number_key(4))
    for other in (
        cdrs_pb2.CdrFilter(caller="202"),
        cdrs_pb2.CdrFilter(),
        cdrs_pb2.CdrFilter(caller="201", backends=["pbx"]),
        cdrs_pb2.CdrFilter(caller="201", dispositions=[cdrs_pb2.CDR_DISPOSITION_BUSY]),
    ):
        refusal = _refusal(cdrs_pb2.ListCdrsRequest(filter=other, page_token=token))
        assert "other filters" in refusal.message
        assert refusal.metadata == {"field": "page_token", "problem": "other_filters"}
    # Another backend is another filter.
    channels = paging.read(calls_pb2.ListChannelsRequest(backend="pbx")).token_after(b"1.1")
    refusal = _refusal(calls_pb2.ListChannelsRequest(backend="pbx2", page_token=channels))
    assert "other filters" in refusal.message


def test_a_token_from_another_list_rpc_is_refused() -> None:
    """Same field values, another request type: still another walk."""
    token = paging.read(calls_pb2.ListChannelsRequest(backend="pbx")).token_after(b"q")
    for request in (
        queues_pb2.ListQueuesRequest(backend="pbx", page_token=token),
        supervision_pb2.ListListenSessionsRequest(backend="pbx", page_token=token),
    ):
        assert "other filters (or by another List method)" in _refusal(request).message


def test_a_damaged_or_altered_token_is_refused_quoting_a_short_prefix() -> None:
    request = calls_pb2.ListChannelsRequest(backend="pbx")
    good = paging.read(request).token_after(paging.text_key("1733000000.42"))
    raw = _raw(good)
    flipped = [_token(raw[:i] + bytes([raw[i] ^ 1]) + raw[i + 1 :]) for i in range(len(raw))]
    bad = [
        *flipped,
        good[:-1],
        good[:-4],
        good + "AAAA",
        good[:10] + "!" + good[10:],  # the decoder alone would skip the "!"
        good[:10] + "." + good[10:],
        good.replace("-", "+").replace("_", "/") if "-" in good or "_" in good else good + "+",
        good + "==",
        "garbage",
        "",
        "not base64!",
        "é" * 10,
        "x" * 100_000,
        base64.urlsafe_b64encode(b"o:5").decode(),  # the old offset tokens
        base64.urlsafe_b64encode(b"c:7").decode(),  # the old CDR tokens
    ]
    for token in bad:
        if not token:
            continue
        refusal = _refusal(calls_pb2.ListChannelsRequest(backend="pbx", page_token=token))
        assert refusal.metadata["field"] == "page_token"
        assert "is not a page token this gateway returned" in refusal.message, token
        # At most the first 16 characters of the token are quoted.
        assert token[:16] in refusal.message
        if len(token) > 16:
            assert token[:17] not in refusal.message
        assert len(refusal.message) < 260


def test_a_token_of_another_version_is_refused_as_such() -> None:
    good = paging.read(calls_pb2.ListChannelsRequest()).token_after(b"k")
    body = bytes([paging.VERSION + 1]) + _raw(good)[1:-8]
    # A well-formed envelope (the check holds) of a version this gateway does not know.
    check = hashlib.blake2b(body, digest_size=8, person=b"telgate-page").digest()
    refusal = _refusal(calls_pb2.ListChannelsRequest(page_token=_token(body + check)))
    assert "another version of the gateway's paging" in refusal.message


def test_negative_page_size_is_invalid_argument() -> None:
    refusal = _refusal(queues_pb2.ListQueuesRequest(page_size=-1))
    assert refusal.metadata == {"field": "page_size"}
    assert "must not be negative" in refusal.message


def test_the_longest_token_fits_the_request_field_limit() -> None:
    walk = paging.read(calls_pb2.ListChannelsRequest(backend="b" * 64))
    longest = walk.token_after(paging.text_key("é" * 1000))
    assert len(longest) == paging.MAX_TOKEN_CHARS
    assert validation.LIMITS["*.page_token"].chars >= paging.MAX_TOKEN_CHARS
    assert paging.read(
        calls_pb2.ListChannelsRequest(backend="b" * 64, page_token=longest)
    ).after == paging.text_key("é" * 1000)
    # The longest unique id Asterisk makes (AST_MAX_UNIQUEID) is kept whole.
    assert paging.text_key("1" * 151) == b"1" * 151


def test_long_text_keys_stay_unique() -> None:
    prefix = "p" * paging.TEXT_KEY_PREFIX
    keys = {paging.text_key(prefix + tail) for tail in ("", "a", "b", "a" * 200, "é")}
    assert len(keys) == 5
    assert paging.text_key(prefix) == prefix.encode()
    assert all(len(k) <= paging.MAX_KEY for k in keys)


# -------------------------------------------------------- the walk itself


@dataclass(frozen=True)
class Item:
    id: str


def _walk(live: list[Item], size: int, between: list[tuple[list[Item], list[Item]]]) -> list[str]:
    """Pages through ``live``; before page n, applies ``between[n]`` (added, removed)."""
    seen: list[str] = []
    token = ""
    for n in range(1000):
        if n < len(between):
            added, removed = between[n]
            live[:] = [i for i in live if i not in removed] + added
            random.shuffle(live)  # a live list comes in no particular order
        request = calls_pb2.ListChannelsRequest(page_size=size, page_token=token)
        items, token = paging.page(live, lambda i: paging.text_key(i.id), request)
        assert len(items) <= size
        seen += [i.id for i in items]
        if not token:
            return seen
    raise AssertionError("the walk did not end")


def test_a_walk_over_a_changing_list_neither_skips_nor_repeats() -> None:
    rng = random.Random(13)
    for _ in range(200):
        steady = list({Item(f"s{rng.randrange(10**6):06d}") for _ in range(rng.randrange(40))})
        # Calls that come and go: ids never reused, any of them may sort first or last.
        fresh = iter(Item(f"{rng.choice('aczs')}{n:03d}") for n in range(100))
        churn = [next(fresh) for _ in range(10)]
        live = steady + churn
        between = []
        for _ in range(8):
            gone = rng.sample(churn, 2)
            churn = [i for i in churn if i not in gone] + [next(fresh) for _ in range(3)]
            between.append((churn[-3:], gone))
        size = rng.randrange(1, 8)
        seen = _walk(live, size, between)
        # Each item present throughout: exactly once. Nothing twice.
        for item in steady:
            assert seen.count(item.id) == 1
        assert len(seen) == len(set(seen))


def test_an_empty_list_and_an_exact_fit_end_without_a_token() -> None:
    request = calls_pb2.ListChannelsRequest(page_size=2)
    assert paging.page([], lambda i: paging.text_key(i.id), request) == ([], "")
    two = [Item("b"), Item("a")]
    items, token = paging.page(two, lambda i: paging.text_key(i.id), request)
    assert ([i.id for i in items], token) == (["a", "b"], "")
