"""Fake handler of ``POST /messages``: one message to up to 1,000 recipients (JSON or multipart)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from inro_async.testing._http import ApiError, Handler, body, json_response, org_of
from inro_async.testing.store import Organization

__all__ = ["HANDLERS"]

MESSAGE_TYPES = ("text", "image", "video", "audio", "share")
MEDIA_FIELDS = ("image", "video", "audio")
SINGULAR = {"contact_id": "id", "contact_username": "username", "contact_email": "email"}
PLURAL = {"contact_ids": "id", "contact_usernames": "username", "contact_emails": "email"}
MAX_RECIPIENTS = 1000


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
        if isinstance(media_id, str) and media_id.isascii() and media_id.isdigit():
            media_id = int(media_id)  # Instagram's ids often travel as strings: the same id
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


HANDLERS: dict[str, Handler] = {"messages.send": messages_send}
"""Route name → handler for this module's routes."""
