"""The exception hierarchy: everything the SDK raises derives from ``InroError``.

Errors carry the status, the API's message, the method and the path, never the token.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
from multidict import CIMultiDict

from inro_async._routes import DEFAULT_BASE_URL, ROUTES, is_read

if TYPE_CHECKING:
    from inro_async.models.batch_tasks import BatchTask


def _rebuild(cls: type[BaseException], args: tuple[Any, ...]) -> BaseException:
    """An unpickled error: created without ``__init__``; pickle restores its attributes."""
    error = cls.__new__(cls, *args)
    error.args = args  # an OSError subclass (TimeoutError) leaves them to its __init__
    return error


REQUEST_ID_HEADER = "X-Request-Id"
"""The response header that names a request on the server's side, when it sends one."""


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """``X-Request-Id`` of ``headers`` (any case), cut to 128 printable characters; or ``None``."""
    value = headers.get(REQUEST_ID_HEADER)
    if value is None and not hasattr(headers, "getall"):  # a plain dict: look at every case
        value = next((v for k, v in headers.items() if k.lower() == "x-request-id"), None)
    if not value:
        return None
    return "".join(char for char in value[:128] if char.isprintable()) or None


class InroError(Exception):
    """Base class of every error raised by inro_async.

    Errors pickle (multiprocessing, Celery): the default would call ``cls(*args)``, which the
    keyword-only constructors refuse, so they are rebuilt from ``args`` and their attributes.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args), dict(vars(self)))


class InvalidArgumentError(InroError, ValueError):
    """An argument broke a rule the API enforces; raised before any request is sent.

    ``argument`` names the argument and ``rule`` the rule it broke.
    """

    def __init__(self, argument: str, rule: str) -> None:
        self.argument = argument
        self.rule = rule
        super().__init__(f"{argument}: {rule}")


class ClientClosedError(InroError, RuntimeError):
    """The Client was closed (``aclose`` or the end of ``async with``); raised before sending."""

    def __init__(self) -> None:
        super().__init__("this Client is closed; create a new one or use `async with Client(...)`")


class EventLoopMismatchError(InroError, RuntimeError):
    """The Client is used from another event loop than the one it first sent requests in.

    Its HTTP session belongs to that loop (one ``asyncio.run`` per Client).
    """

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "this Client belongs to the event loop it first sent a request in, and is used "
            "from another one (e.g. a second asyncio.run); create a Client inside each loop"
        )


class GovernorLoopError(EventLoopMismatchError):
    """A governor is used from an event loop while another loop, in another thread, uses it.

    A governor serves one event loop at a time: successive loops (one ``asyncio.run`` after
    another) may share it, concurrent ones may not; the message says what to do instead.
    """


class APIError(InroError):
    """A request failed; ``method`` and ``path`` say which one (the query string is omitted)."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        self.message = message
        self.method = method
        self.path = path
        super().__init__(f"{message} ({method} {path})")


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before a full response arrived.

    ``may_have_been_processed`` is True when the request was (or may have been) fully sent: the
    server may have acted on it, so a send is not repeated and its outcome is unknown. The
    message says so only for methods that change something (a lost GET has no outcome).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        may_have_been_processed: bool = False,
    ) -> None:
        self.may_have_been_processed = may_have_been_processed
        if may_have_been_processed and not is_read(method):
            message += "; the request may have reached the server, so its outcome is unknown"
        super().__init__(message, method=method, path=path)


class APITimeoutError(APIConnectionError):
    """The HTTP exchange took longer than the timeout (time queued in the governor not counted)."""


class APIResponseValidationError(APIError):
    """The server answered but its body could not be used: not the expected model, not JSON.

    Or longer than ``max_response_bytes``: then ``body`` holds only its first bytes.
    """

    def __init__(self, message: str, *, method: str, path: str, status: int, body: bytes) -> None:
        self.status = status
        self.body = body
        super().__init__(message, method=method, path=path)


class UnaccountedAnswerError(APIError):
    """A 2xx whose body does not account for what the request sent (e.g. ``{}``).

    The request reached the server and was answered as a success, so it was processed or may
    have been: a job's items are ``unknown``, never ``done``; a single call raises this rather
    than return a result that says nothing happened.
    """

    may_have_been_processed = True


