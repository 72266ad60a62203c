"""Request options: "inherit" and "none" are different values, and the dispatch hook's contract."""

from __future__ import annotations

import pytest
from resources._mock import BASE_URL, FAST_RETRIES, TOKEN, MockAPI, answer

from inro_async import Client, InvalidArgumentError
from inro_async._http import HTTPRequest, HTTPResult, SendError
from inro_async._transport import USE_CLIENT_DEFAULT, RequestOptions
from inro_async.governor import LocalGovernor, Permit, Quota


async def test_with_options_timeout_none_turns_the_timeout_off() -> None:
    api = MockAPI()
    api.on("GET", "/me", answer(200, {"id": 1, "name": "Acme"}))
    async with api.client(timeout=30) as inro:
        await inro.me()
        await inro.with_options(timeout=None).me()
        await inro.with_options(max_retries=0).me()  # timeout left out: the client's 30 s
    assert [request.timeout for request in api.requests] == [30, None, 30]


async def test_a_copy_of_a_copy_keeps_what_the_first_copy_set() -> None:
    api = MockAPI()
    api.on("GET", "/me", answer(200, {"id": 1, "name": "Acme"}))
    async with api.client(timeout=30) as inro:
        await inro.with_options(timeout=None).with_options(max_retries=0).me()
    assert [request.timeout for request in api.requests] == [None]


def test_unset_options_are_the_sentinel_not_none() -> None:
    options = RequestOptions()
    assert options.timeout is USE_CLIENT_DEFAULT
    assert repr(USE_CLIENT_DEFAULT) == "USE_CLIENT_DEFAULT"
    with pytest.raises(InvalidArgumentError, match="timeout"):
        RequestOptions(timeout=0)


async def test_on_dispatch_runs_once_per_attempt_after_the_slot_and_before_the_send() -> None:
    events: list[str] = []
    api = MockAPI()
    attempts = iter([SendError("reset", sent=True), None])

    def flaky(request: HTTPRequest) -> HTTPResult:
        events.append("sent")
        error = next(attempts)
        if error is not None:
            raise error
        return answer(200, {"id": 1, "name": "Acme"})

    api.on("GET", "/me", flaky)
    async with api.client(max_retries=FAST_RETRIES) as inro:
        await inro.with_options(on_dispatch=lambda: events.append("dispatched")).me()
    assert events == ["dispatched", "sent", "dispatched", "sent"]


async def test_a_dispatch_hook_that_raises_stops_the_request_before_it_is_sent() -> None:
    api = MockAPI()
    api.on("GET", "/me", answer(200, {"id": 1, "name": "Acme"}))

    def refuse() -> None:
        raise RuntimeError("journal is full")

    async with api.client() as inro:
        with pytest.raises(RuntimeError, match="journal is full"):
            await inro.with_options(on_dispatch=refuse).me()
    assert api.requests == []


async def test_the_transport_hands_the_permit_back_with_the_answer() -> None:
    seen: list[Permit | None] = []

    class Recording(LocalGovernor):
        async def observe(self, status, headers, *, permit=None, elapsed=None):  # type: ignore[no-untyped-def]
            seen.append(permit)
            await super().observe(status, headers, permit=permit, elapsed=elapsed)

    governor = Recording([Quota(100, 1)])
    api = MockAPI()
    api.on("GET", "/me", answer(200, {"id": 1, "name": "Acme"}))
    inro = Client(token=TOKEN, base_url=BASE_URL, backend=api.backend, governor=governor)
    async with inro:
        await inro.me()
    (permit,) = seen
    assert isinstance(permit, Permit)
    assert permit.queued == 0.0
    assert governor.dispatched == 1
