"""Decoding that one odd value cannot break: a fast typed path, and a forgiving second pass.

The fast path is msgspec's typed decoder, straight from bytes, exactly as the models declare
(``strict=False``: numbers and booleans sent as strings are accepted). Only when it raises does
the body get a second pass, which rebuilds the models from plain JSON values and forgives three
things the API reference does not pin down (docs/wire.md, "Leniency"):

- ``null`` where a field does not take ``None`` means "absent": the field gets its default (an
  empty dict or list, ``False``, ``0``, ``"pending"``…); a ``null`` item of a list is dropped;
- an integer where a string is expected (``"batch_task_id": 98765``) becomes its decimal string;
- a timestamp that is not RFC 3339 is read if it is one of Rails' ``to_s`` forms
  (``2024-05-01 10:00:00 UTC``), is ``None`` if empty, and otherwise is kept as the string sent.

Anything else of the wrong kind still fails, naming where. A body nested deeper than msgspec
follows (50,000 ``[``) fails as ``msgspec.DecodeError``, never as ``RecursionError``. The
second pass costs several times the first, so a body that needs it pays for it and every other
body pays nothing: no ``__post_init__`` on a 1,000-contact page (measured at ~10% of its decode
time), no wider types for users to narrow.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar, Union, get_args, get_origin

import msgspec

__all__ = ["TOO_DEEP", "LenientDecoder", "decode_json"]

T = TypeVar("T")

TOO_DEEP = "JSON nested too deeply to decode"
"""The ``msgspec.DecodeError`` message for a body msgspec gives up on with ``RecursionError``."""


def decode_json(content: bytes | str) -> Any:
    """``content`` as plain JSON values; every failure, too deep too, is ``msgspec.DecodeError``."""
    try:
        return msgspec.json.decode(content)
    except RecursionError:
        raise msgspec.DecodeError(TOO_DEEP) from None


_ABSENT: Any = object()
"""What a fixer returns for ``null`` where ``None`` is not allowed: leave the field out."""

Fixer = Callable[[Any], Any]


class _Unfixable(Exception):
    """A value the second pass cannot forgive; ``path`` grows as the error unwinds."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []

    def __str__(self) -> str:
        return f"{self.message} - at `${''.join(self.path)}`"


class LenientDecoder(Generic[T]):
    """Bytes into ``type_``: msgspec's typed decoder, then the forgiving pass if it fails."""

    __slots__ = ("_fast", "_fixer", "type")

    def __init__(self, type_: Any) -> None:
        self.type = type_
        self._fast: msgspec.json.Decoder[T] = msgspec.json.Decoder(type_, strict=False)
        self._fixer: Fixer | None = None  # built on first need: most types never need it

    def decode(self, content: bytes | str) -> T:
        """``content`` as ``type_``; ``msgspec.ValidationError`` names a value it cannot forgive."""
        try:
            return self._fast.decode(content)
        except msgspec.ValidationError:
            plain = decode_json(content)
        except RecursionError:
            raise msgspec.DecodeError(TOO_DEEP) from None
        if self._fixer is None:
            self._fixer = _fixer_for(self.type)
        try:
            result: T = self._fixer(plain)
        except _Unfixable as exc:
            raise msgspec.ValidationError(str(exc)) from None
        except RecursionError:  # a value under ``Any`` the fixers walk: as deep as the body
            raise msgspec.DecodeError(TOO_DEEP) from None
        if result is _ABSENT:
            raise msgspec.ValidationError(f"Expected `{_name(self.type)}`, got `null`")
        return result


# -- fixers: one closure per type, built once ----------------------------------------------------

_fixers: dict[Any, Fixer] = {}


def _fixer_for(type_: Any) -> Fixer:
    try:
        return _fixers[type_]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation
        return _build(type_)
    fixer = _fixers[type_] = _build(type_)
    return fixer


def _build(type_: Any) -> Fixer:
    if type_ is Any or type_ is msgspec.Raw:
        return _identity
    if isinstance(type_, type) and issubclass(type_, msgspec.Struct):
        return _struct_fixer(type_)
    origin = get_origin(type_)
    if origin in (list, tuple, set, frozenset):
        return _list_fixer(type_, origin)
    if origin is dict:
        return _dict_fixer(type_)
    return _scalar_fixer(type_)


def _identity(value: Any) -> Any:
    return value


