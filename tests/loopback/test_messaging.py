"""Messages, Instagram posts and media files over loopback HTTP, multipart uploads included."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import pytest

from inro_async import (
    BadRequestError,
    InvalidArgumentError,
    MediaFile,
    NotFoundError,
    SendResult,
    UnprocessableEntityError,
)
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

from .conftest import active_contact, contact_where

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # ~10 KiB, every byte value

# -- messages.send ---------------------------------------------------------------------------


async def test_a_text_reaches_one_contact_by_id(inro_client: Client, org: Organization) -> None:
    contact = active_contact(org)
    result = await inro_client.messages.send(contact_id=contact["id"], text="Hello!")
    assert isinstance(result, SendResult)
    assert (result.status, result.accepted_count) == ("queued", 1)
    (delivery,) = org.deliveries
    assert (delivery.contact_id, delivery.message_type, delivery.content, delivery.source) == (
        contact["id"],
        "text",
        "Hello!",
        "message",
    )


async def test_a_text_reaches_one_contact_by_username_or_email(
    inro_client: Client, org: Organization
) -> None:
    contact = active_contact(org, with_email=True)
    await inro_client.messages.send(contact_username=contact["username"], text="a")
    await inro_client.messages.send(contact_email=contact["email"], text="b")
    assert [d.content for d in org.deliveries_to(contact["id"])] == ["a", "b"]


async def test_lists_of_recipients_skip_inactive_and_report_unknown(
    inro_client: Client, org: Organization
) -> None:
    active = [cid for cid, c in org.contacts.items() if c["status"] == "active"][:5]
    optout = contact_where(org, lambda c: c["status"] == "optout")
    result = await inro_client.messages.send(
        contact_ids=[*active, active[0], optout["id"], 999_999], text="Sale!"
    )
    assert (result.accepted_count, result.skipped_count, result.not_found_count) == (5, 1, 1)
    assert result.skipped[0].id == optout["id"]
    assert "optout" in str(result.skipped[0])
    assert [str(n) for n in result.not_found] == ["id=999999"]
    assert org.delivery_counts() == {cid: 1 for cid in active}  # named twice, messaged once


async def test_usernames_and_emails_can_be_mixed_in_one_send(
    inro_client: Client, org: Organization
) -> None:
    first = active_contact(org, with_email=True)
    second = contact_where(org, lambda c: c["status"] == "active" and c["id"] != first["id"])
    result = await inro_client.messages.send(
        contact_usernames=[second["username"]], contact_emails=[first["email"]], text="hi"
    )
    assert result.accepted_count == 2
    assert set(org.delivery_counts()) == {first["id"], second["id"]}


async def test_an_image_url_travels_as_json(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    contact_id = active_contact(org)["id"]
    await inro_client.messages.send(
        contact_id=contact_id, image="https://cdn.example/pic.jpg", text="caption"
    )
    (recorded,) = inro_server.requests_to("messages.send")
    assert recorded.body["image"] == "https://cdn.example/pic.jpg"
    (delivery,) = org.deliveries
    assert (delivery.message_type, delivery.media, delivery.content) == (
        "image",
        "https://cdn.example/pic.jpg",
        "caption",
    )


async def test_image_bytes_are_uploaded_as_multipart(
    inro_client: Client, org: Organization
) -> None:
    ids = [cid for cid, c in org.contacts.items() if c["status"] == "active"][:3]
    result = await inro_client.messages.send(contact_ids=ids, image=PNG, text="look")
    assert result.accepted_count == 3
    media = org.deliveries[0].media
    assert media["size"] == len(PNG)
    assert org.delivery_counts() == {cid: 1 for cid in ids}


async def test_a_video_from_a_path_keeps_its_file_name(
    inro_client: Client, org: Organization, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"v" * 5000)
    await inro_client.messages.send(contact_id=active_contact(org)["id"], video=clip)
    (delivery,) = org.deliveries
    assert delivery.message_type == "video"
    assert delivery.media == {"filename": "clip.mp4", "content_type": "video/mp4", "size": 5012}


async def test_audio_from_an_open_file(inro_client: Client, org: Organization) -> None:
    voice = io.BytesIO(b"ID3" + b"a" * 2000)
    voice.name = "voice.mp3"
    await inro_client.messages.send(contact_id=active_contact(org)["id"], audio=voice)
    (delivery,) = org.deliveries
    assert (delivery.message_type, delivery.media["filename"], delivery.media["size"]) == (
        "audio",
        "voice.mp3",
        2003,
    )
    assert voice.tell() == 0  # the caller's file is left where it was


async def test_a_share_of_one_of_the_accounts_posts(inro_client: Client, org: Organization) -> None:
    post = (await inro_client.medias.list())[1]
    await inro_client.messages.send(contact_id=active_contact(org)["id"], media_id=post.id)
    (delivery,) = org.deliveries
    assert (delivery.message_type, delivery.media) == ("share", {"media_id": post.id})


async def test_a_media_id_written_as_digits_is_the_same_post(
    inro_client: Client, org: Organization
) -> None:
    """Instagram's ids are large numbers that often travel as strings (issue 15 #10)."""
    post = (await inro_client.medias.list())[0]
    first, second = [
        cid for cid in sorted(org.contacts) if org.contacts[cid]["status"] == "active"
    ][:2]
    await inro_client.messages.send(contact_id=first, media_id=str(post.id))
    await inro_client.messages.send_many([second], media_id=str(post.id))
    # the fake takes the string too, as the real API is sent it by other clients
    raw = await inro_client.request(
        "POST",
        "/messages",
        json={"contact_id": first, "message_type": "share", "media_id": str(post.id)},
    )
    assert raw.status == 202
    assert [(d.contact_id, d.media) for d in org.deliveries] == [
        (first, {"media_id": post.id}),
        (second, {"media_id": post.id}),
        (first, {"media_id": post.id}),
    ]


