"""The base of every model: lenient, fast, readable.

Response models are frozen msgspec Structs decoded straight from response bytes with a cached,
typed decoder (``inro_async._transport.decoder_for``), which accepts numbers and booleans sent as
strings. Unknown fields are ignored and every field has a default, so a new or missing field in
the API never breaks decoding. ``repr`` omits fields left at their default, so a contact prints
as what it holds, not as twenty ``None``s.
"""

from __future__ import annotations

import msgspec


class Model(msgspec.Struct, kw_only=True, frozen=True, repr_omit_defaults=True):
    """Base of response models: immutable, forward compatible, readable in a notebook."""


class Payload(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of request bodies: fields left at their default (``msgspec.UNSET``) are not sent."""
