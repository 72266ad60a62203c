"""Fake handlers: messages, Instagram posts (medias), uploaded media files."""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from inro_async.testing._http import ApiError, body, int_path, json_response, org_of, paginate
from inro_async.testing.generate import iso
from inro_async.testing.store import Organization

__all__ = ["HANDLERS"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MESSAGE_TYPES = ("text", "image", "video", "audio", "share")
MEDIA_FIELDS = ("image", "video", "audio")
SINGULAR = {"contact_id": "id", "contact_username": "username", "contact_email": "email"}
PLURAL = {"contact_ids": "id", "contact_usernames": "username", "contact_emails": "email"}
MAX_RECIPIENTS = 1000
_EXTENSION_TYPES = {
    ".jpg": "image",
    ".jpeg": "image",
    ".png": "image",
    ".gif": "image",
    ".webp": "image",
    ".mp4": "video",
    ".mov": "video",
    ".webm": "video",
    ".mp3": "audio",
    ".m4a": "audio",
    ".ogg": "audio",
    ".wav": "audio",
    ".aac": "audio",
    ".pdf": "file",
}


async def _message_fields(request: web.Request) -> dict[str, Any]:
    """The send's fields from JSON, or from multipart (lists as repeated ``name[]`` fields)."""
    if request.content_type.startswith("multipart/"):
        form: MultiDictProxy[Any] = await request.post()
        fields: dict[str, Any] = {}
        for key in set(form.keys()):
            values = form.getall(key)
            if key.endswith("[]"):
                fields[key[:-2]] = list(values)
            else:
                fields[key] = values[-1]
        for key, value in list(fields.items()):
            if isinstance(value, web.FileField):
                data = value.file.read()
                fields[key] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": len(data),
                }
        for key in ("contact_id", "media_id"):
            if isinstance(fields.get(key), str) and fields[key].isdigit():
                fields[key] = int(fields[key])
        if isinstance(fields.get("contact_ids"), list):
            try:
                fields["contact_ids"] = [int(v) for v in fields["contact_ids"]]
            except ValueError:
                raise ApiError(400, "contact_ids must be integers") from None
        return fields
    return await body(request)


def _recipients(fields: dict[str, Any]) -> list[dict[str, Any]]:
    singular = [key for key in SINGULAR if fields.get(key) not in (None, "")]
    plural = [key for key in PLURAL if fields.get(key) is not None]
    if singular and plural:
        raise ApiError(400, "use singular recipient fields or plural lists, not both")
    if len(singular) > 1:
        raise ApiError(400, "pass exactly one of contact_id, contact_username, contact_email")
    if singular:
        return [{SINGULAR[singular[0]]: fields[singular[0]]}]
    if not plural:
        raise ApiError(
            400, "no recipient: pass contact_id(s), contact_username(s) or contact_email(s)"
        )
    recipients: list[dict[str, Any]] = []
    for key in plural:
        values = fields[key]
        if not isinstance(values, list):
            raise ApiError(400, f"{key} must be a list", field=key)
        recipients.extend({PLURAL[key]: value} for value in values)
    if not recipients:
        raise ApiError(400, "the recipient lists are empty")
    if len(recipients) > MAX_RECIPIENTS:
        raise ApiError(400, f"at most {MAX_RECIPIENTS} recipients per call, got {len(recipients)}")
    return recipients


def _media(fields: dict[str, Any], message_type: str, org: Organization) -> Any:
    for field in MEDIA_FIELDS:
        if fields.get(field) is not None and field != message_type:
            raise ApiError(400, f"{field} does not match message_type {message_type}", field=field)
    if message_type == "share":
        media_id = fields.get("media_id")
        if media_id is None:
            raise ApiError(400, "share messages need media_id", field="media_id")
        if not any(m["id"] == media_id for m in org.medias):
            raise ApiError(422, f"unknown media_id {media_id}", field="media_id")
        return {"media_id": media_id}
    if fields.get("media_id") is not None:
        raise ApiError(400, "media_id is only for share messages", field="media_id")
    if message_type in MEDIA_FIELDS:
        media = fields.get(message_type)
        if media is None:
            raise ApiError(400, f"{message_type} messages need the {message_type} field")
        if isinstance(media, str) and not media.startswith(("http://", "https://")):
            raise ApiError(400, f"{message_type} must be an http(s) URL or a file")
        return media
    return None


