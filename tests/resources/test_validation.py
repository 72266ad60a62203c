"""Invalid arguments raise InvalidArgumentError before anything is sent (no quota spent)."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from inro_async import InvalidArgumentError
from inro_async._routes import ROUTES
from inro_async._transport import Transport
from inro_async.client import Client

from ._mock import MockAPI, answer

Call = Callable[[Client], Awaitable[Any]]

TOO_MANY = list(range(1, 1002))


def case(rule: str, call: Call, argument: str) -> Any:
    """One rule: the call that breaks it and the argument the error must name."""
    return pytest.param(call, argument, id=rule)


CASES = [
    # paging
    case("per_page over 1000", lambda c: c.contacts.list(per_page=1001), "per_page"),
    case("per_page zero", lambda c: c.contacts.list(per_page=0), "per_page"),
    case("per_page not an int", lambda c: c.folders.list(per_page="50"), "per_page"),
    case("page zero", lambda c: c.contacts.list(page=0), "page"),
    case("negative offset", lambda c: c.contacts.list(offset=-1), "offset"),
    case("unknown order column", lambda c: c.contacts.list(order_column="age"), "order_column"),
    case(
        "unknown direction",
        lambda c: c.contacts.search("a", order_direction="up"),
        "order_direction",
    ),
    # identifiers
    case("get without identifier", lambda c: c.contacts.get(), "id/username/email"),
    case(
        "get with two identifiers",
        lambda c: c.contacts.get(id=1, username="jane"),
        "id/username/email",
    ),
    case("username with @", lambda c: c.contacts.get(username="@jane"), "username"),
    case("email without @", lambda c: c.contacts.get(email="jane"), "email"),
    case("id not positive", lambda c: c.contacts.get(id=0), "id"),
    case(
        "update_by without identifier",
        lambda c: c.contacts.update_by(phone="+1"),
        "id/username/email",
    ),
    case("contact id not an int", lambda c: c.contacts.update("7", phone="+1"), "contact_id"),
    # contact updates
    case("update with nothing to change", lambda c: c.contacts.update(1), "contact"),
    case(
        "update with an unknown key",
        lambda c: c.contacts.update(1, contact={"nickname": "j"}),
        "contact.nickname",
    ),
    case(
        "update with a bad status", lambda c: c.contacts.update(1, status="gone"), "contact.status"
    ),
    case(
        "update with bad folder ids",
        lambda c: c.contacts.update(1, folder_ids=[1, -2]),
        "contact.folder_ids[1]",
    ),
    case(
        "update with contact= and keywords",
        lambda c: c.contacts.update(1, contact={"phone": "1"}, notes="x"),
        "contact",
    ),
    case("bulk with no entries", lambda c: c.contacts.bulk_update([]), "entries"),
    case(
        "bulk with 1001 entries",
        lambda c: c.contacts.bulk_update([{"id": i, "contact": {"notes": "x"}} for i in TOO_MANY]),
        "entries",
    ),
    case(
        "bulk entry with two identifiers",
        lambda c: c.contacts.bulk_update(
            [
                {"id": 1, "contact": {"notes": "a"}},
                {"id": 2, "email": "a@b.c", "contact": {"notes": "b"}},
            ]
        ),
        "entries[1].id/username/email",
    ),
    case(
        "bulk entry without identifier",
        lambda c: c.contacts.bulk_update([{"contact": {"notes": "a"}}]),
        "entries[0].id/username/email",
    ),
    case("bulk entry without contact", lambda c: c.contacts.bulk_update([{"id": 1}]), "entries[0]"),
    case("search without a query", lambda c: c.contacts.search(""), "query"),
    case("filter without filters", lambda c: c.contacts.filter([]), "filters"),
    case(
        "filter with bad logic",
        lambda c: c.contacts.filter([{"filter_type": "status", "value": "active"}], "xor"),
        "filter_logic",
    ),
    case(
        "custom property filter without slug",
        lambda c: c.contacts.filter([{"filter_type": "custom_property", "value": 1}]),
        "filters[0].property",
    ),
    # messages: recipients
    case("no recipient", lambda c: c.messages.send(text="hi"), "recipients"),
    case(
        "two singular recipients",
        lambda c: c.messages.send(contact_id=1, contact_email="a@b.c", text="hi"),
        "contact_id, contact_email",
    ),
    case(
        "singular mixed with plural",
        lambda c: c.messages.send(contact_id=1, contact_ids=[2], text="hi"),
        "contact_id / contact_ids",
    ),
    case(
        "1001 recipients", lambda c: c.messages.send(contact_ids=TOO_MANY, text="hi"), "recipients"
    ),
    case(
        "1001 recipients across lists",
        lambda c: c.messages.send(
            contact_ids=TOO_MANY[:600], contact_usernames=[f"u{i}" for i in range(401)], text="hi"
        ),
        "recipients",
    ),
    case(
        "empty recipient lists", lambda c: c.messages.send(contact_ids=[], text="hi"), "recipients"
    ),
    case(
        "a recipient list given as a string",
        lambda c: c.messages.send(contact_usernames="jane", text="hi"),
        "contact_usernames",
    ),
    case(
        "a bad id in a list",
        lambda c: c.messages.send(contact_ids=[1, 0], text="hi"),
        "contact_ids[1]",
    ),
    case(
        "a bool among ids",
        lambda c: c.messages.send(contact_ids=[1, 2, True], text="hi"),
        "contact_ids[2]",
    ),
    case(
        "a bad email in a list",
        lambda c: c.messages.send(contact_emails=["a@b.c", "nope"], text="hi"),
        "contact_emails[1]",
    ),
    # messages: content
    case("text message without text", lambda c: c.messages.send(contact_id=1), "text"),
    case("blank text", lambda c: c.messages.send(contact_id=1, text="  "), "text"),
    case(
        "unknown message type",
        lambda c: c.messages.send(contact_id=1, text="x", message_type="gif"),
        "message_type",
    ),
    case(
        "media field not matching the type",
        lambda c: c.messages.send(contact_id=1, video="https://x.test/a.mp4", message_type="image"),
        "message_type",
    ),
    case(
        "media type without its field",
        lambda c: c.messages.send(contact_id=1, message_type="audio"),
        "audio",
    ),
    case(
        "two media",
        lambda c: c.messages.send(
            contact_id=1, image="https://x.test/a.png", video="https://x.test/a.mp4"
        ),
        "image/video",
    ),
    case(
        "share without media_id",
        lambda c: c.messages.send(contact_id=1, message_type="share"),
        "media_id",
    ),
    case(
        "media_id on a text message",
        lambda c: c.messages.send(contact_id=1, text="x", media_id=5, message_type="text"),
        "media_id",
    ),
    case(
        "media URL that is not http",
        lambda c: c.messages.send(contact_id=1, image="ftp://x.test/a.png"),
        "image",
    ),
    case(
        "media as a path string",
        lambda c: c.messages.send(contact_id=1, image="photo.jpg"),
        "image",
    ),
    case(
        "media from a missing file",
        lambda c: c.messages.send(contact_id=1, image=Path("/nonexistent/a.png")),
        "image",
    ),
    case(
        "media from a text-mode file",
        lambda c: c.messages.send(contact_id=1, image=io.StringIO("x")),
        "image",
    ),
    case("empty media bytes", lambda c: c.messages.send(contact_id=1, audio=b""), "audio"),
    # folders
    case("folder with an unknown colour", lambda c: c.folders.create("VIP", color="teal"), "color"),
    case("folder without a name", lambda c: c.folders.create(""), "name"),
    case("folder update with nothing", lambda c: c.folders.update(1), "name/color"),
    case(
        "adding 1001 contacts to a folder",
        lambda c: c.folders.add_contacts(1, TOO_MANY),
        "contact_ids",
    ),
    case("removing no contacts", lambda c: c.folders.remove_contacts(1, []), "contact_ids"),
    # contact properties
    case(
        "unknown property type",
        lambda c: c.contact_properties.create("Plan", property_type="enum"),
        "property_type",
    ),
    case(
        "choice property without choices",
        lambda c: c.contact_properties.create("Plan", property_type="single_choice"),
        "choices",
    ),
    case(
        "choice property with empty choices",
        lambda c: c.contact_properties.create("Plan", property_type="multiple_choice", choices=[]),
        "choices",
    ),
    case(
        "blank choice",
        lambda c: c.contact_properties.create(
            "Plan", property_type="single_choice", choices=["a", ""]
        ),
        "choices[1]",
    ),
    case("property update with nothing", lambda c: c.contact_properties.update("plan"), "update"),
    case("property without a slug", lambda c: c.contact_properties.delete(""), "slug"),
    # media files and batch tasks
    case("unknown media file type", lambda c: c.media_files.list(media_type="pdf"), "media_type"),
    case(
        "media file from a non-URL",
        lambda c: c.media_files.create_from_url("file:///etc/passwd"),
        "file_url",
    ),
    case("upload of a path string", lambda c: c.media_files.upload("a.png"), "file"),
    case("batch task without an id", lambda c: c.batch_tasks.get(""), "task_id"),
    case(
        "wait with a zero poll interval",
        lambda c: c.batch_tasks.wait("bt_1", poll_interval=0),
        "poll_interval",
    ),
]


@pytest.mark.parametrize(("call", "argument"), CASES)
async def test_invalid_arguments_raise_before_any_request(
    api: MockAPI, client: Client, call: Call, argument: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await call(client)
    assert caught.value.argument == argument
    assert isinstance(caught.value, ValueError)
    assert api.requests == []


@pytest.mark.parametrize(
    "walk",
    [
        lambda c: c.contacts.iter(per_page=1001),
        lambda c: c.contacts.iter(concurrency=0),
        lambda c: c.contacts.iter_search(""),
        lambda c: c.contacts.iter_filter([]),
        lambda c: c.contacts.iter_messages(0),
        lambda c: c.folders.iter_contacts(1, per_page=5000),
        lambda c: c.media_files.iter(media_type="pdf"),
        lambda c: c.batch_tasks.iter(per_page=0),
    ],
)
async def test_invalid_walks_raise_when_created_not_when_first_iterated(
    api: MockAPI, client: Client, walk: Callable[[Client], object]
) -> None:
    with pytest.raises(InvalidArgumentError):
        walk(client)
    assert api.requests == []


def test_the_error_names_the_argument_and_the_rule() -> None:
    error = InvalidArgumentError("per_page", "must be an integer from 1 to 1000, got 5000")
    assert str(error) == "per_page: must be an integer from 1 to 1000, got 5000"


# -- every list's paging, every walk, every id in a URL path ---------------------------------

LISTS: dict[str, Callable[..., Awaitable[Any]]] = {
    "contacts.list": lambda c, **kw: c.contacts.list(**kw),
    "contacts.search": lambda c, **kw: c.contacts.search("a", **kw),
    "contacts.filter": lambda c, **kw: c.contacts.filter([{"filter_type": "status"}], **kw),
    "contacts.messages": lambda c, **kw: c.contacts.messages(1, **kw),
    "batch_tasks.list": lambda c, **kw: c.batch_tasks.list(**kw),
    "folders.list": lambda c, **kw: c.folders.list(**kw),
    "folders.contacts": lambda c, **kw: c.folders.contacts(1, **kw),
    "contact_properties.list": lambda c, **kw: c.contact_properties.list(**kw),
    "medias.list": lambda c, **kw: c.medias.list(**kw),
    "media_files.list": lambda c, **kw: c.media_files.list(**kw),
    "scenarios.list": lambda c, **kw: c.scenarios.list(**kw),
    "campaigns.list": lambda c, **kw: c.campaigns.list(**kw),
    "segments.list": lambda c, **kw: c.segments.list(**kw),
    "executions.list": lambda c, **kw: c.executions.list(**kw),
}
BAD_PAGING = [
    ("page", 0),
    ("page", -1),
    ("page", True),
    ("page", "2"),
    ("per_page", 0),
    ("per_page", 1001),
    ("per_page", 5000),
    ("per_page", 2.5),
]

WALKS: dict[str, Callable[..., object]] = {
    "contacts.iter": lambda c, **kw: c.contacts.iter(**kw),
    "contacts.iter_pages": lambda c, **kw: c.contacts.iter_pages(**kw),
    "contacts.iter_search": lambda c, **kw: c.contacts.iter_search("a", **kw),
    "contacts.iter_filter": lambda c, **kw: c.contacts.iter_filter(
        [{"filter_type": "status"}], **kw
    ),
    "contacts.iter_messages": lambda c, **kw: c.contacts.iter_messages(1, **kw),
    "batch_tasks.iter": lambda c, **kw: c.batch_tasks.iter(**kw),
    "folders.iter": lambda c, **kw: c.folders.iter(**kw),
    "folders.iter_contacts": lambda c, **kw: c.folders.iter_contacts(1, **kw),
    "contact_properties.iter": lambda c, **kw: c.contact_properties.iter(**kw),
    "medias.iter": lambda c, **kw: c.medias.iter(**kw),
    "media_files.iter": lambda c, **kw: c.media_files.iter(**kw),
    "scenarios.iter": lambda c, **kw: c.scenarios.iter(**kw),
    "campaigns.iter": lambda c, **kw: c.campaigns.iter(**kw),
    "segments.iter": lambda c, **kw: c.segments.iter(**kw),
    "executions.iter": lambda c, **kw: c.executions.iter(**kw),
}
BAD_WALKS = [("per_page", 0), ("per_page", 1001), ("concurrency", 0), ("concurrency", 65)]

PATH_IDS: dict[str, tuple[str, Callable[[Client, Any], Awaitable[Any]]]] = {
    "scenarios.get": ("scenario_id", lambda c, v: c.scenarios.get(v)),
    "scenarios.update": ("scenario_id", lambda c, v: c.scenarios.update(v, title="t")),
    "scenarios.trigger": (
        "scenario_id",
        lambda c, v: c.scenarios.trigger(v, contacts=[{"id": 1}]),
    ),
    "scenarios.performance": ("scenario_id", lambda c, v: c.scenarios.performance(v)),
    "campaigns.get": ("campaign_id", lambda c, v: c.campaigns.get(v)),
    "campaigns.update": ("campaign_id", lambda c, v: c.campaigns.update(v, title="t")),
    "campaigns.send": ("campaign_id", lambda c, v: c.campaigns.send(v)),
    "campaigns.test": ("campaign_id", lambda c, v: c.campaigns.test(v, id=1)),
    "campaigns.performance": ("campaign_id", lambda c, v: c.campaigns.performance(v)),
    "campaigns.resend": ("campaign_id", lambda c, v: c.campaigns.resend(v)),
    "segments.get": ("segment_id", lambda c, v: c.segments.get(v)),
    "segments.update": ("segment_id", lambda c, v: c.segments.update(v, title="t")),
    "segments.delete": ("segment_id", lambda c, v: c.segments.delete(v)),
    "executions.get": ("execution_id", lambda c, v: c.executions.get("scenario", v)),
    "executions.retry": ("execution_id", lambda c, v: c.executions.retry("campaign", v)),
    "contacts.update": ("contact_id", lambda c, v: c.contacts.update(v, notes="n")),
    "contacts.messages": ("contact_id", lambda c, v: c.contacts.messages(v)),
    "folders.update": ("folder_id", lambda c, v: c.folders.update(v, name="n")),
    "folders.delete": ("folder_id", lambda c, v: c.folders.delete(v)),
    "folders.contacts": ("folder_id", lambda c, v: c.folders.contacts(v)),
    "folders.add_contacts": ("folder_id", lambda c, v: c.folders.add_contacts(v, [1])),
    "folders.remove_contacts": ("folder_id", lambda c, v: c.folders.remove_contacts(v, [1])),
    "media_files.get": ("media_file_id", lambda c, v: c.media_files.get(v)),
}
BAD_IDS = [None, 0, -3, True, "7", 1.5]
BAD_TASK_IDS = [None, 7, "", "   ", b"bt_1"]


@pytest.fixture
def nothing_reaches_the_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any call that gets as far as the transport (whose first step takes a governor slot)."""

    async def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a request was attempted")

    monkeypatch.setattr(Transport, "request", forbidden)


