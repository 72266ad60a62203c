"""A scripted, socket-free stand-in for the API: queued answers per method and path."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from inro_async import Quota
from inro_async._http import HTTPRequest, HTTPResult, MockBackend, _form_data
from inro_async._transport import Retries
from inro_async.client import Client

TOKEN = "tok_live_SECRET_0123456789abcdef"
BASE_URL = "http://inro.test/api/v1"
HIGH_QUOTAS = (Quota(1_000_000, 1),)
FAST_RETRIES = Retries(max_retries=2, backoff_base=0.0)

Answer = HTTPResult | BaseException | Callable[[HTTPRequest], HTTPResult]


def answer(
    status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None
) -> HTTPResult:
    """An HTTP result with a JSON body (``bytes`` are sent as they are)."""
    raw = body if isinstance(body, bytes) else (b"" if body is None else msgspec.json.encode(body))
    return MockBackend.result(status, raw, headers)


def page_headers(total: int, page: int, per_page: int) -> dict[str, str]:
    """The four paging headers."""
    pages = -(-total // per_page)
    return {
        "X-Total": str(total),
        "X-Total-Pages": str(pages),
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
    }


class MockAPI:
    """Answers ``(METHOD, path)`` from a queue; the last answer of a queue repeats."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], deque[Answer]] = defaultdict(deque)
        self.backend = MockBackend(self._handle)

    @property
    def requests(self) -> list[HTTPRequest]:
        """Every request sent, in order."""
        return self.backend.requests

    def on(self, method: str, path: str, *answers: Answer) -> None:
        """Queue answers for ``method path`` (path relative to the base URL, no query)."""
        self.answers[(method, path)].extend(answers)

    def _handle(self, request: HTTPRequest) -> HTTPResult:
        path = request.url.removeprefix(BASE_URL)
        queue = self.answers.get((request.method, path))
        if not queue:
            return answer(404, {"error": f"no mock answer for {request.method} {path}"})
        item = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(item, BaseException):
            raise item
        if callable(item):
            return item(request)
        return item

    def client(self, **options: Any) -> Client:
        """A client whose requests go to this mock."""
        options.setdefault("max_retries", FAST_RETRIES)
        return Client(
            token=TOKEN, base_url=BASE_URL, backend=self.backend, quotas=HIGH_QUOTAS, **options
        )


def sent_json(request: HTTPRequest) -> Any:
    """The JSON body of a recorded request."""
    return msgspec.json.decode(request.body or b"null")


class _Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, chunk: bytes) -> None:
        self.data.extend(chunk)


async def multipart_parts(request: HTTPRequest) -> list[tuple[str, str | None, bytes]]:
    """The parts of a multipart request as ``(name, filename, content)``, in order."""
    import email
    import email.policy

    assert request.form is not None, "not a multipart request"
    payload = _form_data(request.form)()  # encoded as the real backend encodes it
    sink = _Sink()
    await payload.write(sink)  # type: ignore[arg-type]
    raw = f"Content-Type: {payload.content_type}\r\n\r\n".encode() + bytes(sink.data)
    message = email.message_from_bytes(raw, policy=email.policy.HTTP)
    parts = []
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        parts.append((name, part.get_filename(), part.get_payload(decode=True)))
    return parts
