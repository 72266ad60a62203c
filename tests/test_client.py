"""The Client: token handling, configuration, lifecycle, resources."""

from __future__ import annotations

import importlib.metadata
import logging
import tomllib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from resources._mock import BASE_URL, TOKEN, MockAPI, answer

import inro_async
from inro_async import InroError, InternalServerError, InvalidArgumentError, NotFoundError, Quota
from inro_async._http import AiohttpBackend
from inro_async.client import BASE_URL_ENV, TOKEN_ENV, Client
from inro_async.governor.local import LocalGovernor
from inro_async.models.organization import Organization
from inro_async.testing import FakeInro

ME = {"id": 1, "name": "Acme Studio", "instagram_username": "acme.studio", "plan": "pro"}


async def test_me_returns_the_organization() -> None:
    api = MockAPI()
    api.on("GET", "/me", answer(200, ME))
    async with api.client() as inro:
        org = await inro.me()
    assert org == Organization(
        id=1, name="Acme Studio", instagram_username="acme.studio", plan="pro"
    )
    assert api.requests[0].url == f"{BASE_URL}/me"


async def test_token_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "tok_from_env")
    api = MockAPI()
    api.on("GET", "/me", answer(200, ME))
    async with Client(base_url=BASE_URL, backend=api.backend) as inro:
        await inro.me()
    assert api.requests[0].headers["Authorization"] == "Bearer tok_from_env"


async def test_base_url_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASE_URL_ENV, "http://127.0.0.1:9/api/v1/")
    async with Client(token=TOKEN) as inro:
        assert inro.base_url == "http://127.0.0.1:9/api/v1"


def test_a_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(InroError, match="INRO_API_TOKEN"):
        Client()


@pytest.mark.parametrize("from_env", [False, True])
async def test_whitespace_around_the_token_is_stripped(
    inro_server: FakeInro, monkeypatch: pytest.MonkeyPatch, from_env: bool
) -> None:
    # Path("token.txt").read_text() keeps the trailing newline; a header cannot carry it.
    padded = f"  {inro_server.token}\r\n"
    if from_env:
        monkeypatch.setenv(TOKEN_ENV, padded)
    async with Client(token=None if from_env else padded, base_url=inro_server.base_url) as inro:
        org = await inro.me()
    assert org.name


_INNER_BAD = ["tok en", "tok\nen", "tok\ten", "tok\x7fen", "tok\u2028en"]


@pytest.mark.parametrize(
    ("bad", "from_env"),
    [(bad, False) for bad in [*_INNER_BAD, "tok\x00en"]] + [(bad, True) for bad in _INNER_BAD],
)
def test_a_token_with_whitespace_or_control_characters_inside_is_rejected_unseen(
    monkeypatch: pytest.MonkeyPatch, bad: str, from_env: bool
) -> None:
    secret = bad.replace("tok", "SECRETtok")
    if from_env:
        monkeypatch.setenv(TOKEN_ENV, secret)
    with pytest.raises(InvalidArgumentError) as caught:
        Client(token=None if from_env else secret)
    assert caught.value.argument == (TOKEN_ENV if from_env else "token")
    assert "SECRET" not in str(caught.value)
    assert "SECRET" not in repr(caught.value.args)


@pytest.mark.parametrize("blank", ["", " \n"])
def test_a_blank_token_is_a_missing_token(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    monkeypatch.setenv(TOKEN_ENV, blank)
    with pytest.raises(InroError, match="no API token"):
        Client()
    with pytest.raises(InroError, match="no API token"):
        Client(token=blank)


@pytest.mark.parametrize(
    "base_url",
    [
        "api.inro.social/api/v1",
        "ftp://api.inro.social/api/v1",
        "https:///api/v1",
        "http://h/v1?a=1",
    ],
)
def test_a_base_url_that_is_not_an_http_url_is_refused_up_front(base_url: str) -> None:
    with pytest.raises(InvalidArgumentError, match="base_url: must be an http"):
        Client("t", base_url=base_url)


def test_a_base_url_keeps_its_spelling_less_a_trailing_slash() -> None:
    assert Client("t", base_url=" http://127.0.0.1:8080/api/v1/ ").base_url == (
        "http://127.0.0.1:8080/api/v1"
    )


NAN = float("nan")


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("max_retries", -1),
        ("max_retries", 1.5),
        ("max_retries", "2"),
        ("max_retries", True),
        ("max_retries", NAN),
        ("timeout", -5),
        ("timeout", 0),
        ("timeout", "5"),
        ("timeout", NAN),
        ("timeout", float("inf")),  # aiohttp: OverflowError on the first request; None says it
        ("timeout", True),
        ("max_wait", -1),
        ("max_wait", "x"),
        ("max_wait", NAN),
        ("max_response_bytes", NAN),
    ],
)
def test_a_bad_setting_is_an_invalid_argument_error_naming_it(argument: str, value: Any) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        Client(token=TOKEN, **{argument: value})  # type: ignore[arg-type]
    assert caught.value.argument == argument
    assert isinstance(caught.value, ValueError)
    with pytest.raises(InvalidArgumentError, match=f"^{argument}: "):
        Client(token=TOKEN).with_options(**{argument: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("priority", "high"),
        ("priority", NAN),
        ("priority", 1.5),
        ("on_dispatch", 5),
        ("on_no_effect", "print"),
    ],
)
def test_a_bad_per_call_setting_is_an_invalid_argument_error_naming_it(
    argument: str, value: Any
) -> None:
    with pytest.raises(InvalidArgumentError, match=f"^{argument}: "):
        Client(token=TOKEN).with_options(**{argument: value})


