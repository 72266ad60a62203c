"""``inro.messages``: direct messages (docs/wire.md, Messages; [ref] [help] rich messages)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from inro_async._message_payload import MediaInput, PreparedMessage, prepare_message
from inro_async._validate_contacts import message_recipients
from inro_async.jobs import send_many
from inro_async.jobs._accounting import check_accounted
from inro_async.jobs._items import outcomes_from_echoes, recipient_identifiers
from inro_async.models.messaging import (
    MessageType,
    SendResult,
)
from inro_async.resources._base import Resource, multipart

if TYPE_CHECKING:
    from inro_async.jobs import Job, JobReport, ProgressCallback

__all__ = ["MediaInput", "Messages", "PreparedMessage", "prepare_message"]


class Messages(Resource):
    """Direct messages: text, image, video, audio and shared posts."""

    async def send(
        self,
        *,
        contact_id: int | None = None,
        contact_username: str | None = None,
        contact_email: str | None = None,
        contact_ids: Iterable[int] | None = None,
        contact_usernames: Iterable[str] | None = None,
        contact_emails: Iterable[str] | None = None,
        text: str | None = None,
        image: MediaInput | None = None,
        video: MediaInput | None = None,
        audio: MediaInput | None = None,
        media_id: int | str | None = None,
        message_type: MessageType | None = None,
    ) -> SendResult:
        """Queue one message to one contact, or to up to 1,000 through the list arguments.

        The type follows the media given (``image=``, ``video=``, ``audio=``: a URL, or bytes,
        a ``pathlib.Path`` or a binary file, sent as multipart) or ``media_id=`` (a share of
        one of the account's posts); ``text=`` is the message, or the caption of a media.
        Contacts that are not active are skipped. The send is never repeated once it may have
        reached the server: an interrupted one raises with ``may_have_been_processed=True``.
        ``media_id`` may be given as a number or as its digits (``"17900000000"``).
        """
        recipients = message_recipients(
            contact_id=contact_id,
            contact_username=contact_username,
            contact_email=contact_email,
            contact_ids=contact_ids,
            contact_usernames=contact_usernames,
            contact_emails=contact_emails,
        )
        message = prepare_message(
            text=text,
            image=image,
            video=video,
            audio=audio,
            media_id=media_id,
            message_type=message_type,
        )
        result = await self._send_prepared(message, recipients)
        # The rule send_many applies to every chunk: done only when the answer accounts for
        # each recipient sent (its counts add up; whoever it counts as skipped or not found, it
        # names). ``{}`` from a proxy, or counts short of what was sent, is no success.
        if (
            result.accepted_count == 1
            and len(recipients) == 1
            and "contact_id" in recipients
            and not (result.skipped_count or result.not_found_count)
            and not (result.skipped or result.not_found)
        ):
            return result  # one contact, accepted: accounted for (check_accounted's usual case)
        sent = recipient_identifiers(recipients)
        check_accounted(
            "recipients",
            method="POST",
            path="/messages",
            sent=sent,
            outcomes=outcomes_from_echoes(sent, not_found=result.not_found, skipped=result.skipped),
            accepted=result.accepted_count,
            skipped=result.skipped_count,
            not_found=result.not_found_count,
        )
        return result

    async def _send_prepared(
        self, message: PreparedMessage, recipients: Mapping[str, Any]
    ) -> SendResult:
        """Send ``message`` to ``recipients`` without checking either again.

        The SDK's own path (``send_many`` sends every chunk this way): ``recipients`` are the
        recipient fields already checked (``message_recipients``, or a job's normalized
        identifiers as ``recipient_lists``). A message with a file goes as multipart.
        """
        body = message.body(recipients)
        if message.file is not None:
            form = multipart(body, [message.file])
            result: SendResult = await self._call(
                "messages.send", SendResult, form=form, checked=True
            )
        else:
            result = await self._call("messages.send", SendResult, json=body, checked=True)
        return result

    def send_many(
        self,
        recipients: Iterable[object],
        *,
        text: str | None = None,
        image: Any = None,
        video: Any = None,
        audio: Any = None,
        media_id: int | str | None = None,
        message_type: MessageType | None = None,
        job: str | os.PathLike[str] | None = None,
        concurrency: int | None = None,
        resend_unknown: bool = False,
        stop_when_blocked_over: timedelta | float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Job[JobReport[Any]]:
        """Send one message to any number of recipients, 1,000 per call, resumable.

        See ``inro_async.jobs.send_many``; ``report = await inro.messages.send_many(...)``.
        """
        extra: dict[str, Any] = {} if concurrency is None else {"concurrency": concurrency}
        return send_many(
            self._client,
            recipients,
            text=text,
            image=image,
            video=video,
            audio=audio,
            media_id=media_id,
            message_type=message_type,
            job=job,
            resend_unknown=resend_unknown,
            stop_when_blocked_over=stop_when_blocked_over,
            on_progress=on_progress,
            **extra,
        )
