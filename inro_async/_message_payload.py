"""A message checked once and its file read once: what ``messages.send`` and ``send_many`` send.

Below both the resources and the jobs (docs/architecture.md): a job prepares its message here
and every chunk sends the same ``PreparedMessage``, without checking it or reading its file again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from inro_async._http import FilePart
from inro_async._json_values import check_json_value
from inro_async._validate import BinaryInput, FileInput, check_choice, check_text, media_input
from inro_async._validate_contacts import check_media_id
from inro_async.errors import InvalidArgumentError
from inro_async.models.messaging import MEDIA_MESSAGE_TYPES, MESSAGE_TYPES

__all__ = ["MediaInput", "PreparedMessage", "prepare_message"]

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
    media_id: int | str | None,
    message_type: str | None,
) -> PreparedMessage:
    """The message checked, its file read: the type is inferred from the media given."""
    if (
        type(text) is str
        and image is None
        and video is None
        and audio is None
        and media_id is None
        and (message_type is None or message_type == "text")
    ):
        # A text message, the usual single send: what ``_prepare`` makes of it, without its
        # walk over the media (tests/test_message_payload.py compares the two).
        check_text("text", text)
        if message_type is None:
            return PreparedMessage(
                (("message_type", "text"), ("content", text)), None, (("text", text),)
            )
        described = (("message_type", message_type), ("text", text))
        return PreparedMessage((("message_type", "text"), ("content", text)), None, described)
    return _prepare(text, image, video, audio, media_id, message_type)


def _prepare(
    text: str | None,
    image: MediaInput | None,
    video: MediaInput | None,
    audio: MediaInput | None,
    media_id: int | str | None,
    message_type: str | None,
) -> PreparedMessage:
    """``prepare_message``, every case."""
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
    elif text is not None:
        check_json_value("text", text)  # a caption: check_text checks a message's text

    fields: dict[str, Any] = {"message_type": kind}
    if text is not None:
        fields["content"] = text
    if media_id is not None:
        media_id = fields["media_id"] = check_media_id("media_id", media_id)
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