@pytest.mark.parametrize("media_id", ["", "0", "-5", "17 900", "1.5", "\u0661", 0, True, 2.0])
async def test_a_media_id_that_is_no_positive_number_is_refused_before_sending(
    inro_server: FakeInro, inro_client: Client, org: Organization, media_id: object
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await inro_client.messages.send(
            contact_id=active_contact(org)["id"],
            media_id=media_id,  # type: ignore[arg-type]
        )
    assert caught.value.argument == "media_id"
    assert inro_server.requests == []


async def test_a_share_of_an_unknown_post_is_a_422(inro_client: Client, org: Organization) -> None:
    with pytest.raises(UnprocessableEntityError, match="unknown media_id") as caught:
        await inro_client.messages.send(contact_id=active_contact(org)["id"], media_id=123)
    assert (caught.value.method, caught.value.path) == ("POST", "/messages")
    assert org.deliveries == []


async def test_sending_a_message_to_nobody_known_accepts_none(inro_client: Client) -> None:
    result = await inro_client.messages.send(contact_username="no.such.user", text="hi")
    assert (result.accepted_count, result.not_found_count) == (0, 1)


async def test_send_many_messages_each_recipient_once(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    active = [cid for cid, c in org.contacts.items() if c["status"] == "active"]
    report = await inro_client.messages.send_many([*active, active[0]], text="Newsletter")
    assert (report.done, report.duplicates) == (len(active), 1)
    assert org.delivery_counts() == {cid: 1 for cid in active}
    assert len(inro_server.requests_to("messages.send")) == 1  # fewer than 1,000: one call


# -- medias (Instagram posts) ----------------------------------------------------------------


async def test_medias_list_and_iter(inro_client: Client, org: Organization) -> None:
    page = await inro_client.medias.list()
    assert [m.id for m in page] == [m["id"] for m in org.medias]
    assert page[1].media_type == "REEL"
    assert page[0].timestamp is not None
    walked = [m.id async for m in inro_client.medias.iter(per_page=2, concurrency=2)]
    assert walked == [m["id"] for m in org.medias]


# -- media files -----------------------------------------------------------------------------


async def test_upload_bytes_as_multipart(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    media_file = await inro_client.media_files.upload(PNG, caption="logo", media_type="image")
    assert isinstance(media_file, MediaFile)
    assert (media_file.media_type, media_file.caption, media_file.size) == (
        "image",
        "logo",
        len(PNG),
    )
    assert media_file.id in org.media_files
    (recorded,) = inro_server.requests_to("media_files.create")
    assert recorded.body is None  # multipart: not JSON


async def test_upload_a_path_takes_its_type_from_the_extension(
    inro_client: Client, tmp_path: Path
) -> None:
    song = tmp_path / "jingle.mp3"
    song.write_bytes(b"ID3" + b"x" * 100)
    media_file = await inro_client.media_files.upload(song)
    assert (media_file.media_type, media_file.filename, media_file.size) == (
        "audio",
        "jingle.mp3",
        103,
    )


async def test_upload_of_an_unrecognisable_file_is_a_422(inro_client: Client) -> None:
    with pytest.raises(UnprocessableEntityError, match="cannot tell the media type"):
        await inro_client.media_files.upload(b"\x00\x01")


async def test_create_from_url(inro_client: Client) -> None:
    media_file = await inro_client.media_files.create_from_url(
        "https://cdn.example/promo.mov?sig=1", caption="promo"
    )
    assert (media_file.media_type, media_file.filename, media_file.caption) == (
        "video",
        "promo.mov",
        "promo",
    )


async def test_create_from_a_url_of_unknown_type_is_a_422(inro_client: Client) -> None:
    with pytest.raises(UnprocessableEntityError):
        await inro_client.media_files.create_from_url("https://cdn.example/blob")


async def test_get_list_and_iter_by_type(inro_client: Client) -> None:
    image = await inro_client.media_files.upload(PNG, media_type="image")
    video = await inro_client.media_files.create_from_url("https://cdn.example/a.mp4")
    assert (await inro_client.media_files.get(video.id)).filename == "a.mp4"
    everything = await inro_client.media_files.list()
    assert [f.id for f in everything] == [image.id, video.id]
    videos = [f.id async for f in inro_client.media_files.iter(media_type="video")]
    assert videos == [video.id]
    images = await inro_client.media_files.list(media_type="image", per_page=1)
    assert [f.id for f in images] == [image.id]


async def test_an_unknown_media_file_is_a_404(inro_client: Client) -> None:
    with pytest.raises(NotFoundError, match="Media file not found"):
        await inro_client.media_files.get(424242)


async def test_a_plain_string_file_is_refused_before_sending(
    inro_client: Client, inro_server: FakeInro
) -> None:
    with pytest.raises(ValueError, match=r"pathlib\.Path"):
        await inro_client.media_files.upload("photo.jpg")  # type: ignore[arg-type]
    assert inro_server.requests == []


async def test_a_multipart_send_the_server_cannot_parse_is_a_400(
    inro_client: Client, org: Organization
) -> None:
    # A multipart send of a list of non-integer ids: only the server can see the mismatch.
    with pytest.raises(BadRequestError, match="contact_ids must be integers"):
        await inro_client.request(
            "POST",
            "/messages",
            form=lambda: _form({"contact_ids[]": "ana", "message_type": "image"}),
        )
    assert org.deliveries == []


def _form(fields: dict[str, str]) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("image", PNG, filename="a.png", content_type="image/png")
    return form