class PaginationError(APIResponseValidationError):
    """A list's pages contradict each other or their own headers, so a walk stopped.

    A page repeats the one before (the server, or a cache, ignores ``?page=``), the pages hold
    more items than ``X-Total`` counts, or the walk ended with fewer (a page left items out).
    ``page`` names the page at fault; ``status`` is its response's, and ``body`` too when the
    error is about that page's answer (empty for a walk found short at its end). A list that
    changed while walked is not an error (see ``inro_async.pagination``), unless it changed by
    more than a page under a concurrent walk: walking it again may then succeed.
    """

    def __init__(
        self, message: str, *, page: int, method: str, path: str, status: int, body: bytes
    ) -> None:
        self.page = page
        super().__init__(message, method=method, path=path, status=status, body=body)


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status.

    ``body`` is the parsed JSON body (or the raw text), ``headers`` the response headers.
    """

    status: int = 0

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.headers: Mapping[str, str] = headers or {}
        self.request_id = request_id_of(self.headers)
        """The answer's ``X-Request-Id`` (quote it to support), or ``None`` when it had none."""
        if self.request_id is not None:
            message += f" [request id {self.request_id}]"
        super().__init__(f"{status} {message}", method=method, path=path)

    def __reduce__(self) -> tuple[Any, ...]:
        rebuild, args, state = super().__reduce__()
        # aiohttp's header proxy cannot be pickled; a copy of it can.
        return rebuild, args, {**state, "headers": CIMultiDict(self.headers)}


class BadRequestError(APIStatusError):
    """400: the request's shape was wrong."""


class AuthenticationError(APIStatusError):
    """401: the token is missing, invalid or was regenerated."""


class PermissionDeniedError(APIStatusError):
    """403: the organization's plan does not include the API (it may be on the Free plan)."""


class NotFoundError(APIStatusError):
    """404: the addressed object does not exist."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but could not be applied."""


class RateLimitError(APIStatusError):
    """429: a quota window was exceeded; ``retry_after`` is the server's delay in seconds."""

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class InternalServerError(APIStatusError):
    """5xx: the server failed.

    ``may_have_been_processed`` is always True, as for a connection lost after sending: the
    request reached the server, which may have acted on it before failing. The message says its
    outcome is unknown only for methods that change something (a failed GET has no outcome).
    """

    may_have_been_processed: bool = True


class UnexpectedRedirectError(APIStatusError):
    """3xx: the server (or a proxy in front of it) answered with a redirect; it is not followed.

    The API does not redirect, so the request is never sent again elsewhere: for a write
    (POST, PUT, PATCH, DELETE) the answer shows the request arrived, and it may have been
    processed before the redirect was written, so ``may_have_been_processed`` is True and its
    outcome is unknown. A GET follows ordinary redirects itself (without the token when the
    origin changes); it raises this only for one it cannot follow. ``location`` is the
    ``Location`` header, or None.
    """

    may_have_been_processed: bool = True

    def __init__(self, message: str, *, location: str | None, **kwargs: Any) -> None:
        self.location = location
        super().__init__(message, **kwargs)


class QuotaWaitTooLongError(InroError):
    """The governor would have to wait longer than ``max_wait`` for a free slot.

    ``available_at`` is the earliest wall-clock time (epoch seconds) the request could go,
    ``wait`` the seconds until then, ``quota`` the quota that binds.
    """

    def __init__(self, *, wait: float, available_at: float, quota: object, max_wait: float) -> None:
        self.wait = wait
        self.available_at = available_at
        self.quota = quota
        self.max_wait = max_wait
        super().__init__(
            f"the next free slot is {wait:.1f}s away (bound by {quota}), "
            f"more than max_wait={max_wait:g}s"
        )


class MissingDependencyError(InroError, ImportError):
    """An optional feature's package is not installed; the message names the extra to install.

    ``RedisGovernor`` needs ``redis``: ``pip install 'inro-async[redis]'``. ``package`` names
    the package missing, ``extra`` the extra that installs it.
    """

    def __init__(self, feature: str, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{feature} needs the {package!r} package, which is not installed: "
            f"pip install 'inro-async[{extra}]'",
            name=package,
        )


class JobMismatchError(InroError):
    """A journal exists under this job name for different work; it will not be resumed."""


class JobLockedError(InroError):
    """Another process is running this job right now."""


class JournalUnreadableError(JobMismatchError):
    """A file is not a job journal this version can read; it is neither resumed nor overwritten.

    Missing, empty (truncated to 0 bytes), corrupt, another program's file, or a journal
    format this version does not know; the message names the file and what is wrong with it.
    """


