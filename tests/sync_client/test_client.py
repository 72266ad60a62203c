"""The blocking client's surface: the same calls, models and errors as the async one."""

from __future__ import annotations

import pickle

import pytest

from inro_async import (
    APIStatusError,
    AuthenticationError,
    ClientClosedError,
    Contact,
    InroError,
    InvalidArgumentError,
    NotFoundError,
    Organization,
    Page,
    Quota,
)
from inro_async.sync import Client, PortalThreadError
from inro_async.testing import FakeInro
from inro_async.testing.pytest_plugin import TOKEN


def test_me_and_a_page_decode_into_the_same_models(inro: Client, fake: FakeInro) -> None:
    assert isinstance(inro.me(), Organization)
    page = inro.contacts.list(per_page=5)
    assert isinstance(page, Page)
    assert all(isinstance(c, Contact) for c in page.items)
    assert (page.total, page.total_pages) == (100, 20)


def test_request_reaches_any_path_and_decodes(inro: Client) -> None:
    response = inro.request("GET", "/me")
    assert response.status == 200
    assert response.parse(Organization).plan == "pro"


def test_errors_are_the_async_clients_classes(inro: Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        inro.contacts.get(id=99_999)
    assert isinstance(caught.value, APIStatusError)
    assert caught.value.status == 404
    pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - still picklable (Celery)


def test_a_bad_argument_is_refused_before_anything_is_sent(inro: Client, fake: FakeInro) -> None:
    before = len(fake.requests)
    with pytest.raises(InvalidArgumentError):
        inro.contacts.list(per_page=5000)
    with pytest.raises(InvalidArgumentError):
        inro.contacts.iter(concurrency=0)  # a walk checks its arguments when it is made
    assert len(fake.requests) == before


def test_an_unknown_token_is_an_authentication_error(fake: FakeInro) -> None:
    with Client("nobody", base_url=fake.base_url) as inro, pytest.raises(AuthenticationError):
        inro.me()


def test_no_token_is_an_inro_error_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INRO_API_TOKEN", raising=False)
    with pytest.raises(InroError, match="no API token"):
        Client()


def test_the_repr_never_shows_the_token(inro: Client) -> None:
    assert TOKEN not in repr(inro)
    assert "token='***'" in repr(inro)
    assert TOKEN not in repr(inro.contacts)


def test_a_closed_client_raises_client_closed_and_close_twice_is_fine(fake: FakeInro) -> None:
    inro = Client(TOKEN, base_url=fake.base_url)
    copy = inro.with_options(timeout=5)
    inro.me()
    inro.close()
    inro.close()
    assert inro.closed
    assert copy.closed
    before = len(fake.requests)
    for call in (inro.me, copy.me, lambda: inro.contacts.list(), lambda: inro.quota()):
        with pytest.raises(ClientClosedError):
            call()
    assert len(fake.requests) == before
    with pytest.raises(ClientClosedError), inro:
        pass


def test_leaving_with_closes_the_client(fake: FakeInro) -> None:
    with Client(TOKEN, base_url=fake.base_url) as inro:
        inro.me()
    assert inro.closed


def test_with_options_applies_to_the_copy_and_shares_the_governor(
    inro: Client, fake: FakeInro
) -> None:
    dispatched: list[None] = []
    copy = inro.with_options(on_dispatch=lambda: dispatched.append(None))
    copy.me()
    inro.me()
    assert len(dispatched) == 1
    assert copy.governor is inro.governor
    assert copy.base_url == inro.base_url == fake.base_url


def test_quota_reads_the_governors_view(inro: Client) -> None:
    inro.me()
    usage = inro.quota()
    assert [u.quota for u in usage] == list(inro.governor.quotas)
    assert usage[0].used == 1


def test_two_sync_clients_may_share_one_governor(fake: FakeInro) -> None:
    """One portal serves every sync client, so a governor may pace several of them."""
    with Client(TOKEN, base_url=fake.base_url, quotas=[Quota(50, 1)]) as first:
        second = Client(TOKEN, base_url=fake.base_url, governor=first.governor)
        with second:
            first.me()
            second.me()
            assert first.quota()[0].used == 2


def test_a_call_from_a_hook_on_the_portal_raises_instead_of_deadlocking(inro: Client) -> None:
    nested = inro.with_options(on_dispatch=lambda: inro.me() and None)
    with pytest.raises(PortalThreadError, match="portal's own thread") as caught:
        nested.me()
    assert isinstance(caught.value, InroError)


def test_the_session_argument_is_not_taken() -> None:
    with pytest.raises(TypeError):
        Client(TOKEN, session=object())  # type: ignore[call-arg]