@pytest.mark.parametrize(("argument", "value"), [("token", 5), ("base_url", 5)])
def test_a_token_or_base_url_that_is_not_text_is_refused_naming_it(
    argument: str, value: Any
) -> None:
    with pytest.raises(InvalidArgumentError, match=f"^{argument}: "):
        Client(**{"token": TOKEN, argument: value})


def test_quotas_and_governor_are_exclusive() -> None:
    with pytest.raises(InroError, match="not both"):
        Client(token=TOKEN, quotas=[Quota(1, 1)], governor=LocalGovernor())


async def test_the_token_never_appears_in_the_repr_of_the_client_or_its_parts() -> None:
    async with Client(token=TOKEN) as inro:
        for text in (repr(inro), str(inro), repr(inro._transport), repr(inro.contacts)):
            assert TOKEN not in text
        assert "***" in repr(inro)


async def test_the_token_never_appears_in_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    api = MockAPI()
    api.on("GET", "/me", answer(500, {"error": "boom"}))
    caplog.set_level(logging.DEBUG)
    async with api.client() as inro:
        with pytest.raises(InternalServerError) as caught:
            await inro.me()
    assert TOKEN not in caplog.text
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)


async def test_with_options_shares_the_transport_and_overrides_per_call_settings() -> None:
    api = MockAPI()
    api.on("GET", "/me", answer(500, {"error": "boom"}))
    async with api.client() as inro:
        quick = inro.with_options(max_retries=0, timeout=1.5)
        assert quick.governor is inro.governor
        with pytest.raises(InternalServerError):
            await quick.me()
        assert len(api.requests) == 1
        assert api.requests[0].timeout == 1.5
        assert quick.contacts is not inro.contacts


async def test_resources_are_created_once_per_client() -> None:
    async with Client(token=TOKEN) as inro:
        assert inro.contacts is inro.contacts
        names = [
            "contacts",
            "batch_tasks",
            "folders",
            "contact_properties",
            "messages",
            "medias",
            "media_files",
        ]
        for name in names:
            assert type(getattr(inro, name)).__name__.lower().replace("_", "") == name.replace(
                "_", ""
            )


async def test_a_shared_session_is_left_open() -> None:
    async with aiohttp.ClientSession() as session:
        async with Client(token=TOKEN, session=session):
            pass
        assert not session.closed


async def test_a_shared_session_that_raises_for_status_still_gets_the_sdk_errors(
    inro_server: FakeInro,
) -> None:
    # raise_for_status=True is a common app default; the SDK's statuses must not become
    # connection errors (and a 404 must not be retried like one).
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        inro = Client(token=inro_server.token, base_url=inro_server.base_url, session=session)
        with pytest.raises(NotFoundError):
            await inro.contacts.get(id=999_999)
        await inro.aclose()
    assert len(inro_server.requests_to("contacts.get")) == 1


async def test_an_own_session_is_closed_on_exit() -> None:
    async with Client(token=TOKEN) as inro:
        backend = inro._transport.backend
        assert isinstance(backend, AiohttpBackend)
        session = backend.session
    assert session.closed


async def test_request_reaches_any_path_with_auth_and_parses() -> None:
    api = MockAPI()
    api.on("GET", "/anything", answer(200, {"ok": True}))
    async with api.client() as inro:
        response = await inro.request("get", "/anything", params={"q": "x"})
    assert response.json() == {"ok": True}
    assert response.status == 200
    assert api.requests[0].params == [("q", "x")]


# -- the version, in one place ------------------------------------------------------------------


def test_the_package_version_is_the_installed_distributions() -> None:
    assert inro_async.__version__ == importlib.metadata.version("inro-async")


def test_pyproject_reads_the_version_from_the_package_instead_of_repeating_it() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "inro_async._version.__version__"}


async def test_the_user_agent_carries_the_package_version() -> None:
    api = MockAPI()
    api.on("GET", "/me", answer(200, ME))
    async with api.client() as inro:
        await inro.me()
    user_agent = api.requests[0].headers["User-Agent"]
    assert user_agent.startswith(f"inro-async/{inro_async.__version__} aiohttp/")