@pytest.mark.usefixtures("nothing_reaches_the_transport")
@pytest.mark.parametrize(("argument", "value"), BAD_PAGING)
@pytest.mark.parametrize("method", sorted(LISTS))
async def test_every_list_checks_its_paging_before_sending(
    client: Client, method: str, argument: str, value: object
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await LISTS[method](client, **{argument: value})
    assert caught.value.argument == argument


@pytest.mark.usefixtures("nothing_reaches_the_transport")
@pytest.mark.parametrize(("argument", "value"), BAD_WALKS)
@pytest.mark.parametrize("method", sorted(WALKS))
async def test_every_walk_checks_its_paging_when_created(
    client: Client, method: str, argument: str, value: object
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        WALKS[method](client, **{argument: value})
    assert caught.value.argument == argument


def test_every_list_and_walk_is_covered() -> None:
    lists = {n for n, r in ROUTES.items() if r.method == "GET" and n.endswith(".list")}
    assert lists <= set(LISTS)
    assert {n.split(".")[0] for n in WALKS} >= {n.split(".")[0] for n in LISTS}


@pytest.mark.usefixtures("nothing_reaches_the_transport")
@pytest.mark.parametrize("value", BAD_IDS, ids=repr)
@pytest.mark.parametrize("method", sorted(PATH_IDS))
async def test_every_id_in_a_path_is_checked_before_sending(
    client: Client, method: str, value: object
) -> None:
    argument, call = PATH_IDS[method]
    with pytest.raises(InvalidArgumentError) as caught:
        await call(client, value)
    assert caught.value.argument == argument


FILTER_IDS: dict[str, Callable[..., Awaitable[Any]]] = {
    "executions.list scenario_id": lambda c, v: c.executions.list(scenario_id=v),
    "executions.list campaign_id": lambda c, v: c.executions.list(campaign_id=v),
    "executions.list contact_id": lambda c, v: c.executions.list(contact_id=v),
    "campaigns.list campaign_folder_id": lambda c, v: c.campaigns.list(campaign_folder_id=v),
}


@pytest.mark.usefixtures("nothing_reaches_the_transport")
@pytest.mark.parametrize("value", [0, -3, True, "7", 1.5], ids=repr)
@pytest.mark.parametrize("filter", sorted(FILTER_IDS))
async def test_an_id_given_as_a_filter_is_checked_before_sending(
    client: Client, filter: str, value: object
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await FILTER_IDS[filter](client, value)
    assert caught.value.argument == filter.split()[-1]


def test_every_route_with_an_id_in_its_path_is_covered() -> None:
    with_ids = {n for n, r in ROUTES.items() if "{id}" in r.path}
    assert with_ids - set(PATH_IDS) == {"batch_tasks.get"}  # a string id: tested below


@pytest.mark.usefixtures("nothing_reaches_the_transport")
@pytest.mark.parametrize("value", BAD_TASK_IDS, ids=repr)
@pytest.mark.parametrize("method", ["get", "wait"])
async def test_a_batch_task_id_is_checked_before_sending(
    client: Client, method: str, value: object
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await getattr(client.batch_tasks, method)(value)
    assert caught.value.argument == "task_id"


async def test_a_batch_task_id_is_escaped_in_the_path(api: MockAPI, client: Client) -> None:
    api.on("GET", "/batch_tasks/bt%2F..%2Fme", answer(200, {"id": "bt/../me"}))
    task = await client.batch_tasks.get("bt/../me")
    assert task.id == "bt/../me"
    assert api.requests[0].url.endswith("/batch_tasks/bt%2F..%2Fme")