class JournalWriteError(InroError):
    """A job's journal could not be opened or written; the job stopped.

    A full disk, a read-only file or folder, an I/O error, or a lock another program holds on
    the file. Nothing went out that the journal does not record as sent or in flight (a chunk
    is recorded before its request leaves), so running the job again once the cause is fixed
    resumes it without sending anything twice.
    """


class GovernorUnavailableError(InroError):
    """Redis could not be reached for ``RedisGovernor``, and no local fallback was configured."""


class BatchTaskTimeoutError(InroError, TimeoutError):
    """``batch_tasks.wait`` gave up before the task finished; ``task`` is its last known state.

    The task keeps running on the server: wait again, or look it up later by id. A job whose
    chunk it stopped follows the same task again on its next run.
    """

    def __init__(self, task: BatchTask, timeout: float) -> None:
        self.task = task
        self.timeout = timeout
        super().__init__(
            f"batch task {task.id} is still {task.status} after {timeout:g}s "
            f"({task.processed_count}/{task.total_count} processed)"
        )


class MirrorError(InroError):
    """A contact mirror refused to open or to refresh; nothing in it was changed."""


class MirrorMismatchError(MirrorError):
    """The database is not this organization's contact mirror; it is left untouched.

    Another program's file or schema, a newer schema version, or a mirror synced from another
    organization or base URL.
    """


class MirrorUnavailableError(MirrorError):
    """The mirror's database cannot be reached or opened (a wrong URL, a refused login)."""


