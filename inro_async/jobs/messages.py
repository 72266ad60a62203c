"""``send_many``: one message to any number of recipients, 1,000 per ``POST /messages``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from inro_async.errors import APIStatusError, InvalidArgumentError
from inro_async.jobs._items import (
    Identifier,
    Outcome,
    chunk_ranges,
    identifier_keys_text,
    normalize_recipients,
    outcomes_from_echoes,
    recipient_lists,
)
from inro_async.jobs._payload import payload_fingerprint
from inro_async.jobs._progress import ProgressCallback
from inro_async.jobs._report import JobReport
from inro_async.jobs._runner import (
    DEFAULT_CONCURRENCY,
    ChunkContext,
    Job,
    JobOptions,
    run_fanout,
)

if TYPE_CHECKING:
    import os

    from inro_async.client import Client

__all__ = ["check_message", "is_fatal_for_all", "send_many"]


def check_message(
    *,
    text: str | None,
    image: Any,
    video: Any,
    audio: Any,
    media_id: int | None,
    message_type: str | None,
) -> dict[str, Any]:
    """The message's fields for ``messages.send``, checked once for the whole job.

    The rules are the resource's own (``resources.messages._message``): one place decides what
    a valid message is, whether it is sent once or to 100,000 recipients.
    """
    from inro_async.resources.messages import _message

    _message(
        text=text,
        image=image,
        video=video,
        audio=audio,
        media_id=media_id,
        message_type=message_type,
    )
    fields: dict[str, Any] = {
        "text": text,
        "image": image,
        "video": video,
        "audio": audio,
        "media_id": media_id,
        "message_type": message_type,
    }
    return {key: value for key, value in fields.items() if value is not None}


def is_fatal_for_all(error: BaseException) -> bool:
    """A 4xx other than 429 refuses what every chunk shares (token, plan, message, scenario).

    Recipients are validated before anything is sent, so a refusal is about the job itself and
    repeating it for the remaining chunks would only spend quota.
    """
    return isinstance(error, APIStatusError) and 400 <= error.status < 500 and error.status != 429


@dataclass(frozen=True, slots=True)
class SendMessages:
    """The ``send_many`` operation: one ``POST /messages`` per chunk, up to 1,000 recipients."""

    message: Mapping[str, Any]
    kind: str = "send_many"
    idempotent: bool = False
    requests_per_chunk: float = 1.0

    def payload_fingerprint(self) -> str:
        """Hash of the message (text, media, type)."""
        return payload_fingerprint(self.kind, self.message)

    def keys_text(self, items: Sequence[Identifier]) -> str:
        """``kind=value`` and a record separator (U+001E) per recipient."""
        return identifier_keys_text(items)

    async def run_chunk(self, ctx: ChunkContext, items: Sequence[Identifier]) -> list[Outcome]:
        """Send the message to this chunk's recipients in one call."""
        # Both parts were checked as plain mappings (check_message, normalize_recipients).
        fields: dict[str, Any] = {**recipient_lists(items), **self.message}
        result = await ctx.client.messages.send(**fields)
        return outcomes_from_echoes(items, not_found=result.not_found, skipped=result.skipped)

    def is_fatal(self, error: BaseException) -> bool:
        """See ``is_fatal_for_all``."""
        return is_fatal_for_all(error)


def send_many(
    client: Client,
    recipients: Iterable[object],
    *,
    text: str | None = None,
    image: Any = None,
    video: Any = None,
    audio: Any = None,
    media_id: int | None = None,
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
    the first request. ``job="name"`` keeps a journal so a rerun skips what was done; a chunk
    whose answer was lost is reported ``unknown`` and only sent again with
    ``resend_unknown=True``. Returns a ``Job``: ``report = await job``.
    """
    if not isinstance(recipients, Iterable) or isinstance(recipients, str | bytes | Mapping):
        raise InvalidArgumentError(
            "recipients", "must be a list (or other iterable) of recipients, not a single one"
        )
    message = check_message(
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
    return run_fanout(client, SendMessages(message), unique, ranges, options)
