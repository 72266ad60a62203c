"""What ``messages.send`` and ``media_files.upload`` put on the wire (socket-free)."""

from __future__ import annotations

import io
from pathlib import Path

from inro_async._http import HTTPRequest, HTTPResult
from inro_async.client import Client

from ._mock import MockAPI, answer, multipart_parts, sent_json

QUEUED = answer(202, {"status": "queued", "accepted_count": 1})
"""The API's answer to a send to one recipient (an answer must account for every one sent)."""


def queued(recipients: int) -> HTTPResult:
    """The answer to a send to ``recipients`` contacts, all accepted."""
    return answer(202, {"status": "queued", "accepted_count": recipients})


async def test_text_goes_as_json_with_content_and_type(api: MockAPI, client: Client) -> None:
    api.on("POST", "/messages", queued(3))
    await client.messages.send(contact_usernames=["ana", "bo"], contact_ids=[3], text="Hello!")
    assert sent_json(api.requests[0]) == {
        "contact_ids": [3],
        "contact_usernames": ["ana", "bo"],
        "message_type": "text",
        "content": "Hello!",
    }


async def test_a_media_url_infers_the_type_and_text_is_the_caption(
    api: MockAPI, client: Client
) -> None:
    api.on("POST", "/messages", QUEUED)
    await client.messages.send(contact_id=1, video="https://cdn.test/a.mp4", text="new reel")
    assert sent_json(api.requests[0]) == {
        "contact_id": 1,
        "message_type": "video",
        "content": "new reel",
        "video": "https://cdn.test/a.mp4",
    }


async def test_media_id_makes_a_share(api: MockAPI, client: Client) -> None:
    api.on("POST", "/messages", QUEUED)
    await client.messages.send(contact_email="a@b.test", media_id=17)
    assert sent_json(api.requests[0]) == {
        "contact_email": "a@b.test",
        "message_type": "share",
        "media_id": 17,
    }


async def test_media_bytes_go_as_multipart_with_lists_as_repeated_fields(
    api: MockAPI, client: Client
) -> None:
    seen: list[list[tuple[str, str | None, bytes]]] = []

    async def handle(request: HTTPRequest) -> HTTPResult:
        seen.append(await multipart_parts(request))
        return queued(2)

    api.on("POST", "/messages", handle)  # type: ignore[arg-type]
    await client.messages.send(contact_ids=[1, 2], image=b"\x89PNG-bytes", text="look")
    assert api.requests[0].body is None
    assert seen[0] == [
        ("contact_ids[]", None, b"1"),
        ("contact_ids[]", None, b"2"),
        ("message_type", None, b"image"),
        ("content", None, b"look"),
        ("image", "image", b"\x89PNG-bytes"),
    ]


async def test_a_path_is_sent_with_its_name(api: MockAPI, client: Client, tmp_path: Path) -> None:
    seen: list[list[tuple[str, str | None, bytes]]] = []

    async def handle(request: HTTPRequest) -> HTTPResult:
        seen.append(await multipart_parts(request))
        return QUEUED

    api.on("POST", "/messages", handle)  # type: ignore[arg-type]
    voice = tmp_path / "voice.m4a"
    voice.write_bytes(b"AUDIO")
    await client.messages.send(contact_id=9, audio=voice)
    assert ("audio", "voice.m4a", b"AUDIO") in seen[0]
    assert ("contact_id", None, b"9") in seen[0]


async def test_a_multipart_send_repeated_after_a_429_carries_the_same_file(
    api: MockAPI, client: Client
) -> None:
    seen: list[list[tuple[str, str | None, bytes]]] = []
    answers = iter([answer(429, {"error": "slow"}, {"Retry-After": "0"}), QUEUED])

    async def handle(request: HTTPRequest) -> HTTPResult:
        seen.append(await multipart_parts(request))
        return next(answers)

    api.on("POST", "/messages", handle)  # type: ignore[arg-type]
    file = io.BytesIO(b"prefix|VIDEO-BYTES")
    file.seek(7)
    await client.messages.send(contact_id=1, video=file)
    assert len(seen) == 2
    assert seen[0] == seen[1]
    assert ("video", "video", b"VIDEO-BYTES") in seen[0]
    assert file.tell() == 7, "the caller's file is put back where it was"


async def test_upload_sends_the_file_caption_and_type(
    api: MockAPI, client: Client, tmp_path: Path
) -> None:
    seen: list[list[tuple[str, str | None, bytes]]] = []

    async def handle(request: HTTPRequest) -> HTTPResult:
        seen.append(await multipart_parts(request))
        return answer(201, {"id": 4, "media_type": "image", "filename": "a.png"})

    api.on("POST", "/media_files", handle)  # type: ignore[arg-type]
    picture = tmp_path / "a.png"
    picture.write_bytes(b"PNG")
    media_file = await client.media_files.upload(picture, caption="hi", media_type="image")
    assert media_file.id == 4
    assert seen[0] == [
        ("caption", None, b"hi"),
        ("media_type", None, b"image"),
        ("file", "a.png", b"PNG"),
    ]


async def test_create_from_url_sends_json(api: MockAPI, client: Client) -> None:
    api.on("POST", "/media_files", answer(201, {"id": 5, "media_type": "video"}))
    await client.media_files.create_from_url("https://cdn.test/a.mp4", caption="c")
    assert sent_json(api.requests[0]) == {"file_url": "https://cdn.test/a.mp4", "caption": "c"}
