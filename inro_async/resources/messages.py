"""``inro.messages``: direct messages (docs/wire.md, Messages; [ref] [help] rich messages)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from inro_async.errors import InvalidArgumentError
from inro_async.models.messaging import (
    MEDIA_MESSAGE_TYPES,
    MESSAGE_TYPES,
    MessageType,
    SendResult,
)
from inro_async.resources._base import Resource
from inro_async.resources._validate import (
    BinaryInput,
    FileInput,
    check_choice,
    check_id,
    check_text,
    media_input,
    message_recipients,
    multipart,
)

if TYPE_CHECKING:
    import os

    from inro_async.jobs import Job, JobReport, ProgressCallback

__all__ = ["MediaInput", "Messages"]

MediaInput = str | BinaryInput
"""A message's media: an ``http(s)`` URL, or bytes / a ``pathlib.Path`` / a binary file."""


def _message(
    *,
    text: str | None,
    image: MediaInput | None,
    video: MediaInput | None,
    audio: MediaInput | None,
    media_id: int | None,
    message_type: str | None,
) -> tuple[dict[str, Any], dict[str, FileInput]]:
    """The message's fields and files, checked: the type is inferred from the media given."""
    check_choice("message_type", message_type, MESSAGE_TYPES)
    media = {
        name: value
        for name, value in (("image", image), ("video", video), ("audio", audio))
        if value is not None
    }
    if len(media) > 1:
        raise InvalidArgumentError(
            "/".join(media), "a message carries one media: pass image=, video= or audio="
        )
    inferred = next(iter(media), "share" if media_id is not None else "text")
    kind = message_type or inferred
    if media and kind != inferred:
        raise InvalidArgumentError(
            "message_type", f"is {kind!r} but {inferred}= was given; they must match"
        )
    if kind in MEDIA_MESSAGE_TYPES and kind not in media:
        raise InvalidArgumentError(kind, f"a {kind} message needs {kind}= (a URL or a file)")
    if kind == "share" and media_id is None:
        raise InvalidArgumentError("media_id", "a share message needs media_id= (see medias)")
    if kind != "share" and media_id is not None:
        raise InvalidArgumentError(
            "media_id", f"is only for share messages, and this one is {kind!r}"
        )
    if kind == "text":
        check_text("text", text)
    elif text is not None and not isinstance(text, str):
        raise InvalidArgumentError("text", f"must be a string, got {type(text).__name__}")

    fields: dict[str, Any] = {"message_type": kind}
    files: dict[str, FileInput] = {}
    if text is not None:
        fields["content"] = text
    if media_id is not None:
        fields["media_id"] = check_id("media_id", media_id)
    for name, value in media.items():
        checked = media_input(name, value)
        if isinstance(checked, FileInput):
            files[name] = checked
        else:
            fields[name] = checked
    return fields, files


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
        media_id: int | None = None,
        message_type: MessageType | None = None,
    ) -> SendResult:
        """Queue one message to one contact, or to up to 1,000 through the list arguments.

        The type follows the media given (``image=``, ``video=``, ``audio=``: a URL, or bytes,
        a ``pathlib.Path`` or a binary file, sent as multipart) or ``media_id=`` (a share of
        one of the account's posts); ``text=`` is the message, or the caption of a media.
        Contacts that are not active are skipped. The send is never repeated once it may have
        reached the server: an interrupted one raises with ``may_have_been_processed=True``.
        """
        recipients = message_recipients(
            contact_id=contact_id,
            contact_username=contact_username,
            contact_email=contact_email,
            contact_ids=contact_ids,
            contact_usernames=contact_usernames,
            contact_emails=contact_emails,
        )
        fields, files = _message(
            text=text,
            image=image,
            video=video,
            audio=audio,
            media_id=media_id,
            message_type=message_type,
        )
        body = {**recipients, **fields}
        if files:
            return await self._call("messages.send", SendResult, form=multipart(body, files))
        return await self._call("messages.send", SendResult, json=body)

    def send_many(
        self,
        recipients: Iterable[object],
        *,
        text: str | None = None,
        image: Any = None,
        video: Any = None,
        audio: Any = None,
        media_id: int | None = None,
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
        from inro_async.jobs import send_many

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
