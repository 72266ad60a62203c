"""Fake handlers of media: the organization's Instagram posts (medias) and uploaded files."""

from __future__ import annotations

import mimetypes

from aiohttp import web

from inro_async.testing._http import (
    ApiError,
    Handler,
    body,
    found,
    int_path,
    json_response,
    org_of,
    paginate,
)
from inro_async.testing.generate import iso

__all__ = ["HANDLERS"]

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


async def medias_list(request: web.Request) -> web.StreamResponse:
    return paginate(request, org_of(request).medias)


async def media_files_list(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    wanted = request.query.get("media_type")
    files = [f for f in org.media_files.values() if wanted in (None, "", f["media_type"])]
    return paginate(request, files)


async def media_files_get(request: web.Request) -> web.StreamResponse:
    org = org_of(request)
    return json_response(found(org.media_files, int_path(request), "Media file"))


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
    "medias.list": medias_list,
    "media_files.list": media_files_list,
    "media_files.create": media_files_create,
    "media_files.get": media_files_get,
}
"""Route name → handler for this module's routes."""
