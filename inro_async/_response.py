"""A successful response (``APIResponse``) and the one typed decoder per type that reads it."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from multidict import CIMultiDictProxy

from inro_async.errors import body_error, request_id_of
from inro_async.models._lenient import LenientDecoder, decode_json

__all__ = ["APIResponse", "decoder_for"]

T = TypeVar("T")

_decoders: dict[Any, LenientDecoder[Any]] = {}


def decoder_for(type_: Any) -> LenientDecoder[Any]:
    """One typed, lenient decoder per type, built once (msgspec's performance advice).

    ``strict=False`` accepts numbers and booleans that arrive as strings; a body that still does
    not fit gets a forgiving second pass (``inro_async.models._lenient``).
    """
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = LenientDecoder(type_)
    return decoder


class APIResponse(msgspec.Struct, frozen=True, gc=False):
    """A successful response: status, headers and body bytes, plus how the call went."""

    method: str
    path: str
    status: int
    headers: CIMultiDictProxy[str]
    content: bytes
    elapsed: float
    """Seconds of the final HTTP exchange, on the event loop's clock."""
    retries: int = 0
    """Retries and 429 repeats this call needed."""
    queued: float = 0.0
    """Seconds spent waiting in the governor, over every attempt."""

    @property
    def request_id(self) -> str | None:
        """The answer's ``X-Request-Id``, when the server sent one (quote it to support)."""
        return request_id_of(self.headers)

    def json(self) -> Any:
        """The body as plain Python objects (``None`` for an empty body).

        A body that is not JSON (or nested too deeply to decode) raises
        ``APIResponseValidationError``.
        """
        if not self.content:
            return None
        try:
            return decode_json(self.content)
        except msgspec.DecodeError as exc:
            raise body_error(
                exc, method=self.method, path=self.path, status=self.status, body=self.content
            ) from None

    def parse(self, type_: type[T] | Any) -> T:
        """The body decoded straight from bytes into ``type_`` (a Struct, ``list[Model]``…)."""
        result: T = self._decoded(decoder_for(type_))
        return result

    def _decoded(self, decoder: LenientDecoder[T]) -> T:
        """``parse`` with the decoder looked up already (a list route's, on every page)."""
        try:
            result: T = decoder.decode(self.content)
        except msgspec.DecodeError as exc:  # a ValidationError too
            raise body_error(
                exc, method=self.method, path=self.path, status=self.status, body=self.content
            ) from None
        return result

    def __repr__(self) -> str:
        return (
            f"<APIResponse {self.method} {self.path} {self.status} "
            f"{len(self.content)} bytes in {self.elapsed * 1000:.1f} ms>"
        )
