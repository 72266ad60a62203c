"""Reading the CLI's input files, validated whole before anything is sent.

Recipients (``--to FILE``): JSON Lines of ``{"id"|"username"|"email": …}``, a CSV with an ``id``,
``username`` or ``email`` column, or plain text with one id, username or email per line (a line
of ASCII digits is an id; ``-1`` or ``+336…`` is refused as an id, never sent as a username). A
row that has several identifiers (an ``inro contacts export`` file, say) is read by its ``id``,
else its ``username``, else its ``email``; other columns and keys are ignored.

Updates (``--from FILE``): JSON Lines of bulk entries ``{"id"|"username"|"email": …,
"contact": {…}}``, or a CSV whose row names the contact by ``id`` or ``username`` (or, when both
are empty, by ``email``) and whose other columns are the fields to set: ``email``, ``phone``,
``language``, ``notes``, ``status``, ``folder_ids`` (ids separated by ``;`` or ``|``) and
``custom_properties.<slug>``. Empty cells are left unchanged.

Every problem is reported as ``FILE:LINE: what is wrong``, and the whole file is read before the
first request, so a bad line 1,234 costs no quota. CSV headers are matched case-insensitively
(``Email`` is ``email``), except the slug after ``custom_properties.``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from inro_async.errors import InvalidArgumentError
from inro_async.jobs._items import Identifier, normalize_recipient
from inro_async.jobs.contacts import UpdateEntry, normalize_update

__all__ = ["InputFileError", "read_recipients", "read_updates"]

_IDENTIFIER_COLUMNS = ("id", "username", "email")
_FIELD_COLUMNS = ("email", "phone", "language", "notes", "status", "folder_ids")
_PROPERTY_PREFIX = "custom_properties."
_NUMBER = re.compile(r"[+-]?[0-9]+")
"""What is read as an id: ASCII digits (``int()`` also takes ``١٢``, ``1_000`` and spaces)."""


@dataclass(frozen=True)
class InputFileError(Exception):
    """A line of an input file is unusable; nothing has been sent."""

    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        # FILE:LINE without a thousands separator: the form editors and terminals turn into links.
        return f"{self.path}:{self.line}: {self.problem}"


@dataclass(frozen=True, slots=True)
class Row:
    """One record of an input file with the line it started on."""

    line: int
    value: Any


def _kind(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "jsonl" if first.lstrip().startswith("{") else "text"


def _jsonl_rows(path: Path, text: str) -> Iterator[Row]:
    decoder = msgspec.json.Decoder()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield Row(number, decoder.decode(line))
        except msgspec.DecodeError as exc:
            raise InputFileError(str(path), number, f"not valid JSON ({exc})") from None


def _csv_rows(path: Path, text: str) -> tuple[list[str], Iterator[Row]]:
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [_canonical_column(name) for name in (reader.fieldnames or [])]
    reader.fieldnames = header

    def rows() -> Iterator[Row]:
        for record in reader:
            if None in record:
                raise InputFileError(
                    str(path), reader.line_num, "more cells than the header has columns"
                )
            cells = {key: (value or "").strip() for key, value in record.items()}
            if any(cells.values()):
                yield Row(reader.line_num, cells)

    return header, rows()


def _canonical_column(name: str) -> str:
    """A header cell as the name the readers look for: known names in lower case."""
    name = name.strip()
    lowered = name.lower()
    if lowered in _IDENTIFIER_COLUMNS or lowered in _FIELD_COLUMNS:
        return lowered
    if lowered.startswith(_PROPERTY_PREFIX):
        return _PROPERTY_PREFIX + name[len(_PROPERTY_PREFIX) :]  # a slug keeps its case
    return name


def _first_identifier(record: dict[str, Any]) -> dict[str, Any]:
    """The row's ``id`` if given, else its ``username``, else its ``email``; the rest ignored."""
    for column in _IDENTIFIER_COLUMNS:
        value = record.get(column)
        if value is not None and value != "":
            return {column: value}
    raise InvalidArgumentError(
        "id/username/email", "the row names no contact: give an 'id', 'username' or 'email'"
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(str(path), 0, "no such file") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(str(path), 0, f"not UTF-8 text ({exc.reason})") from None


def _id(value: str) -> int:
    """A written id as an ``int``: ASCII digits, no sign (``-1`` is refused as an id).

    A signed number is no username either (Instagram's alphabet has no ``-`` or ``+``), so it
    is refused here with the id's rule rather than the username's.
    """
    if not _NUMBER.fullmatch(value):
        raise InvalidArgumentError("id", f"must be an integer, got {value!r}")
    if value[0] in "+-":
        raise InvalidArgumentError("id", f"must be a positive integer without a sign, got {value}")
    return int(value)


def _identifier_cell(column: str, value: str) -> int | str:
    return _id(value) if column == "id" else value


def read_recipients(path: Path) -> list[Identifier]:
    """Every recipient of ``path``, validated; raises ``InputFileError`` on the first bad line."""
    text = _read_text(path)
    kind = _kind(path, text)
    rows: Iterator[Row]
    if kind == "csv":
        header, rows = _csv_rows(path, text)
        columns = [name for name in header if name in _IDENTIFIER_COLUMNS]
        if not columns:
            raise InputFileError(
                str(path), 1, "the header needs an 'id', 'username' or 'email' column"
            )
    elif kind == "jsonl":
        rows = _jsonl_rows(path, text)
    else:
        rows = (
            Row(number, line.strip())
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip()
        )

    recipients: list[Identifier] = []
    for row in rows:
        try:
            value: Any = row.value
            if kind == "csv":
                value = {c: _identifier_cell(c, v) for c, v in _first_identifier(value).items()}
            elif kind == "jsonl" and isinstance(value, dict):
                value = _first_identifier(value)
            elif kind == "text" and _NUMBER.fullmatch(value):
                value = _id(value)  # "-1" is a bad id, not a username
            recipients.append(normalize_recipient(value, len(recipients), "recipient"))
        except InvalidArgumentError as exc:
            raise InputFileError(str(path), row.line, _problem(exc)) from None
    if not recipients:
        raise InputFileError(str(path), 0, "holds no recipients")
    return recipients


def _csv_update(cells: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the API's bulk entry."""
    identifiers = {c: cells[c] for c in ("id", "username") if cells.get(c)}
    if len(identifiers) > 1:
        raise InvalidArgumentError("id/username", "give one of 'id' or 'username', not both")
    contact: dict[str, Any] = {}
    if not identifiers:
        if not cells.get("email"):
            raise InvalidArgumentError("id/username/email", "the row names no contact")
        identifiers = {"email": cells["email"]}
    elif cells.get("email"):
        contact["email"] = cells["email"]
    entry: dict[str, Any] = {
        key: _identifier_cell(key, value) for key, value in identifiers.items()
    }
    for column in _FIELD_COLUMNS:
        value = cells.get(column, "")
        if column == "email" or not value:
            continue
        if column == "folder_ids":
            parts = [p.strip() for p in value.replace("|", ";").split(";") if p.strip()]
            try:
                contact[column] = [int(p) for p in parts]
            except ValueError:
                raise InvalidArgumentError(
                    "folder_ids", f"must be folder ids separated by ';', got {value!r}"
                ) from None
        else:
            contact[column] = value
    properties = {
        key[len(_PROPERTY_PREFIX) :]: value
        for key, value in cells.items()
        if key.startswith(_PROPERTY_PREFIX) and value
    }
    if properties:
        contact["custom_properties"] = properties
    entry["contact"] = contact
    return entry


def read_updates(path: Path) -> list[UpdateEntry]:
    """Every update of ``path``, validated; raises ``InputFileError`` on the first bad line."""
    text = _read_text(path)
    kind = _kind(path, text)
    rows: Iterator[Row]
    if kind == "csv":
        header, rows = _csv_rows(path, text)
        unknown = [
            name
            for name in header
            if name not in _IDENTIFIER_COLUMNS
            and name not in _FIELD_COLUMNS
            and not name.startswith(_PROPERTY_PREFIX)
        ]
        if unknown:
            allowed = ", ".join((*_IDENTIFIER_COLUMNS, *_FIELD_COLUMNS[1:]))
            raise InputFileError(
                str(path),
                1,
                f"unknown column(s) {', '.join(map(repr, unknown))}; "
                f"use {allowed} or {_PROPERTY_PREFIX}<slug>",
            )
        if not any(name in header for name in _IDENTIFIER_COLUMNS):
            raise InputFileError(
                str(path), 1, "the header needs an 'id', 'username' or 'email' column"
            )
    elif kind == "jsonl":
        rows = _jsonl_rows(path, text)
    else:
        raise InputFileError(str(path), 0, "updates must be a .csv or .jsonl file")

    updates: list[UpdateEntry] = []
    for row in rows:
        try:
            value = _csv_update(row.value) if kind == "csv" else row.value
            updates.append(normalize_update(value, len(updates)))
        except InvalidArgumentError as exc:
            raise InputFileError(str(path), row.line, _problem(exc)) from None
    if not updates:
        raise InputFileError(str(path), 0, "holds no updates")
    return updates


def _problem(exc: InvalidArgumentError) -> str:
    """The validation message without the synthetic ``updates[12]`` index (the line says it)."""
    argument = exc.argument
    if "[" in argument and "]" in argument:
        argument = argument[argument.index("]") + 1 :].lstrip(".")
    return f"{argument}: {exc.rule}" if argument else exc.rule
