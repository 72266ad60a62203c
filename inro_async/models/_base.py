"""The base of every model: lenient, fast, readable.

Response models are frozen msgspec Structs decoded straight from response bytes with a cached,
typed decoder (``inro_async._transport.decoder_for``), which accepts numbers and booleans sent as
strings. Unknown fields are ignored and every field has a default, so a new or missing field in
the API never breaks decoding; nor does ``null`` for a field that does not take ``None``, an
integer id where a string is expected, or a timestamp that is not RFC 3339: a body that the typed
decoder rejects gets a forgiving second pass (``inro_async.models._lenient``). ``repr`` omits
fields left at their default, so a contact prints as what it holds, not as twenty ``None``s.

Models are left out of the cyclic garbage collector (``gc=False``): decoding a 1,000-contact page
takes ~3.3 → ~2.1 ms, and a long walk keeps the collector's full passes short. A frozen model
built from JSON cannot be part of a reference cycle, unless code puts a model inside one of its
own lists or dicts (don't: that cycle would never be freed).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import msgspec

if TYPE_CHECKING:
    Timestamp: TypeAlias = datetime | str | None
    """A moment: a ``datetime``; ``None`` if absent; the string as sent if it is not a timestamp."""
else:
    # What the fast typed decoder reads (msgspec cannot put ``datetime`` and ``str`` in one
    # union); only the forgiving second pass puts a string here, when it cannot read one.
    Timestamp = datetime | None


class Model(msgspec.Struct, kw_only=True, frozen=True, repr_omit_defaults=True, gc=False):
    """Base of response models: immutable, forward compatible, readable in a notebook."""


class Payload(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of request bodies: fields left at their default (``msgspec.UNSET``) are not sent."""
