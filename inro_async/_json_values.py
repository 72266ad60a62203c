"""What a value the SDK sends as JSON may hold, checked before the request: ``check_json_value``.

The encoder would not refuse everything it cannot send faithfully: msgspec writes a NaN or an
infinity as ``null`` (which *clears* a custom property instead of setting it), and fails with a
raw ``UnicodeEncodeError`` or ``TypeError`` on a lone surrogate or an ``object()``. So every value
that goes out (a request body, a form field, a query parameter) is checked here first, and a bad
one raises ``InvalidArgumentError`` naming where it is (``custom_properties.score``,
``entries[3].contact.notes``) before any quota is spent.

A JSON value is ``None``, a ``bool``, an ``int``, a finite ``float``, a ``str`` that UTF-8 can
encode (no lone surrogates), a list or tuple of JSON values, or a mapping from ``str`` keys to
JSON values. The SDK's own request models (msgspec Structs: their set fields), enums (by their
value) and ``datetime``/``date``/``time`` (sent as ISO-8601 text) are accepted too. Anything
else (``object()``, bytes, a set, a ``Decimal``) is refused rather than converted silently.
"""

from __future__ import annotations

import datetime
import enum
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from inro_async.errors import InvalidArgumentError

if TYPE_CHECKING:
    from inro_async._http import Multipart

__all__ = ["MAX_DEPTH", "check_json_value", "check_request_values", "json_value_problem"]

MAX_DEPTH = 64
"""How deeply lists and objects may nest; the API's bodies use a handful of levels."""

_PLAIN = frozenset({int, bool, type(None)})
"""Item types a list may hold that need no check (a list of ids, in one C-speed pass)."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ISO_TYPES = (datetime.datetime, datetime.date, datetime.time)

Problem = tuple[list[str], str]
"""The steps to the bad value, innermost first, and what is wrong with it."""


def _encodes(text: str) -> bool:
    """Whether UTF-8 can encode ``text`` (it holds no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _surrogate(text: str) -> str:
    position = next(i for i, char in enumerate(text) if "\ud800" <= char <= "\udfff")
    return (
        f"holds a lone surrogate ({text[position]!r} at index {position}), which is not text: "
        "UTF-8 cannot encode it (decode bytes with errors='replace', or fix the source)"
    )


def _step(key: str) -> str:
    return f".{key}" if _NAME.fullmatch(key) else f"[{key!r}]"


def _problem(value: object, depth: int) -> Problem | None:
    kind = type(value)
    if kind is str:
        return None if _encodes(value) else ([], _surrogate(value))  # type: ignore[arg-type]
    if kind in _PLAIN:
        return None
    if kind is float:
        if math.isfinite(value):  # type: ignore[arg-type]
            return None
        return (
            [],
            f"must be a finite number, got {value!r}: JSON has no NaN or infinity "
            "(it would be sent as null, which clears a value)",
        )
    if kind is list or kind is tuple:
        return _sequence_problem(value, depth)  # type: ignore[arg-type]
    if kind is dict or isinstance(value, Mapping):
        return _mapping_problem(value, depth)  # type: ignore[arg-type]
    if isinstance(value, msgspec.Struct):
        fields = {
            name: field
            for name in value.__struct_fields__
            if (field := getattr(value, name)) is not msgspec.UNSET
        }
        return _mapping_problem(fields, depth)
    if isinstance(value, enum.Enum):
        return _problem(value.value, depth)
    if isinstance(value, str | int | float):  # subclasses: checked as their base type
        base = next(t for t in (str, bool, int, float) if isinstance(value, t))
        return _problem(base(value), depth)
    if isinstance(value, _ISO_TYPES):
        return None
    if isinstance(value, list | tuple):
        return _sequence_problem(value, depth)
    return (
        [],
        f"cannot be sent as JSON (a {kind.__name__}); use str, int, float, bool, None, "
        "lists and dicts of them",
    )


def _leaf(item: object) -> bool:
    """Whether ``item`` is a plain JSON scalar that needs no further look (inlined below)."""
    kind = type(item)
    return (
        kind in _PLAIN
        or (kind is str and _encodes(item))  # type: ignore[arg-type]
        or (kind is float and math.isfinite(item))  # type: ignore[arg-type]
    )


def _sequence_problem(values: list[object] | tuple[object, ...], depth: int) -> Problem | None:
    if depth >= MAX_DEPTH:
        return [], f"nests deeper than {MAX_DEPTH} levels of lists and objects"
    types = set(map(type, values))
    if types <= _PLAIN:
        return None  # ids, flags: nothing to look at
    if types == {str} and _encodes("".join(values)):  # type: ignore[arg-type]
        return None  # usernames, emails: one pass over all of them
    for index, item in enumerate(values):
        if _leaf(item):
            continue
        found = _problem(item, depth + 1)
        if found is not None:
            found[0].append(f"[{index}]")
            return found
    return None


def _mapping_problem(values: Mapping[Any, object], depth: int) -> Problem | None:
    if depth >= MAX_DEPTH:
        return [], f"nests deeper than {MAX_DEPTH} levels of lists and objects"
    if not (set(map(type, values)) <= {str} and _encodes("".join(values))):
        for key in values:
            if not isinstance(key, str):
                rule = f"is not a string key ({type(key).__name__}): JSON keys are text"
                return [f"[{key!r}]"], rule
            if not _encodes(key):
                return [f"[{key!r}]"], f"as a key, {_surrogate(key)}"
    for key, item in values.items():
        if _leaf(item):
            continue
        found = _problem(item, depth + 1)
        if found is not None:
            found[0].append(_step(key))
            return found
    return None


def json_value_problem(value: object) -> tuple[str, str] | None:
    """Where in ``value`` the first value that cannot go out as JSON is, and why; ``None``: ok.

    The place is a path from ``value`` (``".score"``, ``"[3].notes"``; ``""`` for ``value``
    itself), the reason is worded to follow it.
    """
    found = _problem(value, 0)
    if found is None:
        return None
    steps, rule = found
    return "".join(reversed(steps)), rule


def check_json_value(argument: str, value: object) -> None:
    """Raise ``InvalidArgumentError`` naming ``argument`` and the path if ``value`` is not JSON.

    ``argument`` may be ``""`` for a whole request body, whose keys then start the path.
    """
    found = json_value_problem(value)
    if found is None:
        return
    path, rule = found
    where = f"{argument}{path}" if argument else path.lstrip(".") or "body"
    raise InvalidArgumentError(where, rule)


def check_request_values(
    params: Mapping[str, object] | None, json: object, form: Multipart | None
) -> None:
    """Every value of a request (query, JSON body, form fields and file names) checked.

    The resources' last check before the transport (``Resource._request``) and the escape
    hatch's (``Client.request``): the path names the parameter or the body's keys.
    """
    if params:
        check_json_value("", params)
    if json is not None:
        check_json_value("", json)
    if form is not None:
        check_json_value("", dict(form.fields))
        for part in form.files:
            check_json_value(f"{part.name}.filename", part.filename)
