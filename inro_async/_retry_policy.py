"""Whether to send a request again: a pure decision over one attempt's outcome (no I/O).

The transport (``_transport.py``) does the waiting and sending; this module only decides, so
every rule of ``RetryPolicy.decide`` is checked by a table (``tests/test_retry_policy.py``):

* **429** is always repeated, up to ``Retries.max_throttled`` per call: a throttled request had
  no effect. It goes again at once at ``Priority.RETRY`` (the governor, told of the 429, holds
  every request until ``Retry-After``) and counts as throttled, not as a retry. A call without
  ``max_wait`` waits for that pause up to ``Retries.max_throttled_wait``: a longer
  ``Retry-After`` is raised at once (a call with ``max_wait`` leaves it to the governor, which
  raises ``QuotaWaitTooLongError`` past it).
* **5xx, timeouts, broken connections** are repeated after a backoff with full jitter, up to
  ``Retries.max_retries``, but only where a repeat is harmless: idempotent methods (GET, PUT,
  DELETE), and any method when nothing of the request was sent (connect failed). A POST or
  PATCH that may have reached the server is raised with ``may_have_been_processed``. A 5xx's
  ``Retry-After`` replaces the backoff up to ``Retries.longest_retry_after(max_wait)``; a
  longer one is raised, with a note saying why.
* **Permanent** send failures (TLS verification, invalid URL) are raised at once.
* **3xx** that reaches the policy (the backend follows redirects for reads only) is raised at
  once as ``UnexpectedRedirectError``, never repeated: the request arrived, and a write may
  have been processed before the redirect was written.
* With ``gone_is_done``, a 404 after an attempt that may have been processed is returned: the
  earlier attempt deleted it, and "the resource is gone" is what the caller asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import msgspec
from msgspec.structs import replace

from inro_async.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    InvalidArgumentError,
    RateLimitError,
    status_error_class,
)
from inro_async.governor._base import Priority

__all__ = [
    "DEFAULT_RETRIES",
    "NOTHING_YET",
    "WAIT_LONGER",
    "Answered",
    "Decision",
    "Failed",
    "Outcome",
    "Progress",
    "Raise",
    "Retries",
    "RetryPolicy",
    "ReturnResponse",
    "SendAgain",
    "had_no_effect",
]


class Jitter(Protocol):
    """What ``decide`` draws backoff from (``random.Random`` fits)."""

    def uniform(self, a: float, b: float) -> float:
        """A number between ``a`` and ``b``."""
        ...


@dataclass(frozen=True, slots=True)
class Retries:
    """How failed requests are retried.

    ``max_retries`` bounds retries of 5xx, timeouts and broken connections; a 429 does not count
    against it (it is always safe to repeat) but at most ``max_throttled`` are absorbed per call.
    Backoff before retry k (0-based) is uniform in ``[0, min(backoff_cap, backoff_base * 2**k)]``
    ("full jitter"), unless the server sent ``Retry-After``. A 5xx's ``Retry-After`` is honoured
    up to ``max_retry_after`` (or the request's ``max_wait``, if smaller); a longer one raises
    the 5xx at once rather than hang for it. A 429's ``Retry-After`` pauses the governor; a
    call without ``max_wait`` waits up to ``max_throttled_wait`` for it, and raises
    ``RateLimitError`` past it.
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_throttled: int = 20
    max_retry_after: float = 60.0
    """Seconds of a 5xx's ``Retry-After`` that are waited out; a longer one is raised."""
    max_throttled_wait: float = 60.0
    """Seconds of a 429's ``Retry-After`` a call without ``max_wait`` waits out; a longer one
    raises ``RateLimitError`` at once (the governor still holds the pause for everyone)."""

    def __post_init__(self) -> None:
        for name in ("max_retries", "max_throttled"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise InvalidArgumentError(name, f"must be >= 0, a whole number; got {value!r}")
        for name in ("backoff_base", "backoff_cap", "max_retry_after", "max_throttled_wait"):
            value = getattr(self, name)
            # NaN fails every comparison; a cap may be infinite ("no cap"), the base may not.
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise InvalidArgumentError(name, f"must be >= 0 seconds, got {value!r}")
            if name == "backoff_base" and not math.isfinite(value):
                raise InvalidArgumentError(name, f"must be finite, got {value!r}")

    def longest_retry_after(self, max_wait: float | None) -> float:
        """The longest ``Retry-After`` of a 5xx that is waited out before retrying."""
        return self.max_retry_after if max_wait is None else min(self.max_retry_after, max_wait)

    def backoff(self, attempt: int, rng: Jitter) -> float:
        """Seconds to sleep before retry number ``attempt`` (0-based), with full jitter."""
        return rng.uniform(0, min(self.backoff_cap, self.backoff_base * (2**attempt)))


WAIT_LONGER = "raise Retries.max_throttled_wait, or pass max_wait=, to wait for it"
"""How to make a call wait out a long 429 pause instead of raising."""

DEFAULT_RETRIES = Retries()
"""The retries of a request whose options set none."""


class Progress(msgspec.Struct, frozen=True, gc=False):
    """How a call went so far: its retries, its 429 repeats, whether an attempt may have acted."""

    retried: int = 0
    """Retries of 5xx and send failures (bounded by ``max_retries``)."""
    throttled: int = 0
    """429s absorbed (bounded by ``max_throttled``)."""
    maybe_processed: bool = False
    """An earlier attempt may have taken effect (lost answer, 5xx)."""

    @property
    def repeats(self) -> int:
        """Every repeat of the request so far (``APIResponse.retries``)."""
        return self.retried + self.throttled


NOTHING_YET = Progress()
"""The progress of a call before its first attempt."""


class Failed(msgspec.Struct, frozen=True, gc=False):
    """No complete response arrived (a ``SendError``'s facts)."""

    sent: bool
    """Something of the request left the process: the server may have acted on it."""
    timeout: bool = False
    permanent: bool = False


class Answered(msgspec.Struct, frozen=True, gc=False):
    """The server answered ``status``, with ``retry_after`` seconds parsed from its header."""

    status: int
    retry_after: float | None = None


Outcome = Failed | Answered


def had_no_effect(outcome: Outcome) -> bool:
    """Whether the attempt certainly changed nothing: a 429, or nothing of it was sent."""
    if isinstance(outcome, Answered):
        return outcome.status == 429
    return not outcome.sent


class SendAgain(msgspec.Struct, frozen=True, gc=False):
    """Send the request again, after ``delay`` seconds (``None``: at once, the governor paces)."""

    delay: float | None
    then: Progress
    """The call's progress from now on."""
    priority: int | None = None
    """The priority to queue again at; ``None`` keeps the request's."""


class ReturnResponse(msgspec.Struct, frozen=True, gc=False):
    """Return the response as the call's success."""


class Raise(msgspec.Struct, frozen=True, gc=False):
    """Raise ``error`` (built by ``inro_async.errors``); ``note`` ends its message."""

    error: type[APIError]
    may_have_been_processed: bool
    note: str = ""


Decision = SendAgain | ReturnResponse | Raise


class RetryPolicy(msgspec.Struct, frozen=True, gc=False):
    """The rules of one call: its ``Retries``, whether its method is idempotent, its limits."""

    retries: Retries
    idempotent: bool
    max_wait: float | None = None
    """The request's ``max_wait``: a 5xx's ``Retry-After`` longer than it is raised."""
    gone_is_done: bool = False
    """A 404 after an attempt that may have been processed is returned as success."""

    def decide(self, outcome: Outcome, progress: Progress, rng: Jitter) -> Decision:
        """What to do after an attempt ended in ``outcome``, the call having made ``progress``."""
        if isinstance(outcome, Failed):
            return self._after_failure(outcome, progress, rng)
        status, retries = outcome.status, self.retries
        if status < 300 or (status == 404 and self.gone_is_done and progress.maybe_processed):
            return ReturnResponse()
        if status < 400:  # a redirect the backend did not follow: it arrived, may have acted
            return Raise(status_error_class(status), may_have_been_processed=True)
        if status == 429:
            if self.waits_too_long_for(outcome.retry_after):
                note = (
                    f"; not repeated: Retry-After {outcome.retry_after:g}s is longer than the "
                    f"{retries.max_throttled_wait:g}s a call without max_wait waits for a 429 "
                    f"({WAIT_LONGER})"
                )
                return Raise(RateLimitError, may_have_been_processed=False, note=note)
            if progress.throttled < retries.max_throttled:
                then = replace(progress, throttled=progress.throttled + 1)
                return SendAgain(None, then, priority=Priority.RETRY)
        error = status_error_class(status)
        if not (status >= 500 and self.idempotent and progress.retried < retries.max_retries):
            return Raise(error, may_have_been_processed=status >= 500)
        retry_after, longest = outcome.retry_after, retries.longest_retry_after(self.max_wait)
        if retry_after is not None and retry_after > longest:
            note = (
                f"; not retried: Retry-After {retry_after:g}s is longer than "
                f"the {longest:g}s a retry may wait"
            )
            return Raise(error, may_have_been_processed=True, note=note)
        delay = retries.backoff(progress.retried, rng) if retry_after is None else retry_after
        then = replace(progress, retried=progress.retried + 1, maybe_processed=True)
        return SendAgain(delay, then)

    def waits_too_long_for(self, pause: float | None) -> bool:
        """Whether a 429's pause of ``pause`` seconds is longer than this call may wait for it.

        Only a call without ``max_wait`` is bounded here (by ``max_throttled_wait``); one with
        ``max_wait`` queues in the governor, which raises ``QuotaWaitTooLongError`` past it.
        """
        return (
            self.max_wait is None and pause is not None and pause > self.retries.max_throttled_wait
        )

    def _after_failure(self, failure: Failed, progress: Progress, rng: Jitter) -> Decision:
        if (
            not failure.permanent
            and (self.idempotent or not failure.sent)
            and progress.retried < self.retries.max_retries
        ):
            then = replace(
                progress,
                retried=progress.retried + 1,
                maybe_processed=progress.maybe_processed or failure.sent,
            )
            return SendAgain(self.retries.backoff(progress.retried, rng), then)
        error = APITimeoutError if failure.timeout else APIConnectionError
        return Raise(error, may_have_been_processed=failure.sent)
