"""Parsing response headers the API uses for pacing; no inro_async imports, shared by all layers.

Header parsing never raises: the answer it reads arrived after the request was processed, so
an exception here would turn a delivered message into an error. A value that is not what the
API documents (``inf``, ``1e999``, ``many``) is ignored, and logged once per header name.
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from collections.abc import Mapping

from multidict import istr

__all__ = [
    "RATE_LIMIT",
    "RATE_REMAINING",
    "parse_int_header",
    "parse_rate_limit",
    "parse_retry_after",
]

RATE_LIMIT = istr("X-RateLimit-Limit")
"""The quota a response's count speaks of (``istr``: a case-insensitive lookup without lowering)."""
RATE_REMAINING = istr("X-RateLimit-Remaining")
"""What the server says is left of that quota."""

logger = logging.getLogger("inro_async")

_REPORTED: set[str] = set()
"""Header names whose odd value was logged already (once per process, not per response)."""


def _ignored(name: str, value: str) -> None:
    if name.lower() in _REPORTED:
        return
    _REPORTED.add(name.lower())
    logger.warning(
        "ignoring the response header %s: %r is not a number it can be read as "
        "(logged once; later odd values of it are ignored silently)",
        name,
        value[:100],
    )


def parse_int_header(name: str, value: str | None) -> int | None:
    """An integer header (``"20"``, or a decimal ``"20.0"``); ``None`` if absent or odd.

    Never raises: ``inf``, ``nan``, ``1e999`` or text are ignored (and logged once).
    """
    if value is None:
        return None
    try:
        return int(value)  # the usual form, on every response: float() first costs 3x as much
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # "inf" would overflow int(), "nan" has no integer
        _ignored(name, value)
        return None
    return int(number)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP-date; ``None`` if absent or bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            seconds = when.timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, OverflowError, OSError, IndexError):
            _ignored("Retry-After", value)
            return None
    if math.isnan(seconds) or math.isinf(seconds):
        _ignored("Retry-After", value)
        return None
    return max(0.0, seconds)


def parse_rate_limit(headers: Mapping[str, str]) -> tuple[int | None, int | None]:
    """``X-RateLimit-Limit`` and ``-Remaining``, each read as ``parse_int_header`` reads it."""
    limit, remaining = headers.get(RATE_LIMIT), headers.get(RATE_REMAINING)
    try:
        return int(limit), int(remaining)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # absent, or a decimal: read each on its own
        return parse_int_header(RATE_LIMIT, limit), parse_int_header(RATE_REMAINING, remaining)
