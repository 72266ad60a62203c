"""Faults on demand: seeded random ones (``Faults``) and exact one-shot ones (``fake.inject``).

Kinds, in the order a request meets them; all but ``reset_before`` only once the rate limiter
admitted it (a 429 meets no fault, and leaves an injected one for the next admitted request):

* ``reset_before``: the connection is dropped before the request is processed or judged by the
  rate limiter (no effect, not counted against any quota): a retry is harmless.
* ``latency``: the response is delayed (``seconds=``).
* ``status``: the request is answered 500/502/503 (``status=``) without being processed; it was
  counted against the quota.
* ``reset_after``: the request is fully processed (a message *was* delivered), then the
  connection is dropped before any response: the client cannot know it worked.
* ``truncate`` / ``malformed``: the body is cut short / is not JSON.
* ``unaccounted``: the request is processed (a message *was* delivered), then answered with a
  2xx (``status=``, default 200) whose JSON object (``body=``, default ``{}``; an error object
  such as ``{"error": "…"}`` is the other usual one) says nothing of what was done, as a proxy,
  a cache or a misbehaving gateway might answer.
* ``no_pagination_headers``: list responses lose ``X-Total`` and its siblings.
* ``redirect``: the request is fully processed, then answered with a redirect instead of its
  response (``status=``, default 302; ``location=``, default an address where nothing listens),
  as a misconfigured proxy or load balancer might.
* ``deep_json``: the body is replaced by JSON nested ``depth=`` arrays deep (default 50,000),
  valid but deeper than any decoder follows; the status is the handler's (a 404 stays a 404).
* ``huge_body``: the request is fully processed, then answered 200 with a gzip bomb: ``size=``
  bytes of valid JSON (whitespace, then ``[]``; default 200 MB) in about a thousandth of that
  on the wire, ``Content-Encoding: gzip``.

Three more lie about a list's pages (list routes only; they act where the page is made):

* ``ignore_page``: every page answers page 1's items and headers (``X-Page: 1``), as a cache
  keyed without the query string would.
* ``lying_total``: ``X-Total`` is overstated (``by=`` > 0) or understated (``by=`` < 0), and
  ``X-Total-Pages`` follows it; the items are the true ones.
* ``short_page``: the page leaves out its last ``missing=`` items (default 1); its headers count
  them still. ``inject("short_page", route="contacts.list", page=3)`` makes page 3 short.

``inject(..., page=N)`` aims any injected kind at the requests for page ``N`` (its ``page``
parameter, in the query or a JSON body; 1 when absent): other pages pass it by, unspent.
``short_page`` aims at page 2 unless told.
"""

from __future__ import annotations

import functools
import random
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from inro_async.errors import InvalidArgumentError

__all__ = [
    "FAULT_KINDS",
    "UNACCOUNTED_BODIES",
    "FaultKind",
    "Faults",
    "Injected",
    "unaccounted_answer",
]

FaultKind = Literal[
    "reset_before",
    "latency",
    "status",
    "reset_after",
    "truncate",
    "malformed",
    "unaccounted",
    "no_pagination_headers",
    "ignore_page",
    "lying_total",
    "short_page",
    "redirect",
    "huge_body",
    "deep_json",
]
FAULT_KINDS: tuple[str, ...] = (
    "reset_before",
    "latency",
    "status",
    "reset_after",
    "truncate",
    "malformed",
    "unaccounted",
    "no_pagination_headers",
    "ignore_page",
    "lying_total",
    "short_page",
    "redirect",
    "huge_body",
    "deep_json",
)

REDIRECT_TO = "http://127.0.0.1:9/api/v1/elsewhere"
"""The default ``Location`` of an injected ``redirect``: the discard port, where nothing listens."""
DEEP_JSON = 50_000
"""The default nesting of an injected ``deep_json``."""

HUGE_BODY = 200_000_000
"""The default decompressed size of an injected ``huge_body``, in bytes."""