class DeleteGuardError(MirrorError):
    """A full walk would delete more than ``max_delete_ratio`` of the mirror: refused."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return InternalServerError
    if 300 <= status < 400:
        return UnexpectedRedirectError
    return _STATUS_ERRORS.get(status, APIStatusError)


def connection_error(
    method: str,
    path: str,
    reason: str,
    *,
    timed_out: bool,
    timeout: float | None,
    sent: bool,
) -> APIConnectionError:
    """The error for a request that got no complete response (``APITimeoutError`` if timed out).

    ``sent``: the request was (or may have been) sent, so the server may have acted on it.
    """
    error_class = APITimeoutError if timed_out else APIConnectionError
    description = f"timed out after {timeout:g}s" if timed_out and timeout is not None else reason
    return error_class(description, method=method, path=path, may_have_been_processed=sent)


def body_error(
    exc: msgspec.DecodeError, *, method: str, path: str, status: int, body: bytes
) -> APIResponseValidationError:
    """The error for a 2xx body that is not JSON, or does not fit the expected model."""
    what = (
        "unexpected response body"
        if isinstance(exc, msgspec.ValidationError)
        else "malformed JSON in response"
    )
    return APIResponseValidationError(
        f"{what}: {exc}", method=method, path=path, status=status, body=body
    )


def body_too_large(
    method: str, path: str, status: int, limit: int, head: bytes
) -> APIResponseValidationError:
    """The error for a body longer than ``max_response_bytes``; ``head`` is its start.

    A write's answer proves it reached the server, which may have acted on it (certainly so
    for a 2xx): its outcome is unknown.
    """
    message = (
        f"response body larger than the {limit:,}-byte limit, not read further (raise it "
        "with Client(max_response_bytes=...) or with_options(max_response_bytes=...); None "
        "for no limit)"
    )
    if not is_read(method):
        acted = "was processed" if status < 300 else "may have been processed"
        message += (
            f"; the server answered {status}, so the request {acted}, but its answer could "
            "not be read: its outcome is unknown"
        )
    return APIResponseValidationError(message, method=method, path=path, status=status, body=head)


def error_from_response(
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    retry_after: float | None,
    idempotent: bool = False,
    note: str = "",
    *,
    base_url: str = "",
) -> APIStatusError:
    """The error for a 3xx/4xx/5xx answer: the API's message, a hint, ``note`` at the end.

    ``base_url`` (the client's) lets a 404 to a known route say that it lacks ``/api/v1``.
    """
    if 300 <= status < 400:
        return _redirect_error(method, path, status, headers, content, note)
    try:
        body: Any = msgspec.json.decode(content) if content else None
    except (msgspec.DecodeError, RecursionError):  # not JSON, or too deep for any decoder
        body = content.decode("utf-8", "replace")
    message = _with_hint(status, _error_message(body, content))
    if status >= 500 and not idempotent:
        message += "; the server may have acted on it, so its outcome is unknown"
    if status == 429 and retry_after is not None:
        message += f"; the server allows requests again {allowed_again(retry_after)}"
    if status == 404 and base_url:
        message += _base_url_hint(base_url, method, path)
    message += note
    error_class = status_error_class(status)
    if error_class is RateLimitError:
        return RateLimitError(
            message,
            retry_after=retry_after,
            method=method,
            path=path,
            status=status,
            body=body,
            headers=headers,
        )
    return error_class(message, method=method, path=path, status=status, body=body, headers=headers)


_API_PREFIX = "/api/v1"


@functools.cache
def _route_pattern(method: str) -> re.Pattern[str]:
    """Every route path of ``method`` as one pattern (``{id}`` matches one path segment)."""
    paths = [
        "[^/]+".join(map(re.escape, re.split(r"\{[^}]*\}", route.path)))
        for route in ROUTES.values()
        if route.method == method
    ]
    return re.compile("|".join(paths) or "(?!)")


def _base_url_hint(base_url: str, method: str, path: str) -> str:
    """Why a known route answered 404, when the base URL misses ``/api/v1``; else nothing.

    Only the base URL's path is quoted (its host part could carry credentials). Checked on a
    404 only, and the patterns are built once per method.
    """
    after_host = base_url.partition("://")[2].partition("/")[2]
    base_path = "/" + after_host.split("?", 1)[0].rstrip("/")
    if base_path.endswith(_API_PREFIX) or not _route_pattern(method).fullmatch(path):
        return ""
    return (
        f"; the base URL's path is {base_path!r}, but the API's routes are under {_API_PREFIX}: "
        f"use a base URL ending in {_API_PREFIX}, like {DEFAULT_BASE_URL}"
    )


def allowed_again(seconds: float, *, now: float | None = None) -> str:
    """``seconds`` from now as text, with the wall-clock moment: ``in 90 s (at 10:01:30 UTC)``."""
    try:
        moment = datetime.fromtimestamp((time.time() if now is None else now) + seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return f"in {seconds:.3g} s (after the year 9999)"
    amount = f"{seconds:,.0f}" if seconds >= 10 else f"{seconds:.3g}"
    return f"in {amount} s (at {moment:%Y-%m-%d %H:%M:%S} UTC)"


def _redirect_error(
    method: str, path: str, status: int, headers: Mapping[str, str], content: bytes, note: str
) -> UnexpectedRedirectError:
    """A redirect that was not followed: where it pointed, and why the request was not resent."""
    location = headers.get("Location")
    where = "without a Location" if location is None else f"to {_without_query(location)!r}"
    message = (
        f"redirect {where} not followed: the API does not redirect, so the request is not "
        "sent anywhere else (check base_url, or a proxy in between)"
    )
    if not is_read(method):
        message += "; the server may have acted on it, so its outcome is unknown"
    return UnexpectedRedirectError(
        message + note,
        location=location,
        method=method,
        path=path,
        status=status,
        body=content.decode("utf-8", "replace") or None,
        headers=headers,
    )


def _without_query(url: str) -> str:
    """``url`` cut before its query or fragment, which can hold an email address."""
    return url.split("?", 1)[0].split("#", 1)[0]


def _error_message(body: Any, content: bytes) -> str:
    """The API's own message when the body has one, else a short excerpt of the body."""
    if isinstance(body, dict):
        for key in ("error", "message", "errors"):
            if key in body:
                message = body[key]
                return (
                    message if isinstance(message, str) else msgspec.json.encode(message).decode()
                )
    text = content[:200].decode("utf-8", "replace").strip()
    return text or "(empty body)"


_STATUS_HINTS: dict[int, tuple[str, tuple[str, ...]]] = {
    401: ("check INRO_API_TOKEN; a regenerated token invalidates the old one at once", ()),
    403: ("the Private API needs a Pro or Trial plan", ("plan", "subscription")),
}
"""A hint per status, and words that mean the API's own message already says it."""


def _with_hint(status: int, message: str) -> str:
    """``message`` with the status's hint appended, unless the message already gives it."""
    hint, already = _STATUS_HINTS.get(status, ("", ()))
    lowered = message.lower()
    if not hint or any(word in lowered for word in already):
        return message
    return f"{message} ({hint})"
