"""Per-call request settings and how they inherit the client's (``USE_CLIENT_DEFAULT``).

``RequestOptions`` is what ``Client.with_options`` and a job's chunk client carry: each field
either set, ``None`` ("none": no timeout, no limit) or ``USE_CLIENT_DEFAULT`` (inherit).
``Transport.options_for`` merges a request's options over the client's and resolves them into
plain ``ResolvedOptions``. The hooks are the transport's only outward signals: ``on_dispatch``
(a slot granted), ``on_no_effect`` (an attempt that certainly did nothing), ``on_response``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from inro_async._retry_policy import Retries
from inro_async.errors import InvalidArgumentError

if TYPE_CHECKING:
    from inro_async._response import APIResponse

__all__ = [
    "NO_OVERRIDES",
    "USE_CLIENT_DEFAULT",
    "DispatchHook",
    "NoEffectHook",
    "RequestOptions",
    "ResolvedOptions",
    "ResponseHook",
    "UseClientDefault",
]


class UseClientDefault(enum.Enum):
    """The type of ``USE_CLIENT_DEFAULT``."""

    USE_CLIENT_DEFAULT = "USE_CLIENT_DEFAULT"

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


USE_CLIENT_DEFAULT: Final = UseClientDefault.USE_CLIENT_DEFAULT
""""Inherit the client's setting", distinct from ``None`` (which means "none": no timeout)."""

DispatchHook = Callable[[], None]
"""Called the moment the governor grants a request its slot, before any byte is written.

Called once per attempt (a retry is another dispatch). An exception it raises stops the request
before it is sent (the slot stays spent): the job engine journals a chunk as in flight here.
"""

NoEffectHook = Callable[[int | None], None]
"""Called when an attempt certainly had no effect and the request will be sent again: it was
answered 429 (the API did nothing; the hook gets ``429``) or never connected (``None``). The job
engine moves a chunk journaled as in flight back to pending here, so that an interruption while
it waits to be sent again does not leave it "unknown", and counts the 429s for its report."""


ResponseHook = Callable[["APIResponse"], None]
"""Called with each successful response before the call decodes it (``inro_async.raw``)."""


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Per-call settings; ``USE_CLIENT_DEFAULT`` (the default) means "use the client's".

    ``timeout`` bounds the HTTP exchange only (``None``: no timeout); time spent queued in the
    governor is bounded by ``max_wait`` instead (``None``: wait as long as it takes).
    ``on_dispatch`` is called when the governor grants each attempt its slot (``DispatchHook``),
    ``on_no_effect`` when an attempt certainly did nothing and is repeated (``NoEffectHook``).
    ``max_response_bytes`` bounds a response's body after decompression (``None``: no limit);
    a longer one raises ``APIResponseValidationError`` and is not read further.
    ``on_response`` is handed each successful response (``ResponseHook``).
    """

    timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT
    retries: Retries | UseClientDefault | None = USE_CLIENT_DEFAULT
    priority: int | UseClientDefault | None = USE_CLIENT_DEFAULT
    max_wait: float | UseClientDefault | None = USE_CLIENT_DEFAULT
    on_dispatch: DispatchHook | UseClientDefault | None = USE_CLIENT_DEFAULT
    on_no_effect: NoEffectHook | UseClientDefault | None = USE_CLIENT_DEFAULT
    max_response_bytes: int | UseClientDefault | None = USE_CLIENT_DEFAULT
    on_response: ResponseHook | UseClientDefault | None = USE_CLIENT_DEFAULT

    def __post_init__(self) -> None:
        # aiohttp reads a timeout of 0 as "no timeout" and fails on an infinite one (at the
        # first request, after it took a quota slot); None says "no timeout" explicitly.
        timeout, max_wait = self.timeout, self.max_wait
        if isinstance(timeout, bool) or not (
            timeout is None
            or timeout is USE_CLIENT_DEFAULT
            or (isinstance(timeout, int | float) and 0 < timeout < math.inf)
        ):
            raise InvalidArgumentError(
                "timeout", f"must be > 0 seconds, or None for no timeout; got {timeout!r}"
            )
        if isinstance(max_wait, bool) or not (
            max_wait is None
            or max_wait is USE_CLIENT_DEFAULT
            or (isinstance(max_wait, int | float) and max_wait >= 0)
        ):
            raise InvalidArgumentError(
                "max_wait", f"must be >= 0 seconds, or None to wait; got {max_wait!r}"
            )
        self._check_kinds()
        limit = self.max_response_bytes
        if not (
            limit is None or limit is USE_CLIENT_DEFAULT or (type(limit) is int and limit >= 1)
        ):
            raise InvalidArgumentError(
                "max_response_bytes", "must be a whole number of bytes >= 1, or None for no limit"
            )

    def _check_kinds(self) -> None:
        """``retries``, ``priority`` and the hooks are of their kinds (or unset)."""
        retries, priority = self.retries, self.priority
        if not (_unset(retries) or isinstance(retries, Retries)):
            raise InvalidArgumentError(
                "retries", f"must be a Retries (or max_retries= a whole number); got {retries!r}"
            )
        if not (_unset(priority) or (isinstance(priority, int) and type(priority) is not bool)):
            raise InvalidArgumentError(
                "priority", f"must be an int, e.g. a Priority; got {priority!r}"
            )
        for name in ("on_dispatch", "on_no_effect", "on_response"):
            hook = getattr(self, name)
            if not (_unset(hook) or callable(hook)):
                raise InvalidArgumentError(name, f"must be callable, or None; got {hook!r}")

    def merged(self, override: RequestOptions) -> RequestOptions:
        """These options with every field that ``override`` sets taking precedence."""
        if override is NO_OVERRIDES or override == NO_OVERRIDES:
            return self  # the common case, on every request: no copy
        changes = {
            name: value
            for name in _FIELDS
            if (value := getattr(override, name)) is not USE_CLIENT_DEFAULT
        }
        return replace(self, **changes)

    def resolved(self) -> ResolvedOptions:
        """The settings a request is sent with (every ``USE_CLIENT_DEFAULT`` read as ``None``)."""
        return ResolvedOptions(*(_resolve(getattr(self, name)) for name in _FIELDS))


def _unset(value: object) -> bool:
    """Whether an option is ``None`` or ``USE_CLIENT_DEFAULT``."""
    return value is None or value is USE_CLIENT_DEFAULT


def _resolve(value: Any) -> Any:
    return None if value is USE_CLIENT_DEFAULT else value


@dataclass(frozen=True, slots=True)
class ResolvedOptions:
    """``RequestOptions`` after merging with the client's: plain values, ``None`` for unset."""

    timeout: float | None
    retries: Retries | None
    priority: int | None
    max_wait: float | None
    on_dispatch: DispatchHook | None
    on_no_effect: NoEffectHook | None
    max_response_bytes: int | None
    on_response: ResponseHook | None


_FIELDS = (
    "timeout",
    "retries",
    "priority",
    "max_wait",
    "on_dispatch",
    "on_no_effect",
    "max_response_bytes",
    "on_response",
)
NO_OVERRIDES: Final = RequestOptions()
"""Options that override nothing (a client's own, before ``with_options``)."""
