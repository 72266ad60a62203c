"""Pages of a list endpoint, and walking every page, sequentially or concurrently.

Lists come back as bare JSON arrays; the paging facts travel in ``X-Total``, ``X-Total-Pages``,
``X-Page`` and ``X-Per-Page`` ([ref] section 4). The walk trusts those headers only as far as
they can be trusted: when they are missing (GitLab-style servers drop them on large collections)
it walks until a short page; when a later page announces more pages than the first did (the
list grew during the walk) it follows the newest count; and when a full page's headers
contradict each other (``X-Total`` beyond the announced pages) it asks for one more. A full last
page whose headers agree ends the walk: asking past it would cost a request on every list that
is an exact multiple of ``per_page``.

A page walk is not a snapshot: a contact deleted from an earlier page while the walk runs shifts
later items back by one, and one of them may be skipped (offset paging cannot see that).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Generic, TypeVar

from multidict import istr

from inro_async._limits import MAX_PER_PAGE as MAX_PER_PAGE  # re-exported: its old home
from inro_async._transport import APIResponse

__all__ = ["Page", "PageInfo", "iter_pages"]

T = TypeVar("T")


def _int_or_none(value: str | None) -> int | None:
    """A header's integer (``int`` ignores surrounding whitespace); ``None`` if absent or bad."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


# Case-insensitive names that multidict need not fold on every lookup (still plain str keys).
_X_TOTAL, _X_TOTAL_PAGES = istr("X-Total"), istr("X-Total-Pages")
_X_PAGE, _X_PER_PAGE = istr("X-Page"), istr("X-Per-Page")


def _paging(headers: Mapping[str, str]) -> tuple[int | None, int | None, int | None, int | None]:
    """``X-Total``, ``X-Total-Pages``, ``X-Page`` and ``X-Per-Page``, read on every page."""
    get = headers.get
    values = get(_X_TOTAL), get(_X_TOTAL_PAGES), get(_X_PAGE), get(_X_PER_PAGE)
    try:  # the usual answer: all four, each a plain integer
        return int(values[0]), int(values[1]), int(values[2]), int(values[3])  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (
            _int_or_none(values[0]),
            _int_or_none(values[1]),
            _int_or_none(values[2]),
            _int_or_none(values[3]),
        )


@dataclass(frozen=True, slots=True)
class PageInfo:
    """The four paging headers; ``None`` where the server left one out or sent garbage."""

    total: int | None
    total_pages: int | None
    page: int | None
    per_page: int | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> PageInfo:
        """Parse ``X-Total``, ``X-Total-Pages``, ``X-Page`` and ``X-Per-Page``."""
        return cls(*_paging(headers))


@dataclass(frozen=True, slots=True, repr=False)
class Page(Generic[T]):
    """One page of a list: its items and what the headers said about the whole list."""

    items: list[T]
    page: int
    per_page: int
    total: int | None = None
    """Items in the whole list, when the server said."""
    total_pages: int | None = None
    """Pages in the whole list, when the server said."""
    response: APIResponse | None = field(default=None, compare=False)
    """The raw response (status and headers), for rate-limit and paging details."""

    @classmethod
    def from_response(
        cls, items: list[T], response: APIResponse, *, page: int, per_page: int
    ) -> Page[T]:
        """A page from decoded items and the response's headers (headers win when present)."""
        total, total_pages, sent_page, sent_per_page = _paging(response.headers)
        # What the generated __init__ does, at half the cost (see _SET_ITEMS).
        made = _new(cls)
        _SET_ITEMS(made, items)
        _SET_PAGE(made, page if sent_page is None else sent_page)
        _SET_PER_PAGE(made, per_page if sent_per_page is None else sent_per_page)
        _SET_TOTAL(made, total)
        _SET_TOTAL_PAGES(made, total_pages)
        _SET_RESPONSE(made, response)
        return made

    @property
    def has_next(self) -> bool:
        """Whether another page follows: per ``X-Total-Pages`` when sent, else if this one was full.

        A short page always ends the list, whatever the headers say; a full one also has a next
        page when ``X-Total`` counts items beyond it, whatever ``X-Total-Pages`` says.
        """
        if len(self.items) < self.per_page or self.per_page <= 0:
            return False
        if self.total is not None and self.total > self.page * self.per_page:
            return True
        if self.total_pages is not None:
            return self.page < self.total_pages
        return True

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]

    def __repr__(self) -> str:
        of = f"/{self.total_pages}" if self.total_pages is not None else ""
        total = f", total={self.total}" if self.total is not None else ""
        preview = ", ".join(repr(item) for item in self.items[:2])
        more = f", … {len(self.items) - 2} more" if len(self.items) > 2 else ""
        return (
            f"Page(page={self.page}{of}, per_page={self.per_page}{total}, items=[{preview}{more}])"
        )


# A frozen dataclass's __init__ sets each field through object.__setattr__: 670 ns a Page here,
# on every page. The slots' own descriptors set them in half the time. A field added to Page
# fails this check at import rather than go unset by from_response.
_FIELDS = ("items", "page", "per_page", "total", "total_pages", "response")
assert tuple(f.name for f in fields(Page)) == _FIELDS, "Page.from_response sets every field"
_new = object.__new__
_SETTERS: tuple[Callable[[object, object], None], ...] = tuple(
    vars(Page)[name].__set__ for name in _FIELDS
)
_SET_ITEMS, _SET_PAGE, _SET_PER_PAGE, _SET_TOTAL, _SET_TOTAL_PAGES, _SET_RESPONSE = _SETTERS

FetchPage = Callable[[int], Awaitable[Page[T]]]
"""Fetches one page by its 1-based number."""


async def iter_pages(
    fetch: FetchPage[T], *, first_page: int = 1, concurrency: int = 1
) -> AsyncGenerator[Page[T], None]:
    """Yield every page in order, starting at ``first_page``.

    With ``concurrency > 1`` up to that many pages are in flight at once, in a lookahead window:
    memory is bounded by ``concurrency`` pages, not the whole list, and pages are still yielded
    in order. When the first page announces the total, exactly the announced pages are fetched,
    plus any that later pages announce (the list grew meanwhile). When it does not, the window
    fetches ahead speculatively and stops at the first short page (costing at most
    ``concurrency - 1`` requests past the end).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    page = await fetch(first_page)
    yield page
    if not page.has_next:
        return

    # None: unknown, walk until a short page. A full page counting items past it has a next.
    last = None if page.total_pages is None else max(page.total_pages, first_page + 1)
    next_number = first_page + 1
    window: deque[asyncio.Task[Page[T]]] = deque()
    try:
        while True:
            while len(window) < concurrency and (last is None or next_number <= last):
                window.append(asyncio.ensure_future(fetch(next_number)))
                next_number += 1
            if not window:
                return
            page = await window.popleft()
            yield page
            if not page.has_next:
                return
            if last is not None:
                # Newer headers win: pages the list grew by since page one are walked too.
                last = max(last, page.total_pages or 0, page.page + 1)
    finally:
        for task in window:
            task.cancel()
        for task in window:
            with contextlib.suppress(BaseException):
                await task
