"""``inro.messages``: direct messages (docs/wire.md, Messages; [ref] [help] rich messages)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from inro_async._http import FilePart
from inro_async.errors import InvalidArgumentError
from inro_async.models.messaging import (
    MEDIA_MESSAGE_TYPES,
    MESSAGE_TYPES,
    MessageType,
    SendResult,
)
from inro_async.resources._base import Resource, multipart
from inro_async.resources._validate import (
    BinaryInput,
    FileInput,
    check_choice,
    check_id,
    check_text,
    media_input,
    message_recipients,
)

if TYPE_CHECKING:
    from inro_async.jobs import Job, JobReport, ProgressCallback

__all__ = ["MediaInput", "Messages", "PreparedMessage", "prepare_message"]

MediaInput = str | BinaryInput
"""A message's media: an ``http(s)`` URL, or bytes / a ``pathlib.Path`` / a binary file."""


@dataclass(frozen=True, slots=True, repr=False)
class PreparedMessage:
    """A message checked once and its file read once: what every send of it carries.

    ``fields`` are the body's fields after the recipients (``message_type``, ``content``,
    ``media_id``, a media URL), in order; ``file`` is the media file to send as multipart.
    ``identity`` describes the message as it was given, files by their content's hash: equal
    messages have equal identities (a job's journal compares them to recognize a rerun).
    """

    fields: tuple[tuple[str, Any], ...]
    file: FilePart | None = None
    identity: tuple[tuple[str, Any], ...] = ()

    def __repr__(self) -> str:
        kind = dict(self.fields).get("message_type")
        return f"<PreparedMessage {kind} file={self.file!r}>"

    def by_reference(self, url: str) -> PreparedMessage:
        """The same message with its file given by ``url`` (where an uploaded copy is)."""
        if self.file is None:
            return self
        return replace(self, fields=(*self.fields, (self.file.name, url)), file=None)

    def body(self, recipients: Mapping[str, Any]) -> dict[str, Any]:
        """The ``POST /messages`` fields for ``recipients`` (the recipient fields, checked)."""
        return {**recipients, **dict(self.fields)}


def _content_hash(value: object, data: bytes) -> dict[str, str]:
    # The shapes jobs have always journaled: a path by its file's hash, other bytes by theirs.
    key = "file_sha256" if isinstance(value, os.PathLike) else "sha256"
    return {key: hashlib.sha256(data).hexdigest()}


def prepare_message(
    *,
    text: str | None,
    image: MediaInput | None,
    video: MediaInput | None,
    audio: MediaInput | None,
    media_id: int | None,
    message_type: str | None,
) -> PreparedMessage:
    """The message checked, its file read: the type is inferred from the media given."""
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
    if text is not None:
        fields["content"] = text
    if media_id is not None:
        fields["media_id"] = check_id("media_id", media_id)
    identity: dict[str, Any] = {
        "text": text,
        "media_id": media_id,
        "message_type": message_type,
        **media,
    }
    file: FilePart | None = None
    for name, value in media.items():  # at most one
        checked = media_input(name, value)
        if isinstance(checked, FileInput):
            file = FilePart(name, checked.filename, checked.content_type, checked.content)
            identity[name] = _content_hash(value, checked.content)
        else:
            fields[name] = checked
    described = tuple(sorted((k, v) for k, v in identity.items() if v is not None))
    return PreparedMessage(tuple(fields.items()), file, described)


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
        message = prepare_message(
            text=text,
            image=image,
            video=video,
            audio=audio,
            media_id=media_id,
            message_type=message_type,
        )
        return await self._send_prepared(message, recipients)

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
            return await self._call("messages.send", SendResult, form=form)
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
