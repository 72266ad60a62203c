"""Argument rules checked before a request is sent: bad input costs no quota.

Each check raises ``InvalidArgumentError`` naming the argument and the rule it broke. These are
the generic ones (pages, counts, lists, texts, choices, durations, URLs, files); the rules about
contacts (identifiers and every object id, recipients, updates, bulk entries, list order) are in
``_validate_contacts.py``.
"""

from __future__ import annotations

import math
import mimetypes
from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass
from datetime import timedelta
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO

from inro_async._json_values import check_json_value
from inro_async._limits import MAX_CHUNK_SIZE, MAX_CONCURRENCY, MAX_PER_PAGE
from inro_async.errors import InvalidArgumentError


def check_page(page: int) -> None:
    """``page`` is a 1-based integer."""
    if type(page) is int and page >= 1:
        return  # the usual case, on every page: one exact type test
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidArgumentError("page", f"must be an integer >= 1, got {page!r}")


def check_per_page(per_page: int) -> None:
    """``per_page`` is an integer from 1 to 1,000."""
    if type(per_page) is int and 1 <= per_page <= MAX_PER_PAGE:
        return
    if (
        isinstance(per_page, bool)
        or not isinstance(per_page, int)
        or not (1 <= per_page <= MAX_PER_PAGE)
    ):
        raise InvalidArgumentError(
            "per_page", f"must be an integer from 1 to {MAX_PER_PAGE}, got {per_page!r}"
        )


def check_count(argument: str, items: Sized, *, maximum: int) -> None:
    """A list argument holds from 1 to ``maximum`` items."""
    count = len(items)
    if count == 0:
        raise InvalidArgumentError(argument, "must not be empty")
    if count > maximum:
        raise InvalidArgumentError(
            argument, f"holds {count:,} items; the API accepts at most {maximum:,} per call"
        )


def check_text(argument: str, value: object) -> str:
    """A non-empty string that UTF-8 can encode."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(argument, f"must be a non-empty string, got {value!r}")
    check_json_value(argument, value)
    return value


def check_offset(offset: int | None) -> None:
    """``offset`` is ``None`` or an integer >= 0."""
    if offset is not None and (
        isinstance(offset, bool) or not isinstance(offset, int) or offset < 0
    ):
        raise InvalidArgumentError("offset", f"must be an integer >= 0, got {offset!r}")


def check_concurrency(concurrency: int, *, maximum: int = MAX_CONCURRENCY) -> None:
    """``concurrency`` (requests in flight for a walk or job) is an integer from 1 to 64."""
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= maximum
    ):
        raise InvalidArgumentError(
            "concurrency", f"must be an integer from 1 to {maximum}, got {concurrency!r}"
        )


def check_chunk_size(chunk_size: int, *, maximum: int = MAX_CHUNK_SIZE) -> None:
    """``chunk_size`` (items per request of a fan-out job) is an integer from 1 to 1,000."""
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int)
        or not 1 <= chunk_size <= maximum
    ):
        raise InvalidArgumentError(
            "chunk_size", f"must be an integer from 1 to {maximum}, got {chunk_size!r}"
        )


def check_seconds(argument: str, value: object) -> float | None:
    """``None``, or a duration in seconds: a ``timedelta`` or a number >= 0 (not NaN)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or math.isnan(value)
        or value < 0
    ):
        raise InvalidArgumentError(
            argument, f"must be a number of seconds >= 0 or a timedelta, got {value!r}"
        )
    return float(value)


