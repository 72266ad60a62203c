"""Every route of the fake server over loopback HTTP: the happy path and each documented error."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from inro_async._routes import ROUTES
from inro_async.testing import FakeInro

from .conftest import Http


async def wait_for_task(http: Http, task_id: str) -> dict[str, object]:
    for _ in range(200):
        reply = await http.get(f"/batch_tasks/{task_id}")
        if reply.body["status"] in ("completed", "failed"):
            return dict(reply.body)
        await asyncio.sleep(0.01)
    raise AssertionError("batch task never finished")


# -- auth and errors --------------------------------------------------------------------------


async def test_an_unknown_token_gets_401(http: Http) -> None:
    reply = await http.get("/me", token="nope")
    assert reply.status == 401
    assert "token" in reply.body["error"]


async def test_a_free_plan_gets_403_saying_so(fake: FakeInro, http: Http) -> None:
    fake.add_organization("free", plan="free", contacts=1)
    reply = await http.get("/me", token="free")
    assert reply.status == 403
    assert "Free plan" in reply.body["error"]


async def test_each_token_is_its_own_organization(fake: FakeInro, http: Http) -> None:
    fake.add_organization("other", contacts=5)
    mine = await http.get("/contacts", per_page=1000)
    theirs = await http.get("/contacts", per_page=1000, token="other")
    assert (len(mine.body), len(theirs.body)) == (60, 5)


async def test_an_unknown_path_is_a_json_404(http: Http) -> None:
    reply = await http.get("/nothing-here")
    assert reply.status == 404
    assert "error" in reply.body


async def test_the_route_table_is_fully_served(fake: FakeInro) -> None:
    served = {route.name for route in fake.app.router.routes()}
    assert set(ROUTES) <= served


async def test_every_authenticated_response_carries_rate_limit_headers(http: Http) -> None:
    reply = await http.get("/contact", id=999_999)
    assert reply.status == 404
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(reply.headers)


# -- organization and lists -------------------------------------------------------------------


async def test_me_describes_the_organization(http: Http) -> None:
    reply = await http.get("/me")
    assert reply.status == 200
    assert reply.body["plan"] == "pro"


async def test_lists_are_bare_arrays_with_paging_headers(http: Http) -> None:
    reply = await http.get("/contacts", page=2, per_page=25)
    assert isinstance(reply.body, list)
    assert len(reply.body) == 25
    assert reply.body[0]["id"] == 26
    assert (reply.headers["X-Total"], reply.headers["X-Total-Pages"]) == ("60", "3")
    assert (reply.headers["X-Page"], reply.headers["X-Per-Page"]) == ("2", "25")


async def test_per_page_defaults_to_20_and_is_capped_at_1000(http: Http) -> None:
    default = await http.get("/contacts")
    capped = await http.get("/contacts", per_page=5000)
    assert len(default.body) == 20
    assert capped.headers["X-Per-Page"] == "1000"


async def test_bad_paging_parameters_are_400(http: Http) -> None:
    for params in ({"page": 0}, {"per_page": "lots"}, {"offset": -1}):
        assert (await http.get("/contacts", **params)).status == 400


async def test_offset_drops_records_before_paging(http: Http) -> None:
    reply = await http.get("/contacts", offset=50, per_page=20)
    assert [c["id"] for c in reply.body] == list(range(51, 61))
    assert reply.headers["X-Total"] == "10"


async def test_a_page_past_the_end_is_empty_with_headers(http: Http) -> None:
    reply = await http.get("/contacts", page=99, per_page=50)
    assert reply.body == []
    assert reply.headers["X-Total"] == "60"


async def test_contacts_can_be_ordered(http: Http) -> None:
    reply = await http.get(
        "/contacts", order_column="follower_count", order_direction="desc", per_page=60
    )
    counts = [c["follower_count"] for c in reply.body]
    assert counts == sorted(counts, reverse=True)
    assert (await http.get("/contacts", order_column="password")).status == 400


async def test_search_matches_username_name_email_and_phone(fake: FakeInro, http: Http) -> None:
    target = fake.organizations["tok"].contacts[7]
    for text in (target["username"], target["name"].split()[1].upper()):
        reply = await http.get("/contacts/search", query=text, per_page=1000)
        assert 7 in [c["id"] for c in reply.body]
    assert (await http.get("/contacts/search")).status == 400


# -- single contacts --------------------------------------------------------------------------


async def test_get_contact_needs_exactly_one_identifier(fake: FakeInro, http: Http) -> None:
    username = fake.organizations["tok"].contacts[3]["username"]
    assert (await http.get("/contact", username=username)).body["id"] == 3
    assert (await http.get("/contact")).status == 400
    assert (await http.get("/contact", id=3, username=username)).status == 400
    assert (await http.get("/contact", email="nobody@nowhere.test")).status == 404


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "message"),
    [
        ("GET", "/contact", {"username": "nobody"}, "Contact not found: username nobody"),
        ("GET", "/contact", {"email": "no@where.test"}, "Contact not found: email no@where.test"),
        ("GET", "/contact", {"id": 99999}, "Contact not found: id 99999"),
        (
            "PUT",
            "/contact",
            {"json": {"username": "nobody", "contact": {"phone": "1"}}},
            "Contact not found: username nobody",
        ),
    ],
)
async def test_a_missing_contact_is_a_404_naming_it_in_words(
    http: Http, method: str, path: str, kwargs: dict[str, Any], message: str
) -> None:
    reply = await http.call(method, path, **kwargs)
    assert reply.status == 404
    assert reply.body == {"error": message}  # no Python repr such as {'username': 'nobody'}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/scenarios/99999", "Scenario not found: id 99999"),
        ("/campaigns/99999", "Campaign not found: id 99999"),
        ("/segments/99999", "Segment not found: id 99999"),
        ("/media_files/99999", "Media file not found: id 99999"),
        ("/batch_tasks/no-such-task", "Batch task not found: no-such-task"),
        ("/no/such/route", "Not found: GET /api/v1/no/such/route"),
    ],
)
async def test_every_404_names_what_is_missing_in_words(
    http: Http, path: str, message: str
) -> None:
    reply = await http.get(path)
    assert reply.status == 404
    assert reply.body == {"error": message}  # words: no {'id': ...}, no quotes around the key


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("PUT", "/contacts/99999", {"contact": {"notes": "x"}}, "Contact not found: id 99999"),
        ("PATCH", "/folders/99999", {"name": "x"}, "Folder not found: id 99999"),
        ("DELETE", "/contact_properties/nope", None, "Contact property not found: nope"),
    ],
)
async def test_a_write_to_something_missing_names_it_in_words(
    http: Http, method: str, path: str, body: object, message: str
) -> None:
    reply = await http.call(method, path, json=body)
    assert (reply.status, reply.body) == (404, {"error": message})


async def test_put_contact_updates_by_identifier(http: Http) -> None:
    reply = await http.put("/contact", {"id": 5, "contact": {"phone": "+33 1", "language": "fr"}})
    assert reply.status == 200
    assert (reply.body["phone"], reply.body["language"]) == ("+33 1", "fr")


async def test_put_contact_errors(http: Http) -> None:
    assert (await http.put("/contact", {"contact": {"phone": "1"}})).status == 400
    assert (await http.put("/contact", {"id": 5})).status == 400
    assert (await http.put("/contact", {"id": 99999, "contact": {"phone": "1"}})).status == 404
    assert (await http.put("/contact", {"id": 5, "contact": {"password": "x"}})).status == 400
    unknown_slug = {"id": 5, "contact": {"custom_properties": {"shoe_size": 44}}}
    assert (await http.put("/contact", unknown_slug)).status == 422


async def test_put_contact_by_id_sets_folders_and_properties(http: Http) -> None:
    body = {"contact": {"folder_ids": [1, 3], "custom_properties": {"plan": "pro"}}}
    reply = await http.put("/contacts/9", body)
    assert [f["id"] for f in reply.body["folders"]] == [1, 3]
    assert reply.body["custom_properties"]["plan"] == "pro"
    assert (await http.put("/contacts/99999", body)).status == 404
    assert (await http.put("/contacts/9", {"contact": {"folder_ids": [777]}})).status == 422


async def test_a_contacts_messages_are_listed_newest_first(fake: FakeInro, http: Http) -> None:
    await http.post("/messages", {"contact_id": 2, "content": "first"})
    await http.post("/messages", {"contact_id": 2, "content": "second"})
    reply = await http.get("/contacts/2/messages")
    assert [m["content"] for m in reply.body] == ["second", "first"]
    assert (await http.get("/contacts/99999/messages")).status == 404


async def test_filter_combines_conditions(http: Http) -> None:
    body = {
        "filters": [{"filter_type": "status", "operator": "eq", "value": "active"}],
        "filter_logic": "and",
        "per_page": 1000,
    }
    reply = await http.post("/contacts/filter", body, per_page=1000)
    assert reply.status == 200
    assert all(c["status"] == "active" for c in reply.body)
    bad = {"filters": [{"filter_type": "shoe_size", "value": 1}]}
    assert (await http.post("/contacts/filter", bad)).status == 400


# -- bulk updates and batch tasks -------------------------------------------------------------


async def test_bulk_update_is_accepted_then_applied_in_the_background(http: Http) -> None:
    body = {
        "contacts": [
            {"id": 1, "contact": {"status": "optout"}},
            {"email": "ghost@nowhere.test", "contact": {"phone": "1"}},
        ]
    }
    reply = await http.put("/contacts/bulk", body)
    assert reply.status == 202
    assert (reply.body["accepted_count"], reply.body["not_found_count"]) == (1, 1)
    assert reply.body["not_found"] == [{"email": "ghost@nowhere.test"}]
    assert reply.body["status"] == "pending"
    task = await wait_for_task(http, reply.body["batch_task_id"])
    assert task["status"] == "completed"
    assert (await http.get("/contact", id=1)).body["status"] == "optout"


async def test_bulk_update_entry_errors_are_reported_per_entry(http: Http) -> None:
    body = {
        "contacts": [
            {"id": 1, "contact": {"custom_properties": {"nope": 1}}},
            {"id": 2, "contact": {"phone": "+1"}},
        ]
    }
    reply = await http.put("/contacts/bulk", body)
    task = await wait_for_task(http, reply.body["batch_task_id"])
    assert (task["status"], task["failed_count"], task["processed_count"]) == ("completed", 1, 2)
    assert task["errors"][0]["index"] == 0


async def test_bulk_update_with_two_identifiers_is_rejected_whole(http: Http) -> None:
    body = {
        "contacts": [
            {"id": 1, "contact": {"phone": "1"}},
            {"id": 2, "username": "x", "contact": {"phone": "2"}},
        ]
    }
    reply = await http.put("/contacts/bulk", body)
    assert reply.status == 400
    assert "contacts[1]" in reply.body["error"]


async def test_bulk_update_over_1000_entries_is_400(http: Http) -> None:
    body = {"contacts": [{"id": 1, "contact": {"phone": "1"}}] * 1001}
    assert (await http.put("/contacts/bulk", body)).status == 400


async def test_batch_tasks_are_listed_newest_first(http: Http) -> None:
    first = await http.put("/contacts/bulk", {"contacts": [{"id": 1, "contact": {"phone": "1"}}]})
    second = await http.put("/contacts/bulk", {"contacts": [{"id": 2, "contact": {"phone": "2"}}]})
    listed = await http.get("/batch_tasks")
    assert [t["id"] for t in listed.body[:2]] == [
        second.body["batch_task_id"],
        first.body["batch_task_id"],
    ]
    assert (await http.get("/batch_tasks/bt_missing")).status == 404


# -- folders and properties -------------------------------------------------------------------


async def test_folder_lifecycle_and_membership(fake: FakeInro, http: Http) -> None:
    created = await http.post("/folders", {"name": "Beta testers", "color": "blue"})
    assert created.status == 201
    folder_id = created.body["id"]
    added = await http.post(f"/folders/{folder_id}/contacts", {"contact_ids": [1, 2, 99999]})
    assert added.body == {"added_count": 2, "not_found": [99999]}
    members = await http.get(f"/folders/{folder_id}/contacts")
    assert [c["id"] for c in members.body] == [1, 2]
    renamed = await http.patch(f"/folders/{folder_id}", {"name": "Beta"})
    assert renamed.body["name"] == "Beta"
    assert any(f["name"] == "Beta" for f in (await http.get("/contact", id=1)).body["folders"])
    removed = await http.delete(f"/folders/{folder_id}/contacts", {"contact_ids": [2]})
    assert removed.body["removed_count"] == 1
    assert (await http.delete(f"/folders/{folder_id}")).status == 204
    assert (await http.get("/contact", id=1)).status == 200  # contacts survive
    assert (await http.get(f"/folders/{folder_id}/contacts")).status == 404


async def test_folder_errors(http: Http) -> None:
    assert (await http.post("/folders", {"color": "blue"})).status == 400
    assert (await http.post("/folders", {"name": "x", "color": "teal"})).status == 400
    assert (await http.patch("/folders/99999", {"name": "x"})).status == 404
    assert (await http.post("/folders/1/contacts", {"contact_ids": []})).status == 400


async def test_contact_property_lifecycle_by_slug(fake: FakeInro, http: Http) -> None:
    body = {
        "contact_property": {
            "title": "Subscription Plan",
            "property_type": "single_choice",
            "choices": ["a", "b"],
        }
    }
    created = await http.post("/contact_properties", body)
    assert (created.status, created.body["slug"]) == (201, "subscription-plan")
    update = {"contact_property": {"title": "Plan tier"}}
    updated = await http.put("/contact_properties/subscription-plan", update)
    assert (updated.status, updated.body["slug"]) == (200, "subscription-plan")
    await http.put("/contacts/1", {"contact": {"custom_properties": {"subscription-plan": "a"}}})
    deleted = await http.delete("/contact_properties/subscription-plan")
    assert deleted.status == 204
    contact = (await http.get("/contact", id=1)).body
    assert "subscription-plan" not in contact["custom_properties"]


async def test_contact_property_errors(http: Http) -> None:
    def prop(**spec: object) -> dict[str, object]:
        return {"contact_property": spec}

    no_choices = prop(title="Size", property_type="single_choice")
    assert (await http.post("/contact_properties", no_choices)).status == 422
    bad_type = prop(title="X", property_type="color")
    assert (await http.post("/contact_properties", bad_type)).status == 400
    assert (await http.post("/contact_properties", prop(title="Plan"))).status == 422  # slug taken
    assert (await http.post("/contact_properties", {"title": "no wrapper"})).status == 400
    assert (await http.put("/contact_properties/missing", prop(title="x"))).status == 404
    assert (await http.delete("/contact_properties/missing")).status == 404


# -- messages and media -----------------------------------------------------------------------


async def test_a_text_message_reaches_active_recipients_once(fake: FakeInro, http: Http) -> None:
    org = fake.organizations["tok"]
    optout = next(cid for cid, c in org.contacts.items() if c["status"] != "active")
    active = [cid for cid, c in org.contacts.items() if c["status"] == "active"][:3]
    body = {"contact_ids": [*active, active[0], optout, 99999], "content": "Hello"}
    reply = await http.post("/messages", body)
    assert reply.status == 202
    assert reply.body["accepted_count"] == 3
    assert reply.body["skipped"][0]["id"] == optout
    assert reply.body["not_found"] == [{"id": 99999}]
    assert org.delivery_counts() == {cid: 1 for cid in active}


async def test_message_recipient_rules(http: Http) -> None:
    assert (await http.post("/messages", {"content": "x"})).status == 400
    mixed = {"contact_id": 1, "contact_ids": [2], "content": "x"}
    assert (await http.post("/messages", mixed)).status == 400
    too_many = {"contact_ids": list(range(1, 1002)), "content": "x"}
    assert (await http.post("/messages", too_many)).status == 400
    assert (await http.post("/messages", {"contact_id": 1})).status == 400  # text without content


async def test_media_messages_need_their_matching_field(http: Http) -> None:
    ok = {"contact_id": 1, "message_type": "image", "image": "https://x.test/a.png"}
    assert (await http.post("/messages", ok)).status == 202
    wrong = {"contact_id": 1, "message_type": "video", "image": "https://x.test/a.png"}
    assert (await http.post("/messages", wrong)).status == 400
    missing = {"contact_id": 1, "message_type": "audio"}
    assert (await http.post("/messages", missing)).status == 400
    unknown = {"contact_id": 1, "message_type": "hologram", "content": "x"}
    assert (await http.post("/messages", unknown)).status == 400


async def test_share_needs_a_known_media_id(fake: FakeInro, http: Http) -> None:
    media_id = fake.organizations["tok"].medias[0]["id"]
    share = {"contact_id": 1, "message_type": "share", "media_id": media_id}
    assert (await http.post("/messages", share)).status == 202
    assert (await http.post("/messages", {"contact_id": 1, "message_type": "share"})).status == 400
    unknown = {"contact_id": 1, "message_type": "share", "media_id": 1}
    assert (await http.post("/messages", unknown)).status == 422


async def test_a_media_message_can_upload_its_file_multipart(fake: FakeInro, http: Http) -> None:
    form = aiohttp.FormData()
    form.add_field("message_type", "audio")
    for cid in (1, 2):
        form.add_field("contact_ids[]", str(cid))
    form.add_field("audio", b"ID3" + bytes(100), filename="note.mp3", content_type="audio/mpeg")
    reply = await http.call("POST", "/messages", data=form)
    assert reply.status == 202
    delivery = fake.organizations["tok"].deliveries_to(1)[0]
    assert delivery.media == {"filename": "note.mp3", "content_type": "audio/mpeg", "size": 103}


async def test_medias_list_the_accounts_posts(http: Http) -> None:
    reply = await http.get("/medias")
    assert reply.status == 200
    assert {"id", "media_type", "permalink"} <= set(reply.body[0])


async def test_media_files_from_upload_and_from_url(http: Http) -> None:
    form = aiohttp.FormData()
    form.add_field("file", b"\x89PNG" + bytes(10), filename="logo.png", content_type="image/png")
    form.add_field("caption", "Logo")
    uploaded = await http.call("POST", "/media_files", data=form)
    assert (uploaded.status, uploaded.body["media_type"]) == (201, "image")
    by_url = await http.post("/media_files", {"file_url": "https://cdn.test/clip.mp4"})
    assert (by_url.status, by_url.body["media_type"]) == (201, "video")
    assert (await http.get(f"/media_files/{by_url.body['id']}")).body["filename"] == "clip.mp4"
    videos = await http.get("/media_files", media_type="video")
    assert [f["id"] for f in videos.body] == [by_url.body["id"]]
    assert (await http.post("/media_files", {"file_url": "https://cdn.test/x.xyz"})).status == 422
    assert (await http.post("/media_files", {})).status == 400
    assert (await http.get("/media_files/99999")).status == 404