async def messages_send(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    fields = await _message_fields(request)
    recipients = _recipients(fields)
    message_type = fields.get("message_type") or "text"
    if message_type not in MESSAGE_TYPES:
        raise ApiError(400, f"message_type must be one of {', '.join(MESSAGE_TYPES)}")
    content = fields.get("content")
    if message_type == "text" and (not isinstance(content, str) or not content.strip()):
        raise ApiError(400, "text messages need content", field="content")
    media = _media(fields, message_type, org)
    accepted: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    not_found: list[dict[str, Any]] = []
    seen: set[int] = set()
    contacts = org.contacts
    for identifier in recipients:
        # Ids (the bulk case) looked up directly; the rest through the store's indexes.
        by_id = identifier.get("id")
        contact = contacts.get(by_id) if type(by_id) is int else org.find(identifier)
        if contact is None:
            not_found.append(identifier)
        elif contact["status"] != "active":
            skipped.append({**identifier, "reason": f"status is {contact['status']}"})
        elif contact["id"] not in seen:
            seen.add(contact["id"])
            accepted.append(contact)
    org.deliver_many(
        accepted, message_type=message_type, content=content, media=media, source="message"
    )
    return json_response(
        {
            "status": "queued",
            "accepted_count": len(accepted),
            "skipped_count": len(skipped),
            "skipped": skipped,
            "not_found_count": len(not_found),
            "not_found": not_found,
        },
        status=202,
    )


# -- medias and media files ------------------------------------------------------------------


async def medias_list(request: web.Request) -> web.StreamResponse:
    return paginate(request, org_of(request).medias)


async def media_files_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    wanted = request.query.get("media_type")
    files = [f for f in org.media_files.values() if wanted in (None, "", f["media_type"])]
    return paginate(request, files)


async def media_files_get(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    media_file = org.media_files.get(int_path(request))
    if media_file is None:
        raise ApiError(404, f"Media file not found: id {int_path(request)}")
    return json_response(media_file)


def _type_of(filename: str, content_type: str | None) -> str | None:
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in _EXTENSION_TYPES:
        return _EXTENSION_TYPES[suffix]
    guessed = content_type or mimetypes.guess_type(filename)[0] or ""
    major = guessed.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else None


async def media_files_create(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    now = org.clock()
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise ApiError(400, "multipart uploads need a 'file' part", field="file")
        data = upload.file.read()
        filename = upload.filename or "upload"
        media_type = str(form.get("media_type") or "") or _type_of(filename, upload.content_type)
        caption = form.get("caption")
        size = len(data)
    else:
        payload = await body(request)
        url = payload.get("file_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ApiError(400, "pass a multipart 'file' or a JSON 'file_url'", field="file_url")
        filename = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "download"
        media_type = _type_of(filename, None)
        caption = payload.get("caption")
        size = None
    if media_type is None:
        raise ApiError(422, f"cannot tell the media type of {filename!r}")
    file_id = org.next_id()
    media_file = {
        "id": file_id,
        "media_type": media_type,
        "caption": caption if isinstance(caption, str) else None,
        "url": f"https://cdn.inro.test/media/{file_id}/{filename}",
        "filename": filename,
        "size": size,
        "created_at": iso(now),
    }
    org.media_files[file_id] = media_file
    return json_response(media_file, status=201)


HANDLERS: dict[str, Handler] = {
    "messages.send": messages_send,
    "medias.list": medias_list,
    "media_files.list": media_files_list,
    "media_files.create": media_files_create,
    "media_files.get": media_files_get,
}
"""Route name → handler for this module's routes."""
