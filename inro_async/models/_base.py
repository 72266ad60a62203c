"""The base of every model: lenient, fast, readable.

Response models are frozen msgspec Structs decoded straight from response bytes with a cached,
typed decoder (``inro_async._transport.decoder_for``), which accepts numbers and booleans sent as
strings. Unknown fields are ignored and every field has a default, so a new or missing field in
the API never breaks decoding. ``repr`` omits fields left at their default, so a contact prints
as what it holds, not as twenty ``None``s.

Models are left out of the cyclic garbage collector (``gc=False``): decoding a 1,000-contact page
takes ~3.3 → ~2.1 ms, and a long walk keeps the collector's full passes short. A frozen model
built from JSON cannot be part of a reference cycle, unless code puts a model inside one of its
own lists or dicts (don't: that cycle would never be freed).
"""

from __future__ import annotations

import msgspec


class Model(msgspec.Struct, kw_only=True, frozen=True, repr_omit_defaults=True, gc=False):
    """Base of response models: immutable, forward compatible, readable in a notebook."""


class Payload(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of request bodies: fields left at their default (``msgspec.UNSET``) are not sent."""
