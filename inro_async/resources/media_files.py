"""``inro.media_files``: files stored by Inrō for messages and actions ([help] media files)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from inro_async._http import FilePart
from inro_async._validate import BinaryInput, check_choice, check_url, file_input
from inro_async._validate_contacts import check_id
from inro_async.models.media import MEDIA_FILE_TYPES, MediaFile, MediaFileType
from inro_async.pagination import Page
from inro_async.resources._base import DEFAULT_ITER_PER_PAGE, Resource, multipart

__all__ = ["MediaFiles"]


class MediaFiles(Resource):
    """Uploaded media files."""

    async def list(
        self,
        *,
        page: int = 1,
        per_page: int | None = None,
        media_type: MediaFileType | None = None,
    ) -> Page[MediaFile]:
        """One page of media files, optionally of one ``media_type``."""
        check_choice("media_type", media_type, MEDIA_FILE_TYPES)
        return await self._page(
            "media_files.list",
            MediaFile,
            page=page,
            per_page=per_page,
            params={"media_type": media_type},
        )

    def iter(
        self,
        *,
        per_page: int = DEFAULT_ITER_PER_PAGE,
        concurrency: int = 1,
        media_type: MediaFileType | None = None,
    ) -> AsyncGenerator[MediaFile, None]:
        """Every media file, optionally of one ``media_type``."""
        check_choice("media_type", media_type, MEDIA_FILE_TYPES)
        return self._iter(
            "media_files.list",
            MediaFile,
            per_page=per_page,
            concurrency=concurrency,
            params={"media_type": media_type},
        )

    async def get(self, media_file_id: int) -> MediaFile:
        """One media file."""
        check_id("media_file_id", media_file_id)
        return await self._call("media_files.get", MediaFile, path={"id": media_file_id})

    async def upload(
        self,
        file: BinaryInput,
        *,
        caption: str | None = None,
        media_type: MediaFileType | None = None,
    ) -> MediaFile:
        """Upload bytes, a ``pathlib.Path`` or a binary file object as multipart.

        The file is read into memory once, so a request repeated after a 429 sends it again.
        """
        check_choice("media_type", media_type, MEDIA_FILE_TYPES)
        upload = file_input("file", file, default_name="upload")
        part = FilePart("file", upload.filename, upload.content_type, upload.content)
        return await self._upload_part(part, caption=caption, media_type=media_type)

    async def _upload_part(
        self, part: FilePart, *, caption: str | None = None, media_type: str | None = None
    ) -> MediaFile:
        """Upload a file already read (and checked): ``part`` is sent as the ``file`` part.

        The SDK's own path for a file it holds in memory (``send_many`` uploads a message's
        file once this way), so the file is not read or checked a second time.
        """
        part = FilePart("file", part.filename, part.content_type, part.data)
        fields = {"caption": caption, "media_type": media_type}
        return await self._call("media_files.create", MediaFile, form=multipart(fields, [part]))

    async def create_from_url(self, file_url: str, *, caption: str | None = None) -> MediaFile:
        """Have Inrō download and store the file at ``file_url`` (type from its extension)."""
        body = {"file_url": check_url("file_url", file_url)}
        if caption is not None:
            body["caption"] = caption
        return await self._call("media_files.create", MediaFile, json=body)