def check_number(
    argument: str, value: object, rule: str, *, zero: bool = False, at_most: float = math.inf
) -> None:
    """``value`` is a finite number (not a bool) above 0 (or 0, with ``zero``), at most ``at_most``.

    ``rule`` says so in the error: ``"positive seconds"``, ``"a share in (0, 1]"``.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (value >= 0 if zero else value > 0)
        or not value <= at_most
        or value == math.inf
    ):
        raise InvalidArgumentError(argument, f"must be {rule}, got {value!r}")


def check_choice(argument: str, value: object, allowed: Iterable[str]) -> None:
    """``value`` is ``None`` or one of ``allowed``."""
    if value is None:
        return
    options = tuple(allowed)
    if value is not None and value not in options:
        raise InvalidArgumentError(argument, f"must be one of {', '.join(options)}, got {value!r}")


def check_url(argument: str, value: object) -> str:
    """An absolute ``http(s)`` URL (the API downloads it)."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise InvalidArgumentError(argument, f"must be an http(s) URL, got {value!r}")
    if len(value.split("://", 1)[1].strip()) == 0:
        raise InvalidArgumentError(argument, f"must be an http(s) URL, got {value!r}")
    check_json_value(argument, value)
    return value


def check_list(argument: str, values: object) -> list[Any]:
    """A list argument given as a list, tuple or other sequence, never a lone string."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise InvalidArgumentError(argument, f"must be a list, got {type(values).__name__}")
    return list(values)


@dataclass(frozen=True, slots=True, repr=False)
class FileInput:
    """A file to upload, read once so that a retried request can send it again."""

    content: bytes
    filename: str
    content_type: str

    def __repr__(self) -> str:
        return f"<FileInput {self.filename!r} {self.content_type} {len(self.content):,} bytes>"


BinaryInput = bytes | bytearray | memoryview | PathLike[str] | BinaryIO
"""A file given as bytes, a path (``pathlib.Path``) or a binary file object."""


def file_input(argument: str, value: object, *, default_name: str) -> FileInput:
    """Read bytes, a ``pathlib.Path`` or a binary file object into a ``FileInput``.

    A plain string is refused (it is ambiguous: a URL goes as a string where URLs are accepted, a
    local file as ``pathlib.Path``).
    """
    if isinstance(value, bytes | bytearray | memoryview):
        content, filename = bytes(value), default_name
    elif isinstance(value, PathLike):
        path = Path(value)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InvalidArgumentError(argument, f"cannot read {str(path)!r}: {exc}") from None
        filename = _sendable_name(path.name)
    elif isinstance(value, str):
        raise InvalidArgumentError(
            argument,
            f"a string must be an http(s) URL; pass a local file as pathlib.Path, got {value!r}",
        )
    elif callable(getattr(value, "read", None)):
        data = _read_and_rewind(value)
        if not isinstance(data, bytes | bytearray):
            raise InvalidArgumentError(
                argument, "the file object must be opened in binary mode ('rb')"
            )
        content = bytes(data)
        name = getattr(value, "name", None)
        filename = _sendable_name(Path(name).name) if isinstance(name, str) and name else ""
        filename = filename or default_name
    else:
        raise InvalidArgumentError(
            argument,
            f"expected bytes, a pathlib.Path or a binary file object, got {type(value).__name__}",
        )
    if not content:
        raise InvalidArgumentError(argument, "the file is empty")
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return FileInput(content, filename, content_type)


def _sendable_name(name: str) -> str:
    """A file name as text a multipart header can carry.

    A name that is not valid UTF-8 on disk reaches Python with lone surrogates
    (``surrogateescape``); its undecodable bytes become U+FFFD instead of a raw encode error.
    """
    if name.isascii():
        return name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _read_and_rewind(file: Any) -> object:
    """The rest of a file object, which is put back where it was when it can seek.

    The file stays the caller's, and a job sending it to several chunks reads it again.
    """
    seekable = getattr(file, "seekable", None)
    position = file.tell() if callable(seekable) and seekable() else None
    data = file.read()
    if position is not None:
        file.seek(position)
    return data


def media_input(argument: str, value: object) -> str | FileInput:
    """A message's media: an ``http(s)`` URL string, or a file to send as multipart."""
    if isinstance(value, str):
        return check_url(argument, value)
    return file_input(argument, value, default_name=argument)