@functools.lru_cache(maxsize=4)
def gzip_bomb(size: int) -> bytes:
    """``size`` bytes of valid JSON (spaces, then ``[]``), gzip-compressed about 1,000 to 1.

    One MiB of spaces is deflated once, ending with a full flush (byte-aligned, referring to
    nothing before it), and that segment is repeated: compressing 200 MB would take seconds.
    """
    block = b" " * (1 << 20)
    blocks, rest = divmod(size - 2, len(block))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    last = b" " * rest + b"[]"
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(last, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return header + segment * blocks + tail.compress(last) + tail.flush() + trailer


UNACCOUNTED_BODIES: tuple[dict[str, Any], ...] = (
    {},
    {"error": "injected: an answer that accounts for nothing"},
)
"""The bodies a random ``unaccounted`` fault answers with, drawn in turn by the seed."""


def unaccounted_answer(status: object = 200, body: object = None) -> tuple[int, dict[str, Any]]:
    """The ``(status, body)`` of an ``unaccounted`` fault, checked: a 2xx and a JSON object."""
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status < 300:
        raise InvalidArgumentError("status", f"an unaccounted answer is a 2xx, got {status!r}")
    answer = {} if body is None else body
    if not isinstance(answer, dict):
        raise InvalidArgumentError(
            "body", f"an unaccounted answer's body is a JSON object, got {body!r}"
        )
    return status, dict(answer)


@dataclass
class Faults:
    """Random faults, deterministic for a given ``seed``.

    ``latency`` is seconds, or a function of a ``random.Random`` returning seconds (e.g.
    ``lambda rng: rng.expovariate(20)``); the ``*_rate`` fields are probabilities per request;
    ``routes`` limits the faults to those route names (``"messages.send"``…).
    """

    seed: int = 0
    latency: float | Callable[[random.Random], float] = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    reset_before_rate: float = 0.0
    reset_after_rate: float = 0.0
    truncate_rate: float = 0.0
    malformed_rate: float = 0.0
    unaccounted_rate: float = 0.0
    """Processed, then answered 200 with one of ``UNACCOUNTED_BODIES``."""
    drop_pagination_headers: bool = False
    routes: Iterable[str] | None = None
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.routes = None if self.routes is None else frozenset(self.routes)

    def applies_to(self, route: str | None) -> bool:
        """Whether these faults may hit a request to ``route``."""
        return self.routes is None or route in self.routes  # type: ignore[operator]

    def draw(self, route: str | None) -> dict[str, Any]:
        """The faults for one request: ``{kind: parameter}``."""
        if not self.applies_to(route):
            return {}
        rng = self._rng
        chosen: dict[str, Any] = {}
        latency = self.latency(rng) if callable(self.latency) else self.latency
        if latency > 0:
            chosen["latency"] = latency
        if self.reset_before_rate and rng.random() < self.reset_before_rate:
            chosen["reset_before"] = True
        if self.error_rate and rng.random() < self.error_rate:
            chosen["status"] = rng.choice(self.error_statuses)
        if self.reset_after_rate and rng.random() < self.reset_after_rate:
            chosen["reset_after"] = True
        if self.truncate_rate and rng.random() < self.truncate_rate:
            chosen["truncate"] = True
        if self.malformed_rate and rng.random() < self.malformed_rate:
            chosen["malformed"] = True
        if self.unaccounted_rate and rng.random() < self.unaccounted_rate:
            chosen["unaccounted"] = unaccounted_answer(200, rng.choice(UNACCOUNTED_BODIES))
        if self.drop_pagination_headers:
            chosen["no_pagination_headers"] = True
        return chosen


@dataclass
class Injected:
    """A one-shot fault waiting for the next matching request(s)."""

    kind: str
    route: str | None
    times: int
    value: Any = True
    page: int | None = None
    """Only a request for this page meets it (``None``: any request)."""
