"""``send_many`` with a local file, over loopback: read once, checked once, uploaded once.

A file going to more than one request is uploaded once (``POST /media_files``) and every chunk
refers to it by URL, as JSON: no chunk carries 1,000 form fields plus a file (issue 15 #12).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inro_async import InroError, Quota, _validate_contacts
from inro_async.client import Client
from inro_async.jobs import JobMismatchError, JobStatus, send_many
from inro_async.jobs.messages import SendMessages
from inro_async.resources.messages import prepare_message
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # ~10 KiB, every byte value

_OPENS: Counter[str] | None = None
"""Set by ``count_opens``: how often each path was opened. ``None``: the hook does nothing."""


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENS is None or event != "open":
        return
    path = args[0]
    if isinstance(path, str | bytes | os.PathLike):
        _OPENS[os.fsdecode(os.fspath(path))] += 1


sys.addaudithook(_audit)  # cannot be removed: a no-op unless a test sets _OPENS


@pytest.fixture
def count_opens() -> Iterator[Counter[str]]:
    """Counts ``open`` audit events per path while the test runs."""
    global _OPENS
    _OPENS = Counter()
    try:
        yield _OPENS
    finally:
        _OPENS = None


@pytest.fixture
def inro_fake_options() -> dict[str, Any]:
    """Enough contacts for 5,000 active ones."""
    return {"contacts": 8_000, "seed": 5}


@pytest.fixture
def org(inro_server: FakeInro) -> Organization:
    return inro_server.org


@pytest.fixture
def promo(tmp_path: Path) -> Path:
    path = tmp_path / "promo.png"
    path.write_bytes(PNG)
    return path


def active(org: Organization, count: int = 5_000) -> list[dict[str, Any]]:
    contacts = [org.contacts[cid] for cid in sorted(org.contacts)]
    chosen = [c for c in contacts if c["status"] == "active"][:count]
    assert len(chosen) == count
    return chosen


async def test_an_image_file_to_5000_recipients_reaches_each_once_by_one_upload(
    inro_client: Client, inro_server: FakeInro, org: Organization, promo: Path
) -> None:
    ids = [c["id"] for c in active(org)]
    report = await inro_client.messages.send_many(ids, image=promo, text="Spring sale")
    assert (report.done, report.total) == (5_000, 5_000)
    assert org.delivery_counts() == Counter(ids)
    (upload,) = inro_server.requests_to("media_files.create")
    assert upload.status == 201
    (media_file,) = org.media_files.values()
    assert media_file["filename"] == "promo.png"
    assert media_file["size"] == len(PNG)
    assert {(d.message_type, d.media, d.content) for d in org.deliveries} == {
        ("image", media_file["url"], "Spring sale")
    }
    sends = inro_server.requests_to("messages.send")
    assert len(sends) == 5
    assert all(s.body["image"] == media_file["url"] for s in sends)  # JSON, by reference


async def test_an_image_file_sent_to_5000_recipients_is_opened_once(
    inro_client: Client, org: Organization, promo: Path, count_opens: Counter[str]
) -> None:
    ids = [c["id"] for c in active(org)]
    report = await inro_client.messages.send_many(ids, image=promo)
    assert report.done == 5_000
    assert count_opens[str(promo)] == 1


async def test_each_of_5000_recipients_is_validated_once(
    inro_client: Client, org: Organization, promo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usernames = [c["username"] for c in active(org)]
    validated: Counter[object] = Counter()

    def counting(check: Callable[..., Any], value_at: int) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            validated[args[value_at]] += 1
            return check(*args, **kwargs)

        return wrapper

    # The one set of identifier rules that the job and the resource share: a chunk that went
    # through the resource's checks again would count every recipient twice.
    for kind, rule in list(_validate_contacts.IDENTIFIER_PROBLEMS.items()):
        monkeypatch.setitem(_validate_contacts.IDENTIFIER_PROBLEMS, kind, counting(rule, 0))
    report = await inro_client.messages.send_many(usernames, image=promo)
    assert report.done == 5_000
    assert validated == Counter(usernames)


async def test_a_failed_upload_sends_nothing_and_says_so(
    inro_client: Client, inro_server: FakeInro, org: Organization, promo: Path
) -> None:
    ids = [c["id"] for c in active(org, 2_500)]
    inro_server.inject("status", route="media_files.create", status=500)
    with pytest.raises(InroError, match="/media_files") as raised:
        await inro_client.messages.send_many(ids, image=promo)
    assert "no message was sent" in "\n".join(raised.value.__notes__)
    assert inro_server.requests_to("messages.send") == []
    assert org.deliveries == []


async def test_a_rerun_with_the_same_file_resumes_though_it_uploads_again(
    inro_client: Client, inro_server: FakeInro, org: Organization, promo: Path, tmp_path: Path
) -> None:
    ids = [c["id"] for c in active(org, 2_500)]
    journal = tmp_path / "promo.job"
    job = inro_client.messages.send_many(ids, image=promo, job=journal, concurrency=1)
    stopped = False

    def stop_after_first_chunk(event: Any) -> None:
        nonlocal stopped
        if event.kind == "progress" and event.done and not stopped:
            stopped = True
            job.stop()

    async for event in job.events():
        stop_after_first_chunk(event)
    first = job.report
    assert first is not None
    assert 0 < first.done < 2_500
    second = await inro_client.messages.send_many(ids, image=promo, job=journal)
    assert first.done + second.done == 2_500
    assert org.delivery_counts() == Counter(ids)
    assert len(inro_server.requests_to("media_files.create")) == 2


async def test_a_rerun_with_another_file_under_the_same_name_is_refused(
    inro_client: Client, org: Organization, promo: Path, tmp_path: Path
) -> None:
    ids = [c["id"] for c in active(org, 1_500)]
    journal = tmp_path / "promo.job"
    await inro_client.messages.send_many(ids, image=promo, job=journal)
    promo.write_bytes(PNG[::-1])  # noqa: ASYNC240 - the test's own small file
    with pytest.raises(JobMismatchError):
        await inro_client.messages.send_many(ids, image=promo, job=journal)


async def test_a_file_to_a_few_recipients_goes_in_one_multipart_send_without_upload(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    ids = [c["id"] for c in active(org, 3)]
    report = await send_many(inro_client, ids, image=PNG, text="look")
    assert report.done == 3
    assert inro_server.requests_to("media_files.create") == []
    (send,) = inro_server.requests_to("messages.send")
    assert send.body is None  # multipart, not JSON
    assert {d.media["size"] for d in org.deliveries} == {len(PNG)}


async def test_a_file_to_one_full_chunk_is_uploaded_rather_than_sent_as_1000_form_fields(
    inro_client: Client, inro_server: FakeInro, org: Organization, promo: Path
) -> None:
    ids = [c["id"] for c in active(org, 1_000)]
    report = await inro_client.messages.send_many(ids, image=promo)
    assert report.done == 1_000
    assert len(inro_server.requests_to("media_files.create")) == 1
    (send,) = inro_server.requests_to("messages.send")
    assert send.body["contact_ids"] == ids


@pytest.mark.parametrize(
    ("message", "fingerprint"),
    [
        ({"text": "Hi"}, "a3fe74afabcd45766766da9156bf6e25"),
        ({"image": "path", "text": "c"}, "3e560d37e9a68753af15a679aaff3e0f"),
        ({"image": b"PNGDATA"}, "3b1d6eac6a6367e5390eb948662b27eb"),
        (
            {"image": "https://x.test/a.png", "message_type": "image"},
            "32e0e386ebbee8f7ca44d0e5c0fb9ac4",
        ),
        ({"media_id": 7}, "c6386e63db68492ffa09db876f7775bb"),
    ],
)
def test_a_message_fingerprints_as_earlier_versions_journaled_it(
    message: dict[str, Any], fingerprint: str, tmp_path: Path
) -> None:
    # Values computed by 60a7893 (check_message + payload_fingerprint), a path's file holding
    # b"PNGDATA": a journal it wrote resumes after the upgrade; a file goes by its content.
    if message.get("image") == "path":
        message["image"] = tmp_path / "any-name.png"
        message["image"].write_bytes(b"PNGDATA")
    fields = {k: message.get(k) for k in ("text", "image", "video", "audio", "media_id")}
    prepared = prepare_message(**fields, message_type=message.get("message_type"))
    assert SendMessages(prepared).payload_fingerprint() == fingerprint


async def test_a_quota_spent_before_the_upload_pauses_the_job_with_nothing_sent(
    promo: Path,
) -> None:
    server = FakeInro(quotas=[Quota(2, 30)])
    org = server.add_organization("paused-token", contacts=3_000, seed=5)
    base_url = await server.start()
    try:
        async with Client("paused-token", base_url=base_url, quotas=[Quota(2, 30)]) as inro:
            await inro.me()
            await inro.me()  # the quota is spent for the next 30 s
            ids = [c["id"] for c in active(org, 2_000)]
            report = await send_many(inro, ids, image=promo, stop_when_blocked_over=1)
    finally:
        await server.close()
    assert report.status is JobStatus.PAUSED
    assert report.pending == 2_000
    assert server.requests_to("media_files.create") == []
    assert org.deliveries == []
