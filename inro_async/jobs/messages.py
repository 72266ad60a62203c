"""``send_many``: one message to any number of recipients, 1,000 per ``POST /messages``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from inro_async._message_payload import PreparedMessage, prepare_message
from inro_async._routes import ROUTES
from inro_async.errors import (
    APIResponseValidationError,
    APIStatusError,
    InroError,
    InvalidArgumentError,
    QuotaWaitTooLongError,
)
from inro_async.governor._base import Priority
from inro_async.jobs._accounting import check_accounted
from inro_async.jobs._items import (
    Identifier,
    Outcome,
    chunk_ranges,
    identifier_keys_text,
    normalize_recipients,
    outcomes_from_echoes,
    recipient_lists,
)
from inro_async.jobs._job import DEFAULT_CONCURRENCY, NOTICE_AFTER, Job, JobOptions
from inro_async.jobs._operation import ChunkContext
from inro_async.jobs._payload import payload_fingerprint
from inro_async.jobs._progress import ProgressCallback
from inro_async.jobs._report import JobReport
from inro_async.jobs._runner import run_fanout

if TYPE_CHECKING:
    import os

    from inro_async.client import Client

__all__ = ["MULTIPART_MAX_PARTS", "SendMessages", "UploadOnce", "is_fatal_for_all", "send_many"]


def is_fatal_for_all(error: BaseException) -> bool:
    """A 4xx other than 429 refuses what every chunk shares (token, plan, message, scenario).

    Recipients are validated before anything is sent, so a refusal is about the job itself and
    repeating it for the remaining chunks would only spend quota.
    """
    return isinstance(error, APIStatusError) and 400 <= error.status < 500 and error.status != 429


MULTIPART_MAX_PARTS = 1000
"""The most parts a multipart message form may have (aiohttp's default limit, so the fake's;
Rack's is 4,096). A job whose one request would carry more uploads its file first."""


class UploadOnce:
    """A message's file, uploaded the first time a chunk needs it; later chunks reuse the URL.

    Chunks run concurrently: the first to come uploads (``POST /media_files``) while the others
    wait, then each sends the message by the uploaded file's URL, as JSON, whatever its number
    of recipients. A failed upload is kept and raised to every chunk, which sends nothing.
    """

    def __init__(
        self, client: Client, message: PreparedMessage, chunks: int, *, max_wait: float
    ) -> None:
        # Not the chunk's client: the upload is not the chunk's send, so it is never journaled
        # as putting the chunk in flight. Paced like the job's own requests.
        self._client = client.with_options(priority=Priority.BULK, max_wait=max_wait)
        self._message = message
        self._chunks = chunks
        self._lock = asyncio.Lock()
        self._uploaded: PreparedMessage | None = None
        self.error: InroError | None = None
        """Why the upload failed, once it has."""

    def __repr__(self) -> str:
        return f"<UploadOnce {self._message.file!r} uploaded={self._uploaded is not None}>"

    async def message(self) -> PreparedMessage:
        """The message with its file replaced by the uploaded copy's URL."""
        async with self._lock:
            if self.error is not None:
                raise self.error
            if self._uploaded is None:
                try:
                    self._uploaded = await self._upload()
                except QuotaWaitTooLongError:
                    raise  # nothing was sent: the chunk waits (or pauses) as on any quota wait
                except InroError as exc:
                    file = self._message.file
                    exc.add_note(
                        f"send_many uploads {file.filename if file else 'its file'!r} once for "
                        f"its {self._chunks:,} chunks; that upload failed, so no message was sent"
                    )
                    self.error = exc
                    raise
            return self._uploaded

    async def _upload(self) -> PreparedMessage:
        file = self._message.file
        assert file is not None
        media_file = await self._client.media_files._upload_part(file)
        url = media_file.url
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            route = ROUTES["media_files.create"]
            raise APIResponseValidationError(
                f"the uploaded media file {media_file.id} has no http(s) url to send by: {url!r}",
                method=route.method,
                path=route.path,
                status=route.status,
                body=b"",
            )
        return self._message.by_reference(url)


@dataclass(frozen=True, slots=True)
class SendMessages:
    """The ``send_many`` operation: one ``POST /messages`` per chunk, up to 1,000 recipients.

    The message was checked (and its file read) once, for the whole job; each chunk sends it
    as it is, to recipients normalized once, through the resource's unchecked path.
    """

    message: PreparedMessage
    upload: UploadOnce | None = field(default=None, compare=False)
    """Set when the file goes by reference: uploaded once, every chunk sent by its URL."""
    kind: str = "send_many"
    idempotent: bool = False
    requests_per_chunk: float = 1.0

    def payload_fingerprint(self) -> str:
        """Hash of the message as given (text, type, media; a file by its content's hash).

        Never the uploaded copy's URL: a rerun of the same job uploads again and must match.
        """
        return payload_fingerprint(self.kind, dict(self.message.identity))

    def keys_text(self, items: Sequence[Identifier]) -> str:
        """``kind=value`` and a record separator (U+001E) per recipient."""
        return identifier_keys_text(items)

    async def run_chunk(self, ctx: ChunkContext, items: Sequence[Identifier]) -> list[Outcome]:
        """Send the message to this chunk's recipients in one call.

        Done only for the recipients the answer accounts for (``_accounting``): an answer whose
        counts do not add up makes the whole chunk unknown.
        """
        message = self.message if self.upload is None else await self.upload.message()
        result = await ctx.client.messages._send_prepared(message, recipient_lists(items))
        outcomes = outcomes_from_echoes(items, not_found=result.not_found, skipped=result.skipped)
        route = ROUTES["messages.send"]
        check_accounted(
            "recipients",
            method=route.method,
            path=route.path,
            sent=items,
            outcomes=outcomes,
            accepted=result.accepted_count,
            skipped=result.skipped_count,
            not_found=result.not_found_count,
        )
        return outcomes

    def is_fatal(self, error: BaseException) -> bool:
        """See ``is_fatal_for_all``; a failed upload of the shared file stops the job too."""
        upload_failed = self.upload is not None and error is self.upload.error
        return upload_failed or is_fatal_for_all(error)


def send_many(
    client: Client,
    recipients: Iterable[object],
    *,
    text: str | None = None,
    image: Any = None,
    video: Any = None,
    audio: Any = None,
    media_id: int | str | None = None,
    message_type: str | None = None,
    job: str | os.PathLike[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    chunk_size: int = 1000,
    resend_unknown: bool = False,
    stop_when_blocked_over: timedelta | float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Job[JobReport[Any]]:
    """Send one message to every recipient, 1,000 per call, paced by the client's governor.

    ``recipients`` mixes ids (int), usernames (str), emails (str with "@"), mappings
    (``{"email": …}``) and contacts; exact repeats are sent once. Everything is validated before
    the first request. A local file (bytes, a path, a file object) is read once; when the job
    takes more than one request it is uploaded once (``POST /media_files``) and every chunk
    refers to it by URL. ``job="name"`` keeps a journal so a rerun skips what was done; a chunk
    whose answer was lost is reported ``unknown`` and only sent again with
    ``resend_unknown=True``. Returns a ``Job``: ``report = await job``.
    """
    if not isinstance(recipients, Iterable) or isinstance(recipients, str | bytes | Mapping):
        raise InvalidArgumentError(
            "recipients", "must be a list (or other iterable) of recipients, not a single one"
        )
    message = prepare_message(
        text=text,
        image=image,
        video=video,
        audio=audio,
        media_id=media_id,
        message_type=message_type,
    )
    options = JobOptions.build(
        job=job,
        concurrency=concurrency,
        chunk_size=chunk_size,
        resend_unknown=resend_unknown,
        stop_when_blocked_over=stop_when_blocked_over,
        on_progress=on_progress,
    )
    unique = normalize_recipients(recipients)
    ranges = chunk_ranges(len(unique.keys), chunk_size)
    upload = None
    if message.file is not None:
        parts = len(ranges[0]) + len(message.fields) + 1
        if len(ranges) > 1 or parts > MULTIPART_MAX_PARTS:
            # The job's quota-wait rule (jobs._runner): announce, wait or pause past it.
            max_wait = NOTICE_AFTER
            if options.stop_when_blocked_over is not None:
                max_wait = min(max_wait, options.stop_when_blocked_over)
            upload = UploadOnce(client, message, len(ranges), max_wait=max_wait)
    return run_fanout(client, SendMessages(message, upload), unique, ranges, options)