def _struct_fixer(cls: type[msgspec.Struct]) -> Fixer:
    plan: list[tuple[str, str, Fixer]] | None = None  # resolved lazily: types may refer to cls

    def fix(value: Any) -> Any:
        nonlocal plan
        if value is None:
            return _ABSENT
        if type(value) is not dict:
            raise _Unfixable(f"Expected `object`, got `{_json_kind(value)}`")
        if plan is None:
            plan = [
                (field.encode_name, field.name, _fixer_for(field.type))
                for field in msgspec.structs.fields(cls)
            ]
        kwargs = {}
        for key, name, fixer in plan:
            if key in value:
                try:
                    fixed = fixer(value[key])
                except _Unfixable as exc:
                    exc.path.insert(0, f".{key}")
                    raise
                if fixed is not _ABSENT:
                    kwargs[name] = fixed
        return cls(**kwargs)

    return fix


def _list_fixer(type_: Any, origin: Any) -> Fixer:
    args = get_args(type_)
    item = _fixer_for(args[0]) if args else _identity

    def fix(value: Any) -> Any:
        if value is None:
            return _ABSENT
        if type(value) is not list:
            raise _Unfixable(f"Expected `array`, got `{_json_kind(value)}`")
        items = []
        for index, element in enumerate(value):
            try:
                fixed = item(element)
            except _Unfixable as exc:
                exc.path.insert(0, f"[{index}]")
                raise
            if fixed is not _ABSENT:
                items.append(fixed)
        return items if origin is list else origin(items)

    return fix


def _dict_fixer(type_: Any) -> Fixer:
    args = get_args(type_)
    value_fixer = _fixer_for(args[1]) if len(args) == 2 else _identity

    def fix(value: Any) -> Any:
        if value is None:
            return _ABSENT
        if type(value) is not dict:
            raise _Unfixable(f"Expected `object`, got `{_json_kind(value)}`")
        if value_fixer is _identity:  # ``dict[str, Any]``: JSON keys are strings already
            return value
        result = {}
        for key, element in value.items():
            try:
                fixed = value_fixer(element)
            except _Unfixable as exc:
                exc.path.insert(0, f"[{key!r}]")
                raise
            if fixed is not _ABSENT:
                result[key] = fixed
        return result

    return fix


_PLAIN = {str: (str,), int: (int,), bool: (bool,), float: (float,)}
"""JSON values that need no conversion for a declared type (exact types: ``bool`` is no ``int``)."""


def _scalar_fixer(type_: Any) -> Fixer:
    """Scalars, unions, ``dict[str, Any]`` and the like: what msgspec converts, plus forgiveness."""
    members = _union_members(type_)
    takes_none = type(None) in members or Any in members
    takes_str = str in members
    takes_datetime = datetime in members
    plain = tuple({kind for member in members for kind in _PLAIN.get(member, ())})
    containers: dict[type, Fixer] = {}
    if len(members) > 1:  # a lone ``dict[str, Any]`` is converted whole, below
        for member in reversed(members):  # the first member of a kind wins
            if _is_object_type(member):
                containers[dict] = _fixer_for(member)
            elif get_origin(member) in (list, tuple, set, frozenset):
                containers[list] = _fixer_for(member)

    def fix(value: Any) -> Any:
        if value is None:
            return None if takes_none else _ABSENT
        kind = type(value)
        if kind in plain:
            return value
        container = containers.get(kind)
        if container is not None:
            return container(value)
        try:
            return msgspec.convert(value, type_, strict=False)
        except msgspec.ValidationError as exc:
            error = exc
        if takes_str and kind is int:
            return str(value)
        if takes_datetime and kind is str:
            return _timestamp(value)
        raise _Unfixable(str(error).split(" - at ")[0])

    return fix


def _union_members(type_: Any) -> tuple[Any, ...]:
    if get_origin(type_) in (Union, types.UnionType):
        return get_args(type_)
    return (type_,)


def _is_object_type(type_: Any) -> bool:
    return get_origin(type_) is dict or (
        isinstance(type_, type) and issubclass(type_, msgspec.Struct)
    )


def _timestamp(raw: str) -> Any:
    """A timestamp msgspec could not read: Rails' ``to_s`` forms, empty, or kept as sent."""
    text = raw.strip()
    if not text:
        return _ABSENT
    if text.endswith(" UTC"):
        text = text[:-4] + " +0000"
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return raw


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "str", bool: "bool", int: "int"}.get(
        type(value), type(value).__name__
    )


def _name(type_: Any) -> str:
    return getattr(type_, "__name__", None) or str(type_)
