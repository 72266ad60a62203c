"""Walking every page of a list, sequentially or concurrently, and what a walk checks.

The paging facts travel in ``X-Total``, ``X-Total-Pages``, ``X-Page`` and ``X-Per-Page`` ([ref]
section 4; read into a ``Page`` by ``_page.py``). The walk trusts those headers only as far as
they can be trusted: when they are missing (GitLab-style servers drop them on large collections)
it walks until a short page; when a later page announces more pages than the first did (the list
grew during the walk) it follows the newest count; and when a full page's headers contradict
each other (``X-Total`` beyond the announced pages) it asks for one more. A full last page whose
headers agree ends the walk: asking past it would cost a request on every list that is an exact
multiple of ``per_page``.

A page walk is not a snapshot: a contact deleted from an earlier page while the walk runs shifts
later items back by one, and one of them may be skipped (offset paging cannot see that); in a
list ordered newest first, a contact added meanwhile shifts items forward, and one may be seen
twice. Those are tolerated. What a changing list cannot explain is an error
(``PaginationError``, naming the page), so a walk never repeats pages forever nor ends quietly
short of what the server counted:

* **A page the server did not answer.** ``X-Page`` differs from the page asked for, or the page
  holds the same items as the one before it (by ``id`` where items have one, else by equality):
  the server, or a cache in front of it, ignores ``?page=``. (A list would have to shift by a
  whole page between two requests to do that honestly.)
* **More than the headers promised.** The walk's items, through this page, outnumber what
  ``X-Total`` counts from the walk's start; or, without ``X-Total``, a page past
  ``X-Total-Pages`` holds items.
* **An empty page the headers count items on.** An empty page means the list ended there when
  it was read; headers that count more than ``COUNT_SLACK`` items on it are wrong.
* **Fewer than the headers promised.** A short page whose own headers place more items on it is
  not the end: the walk fetches on, to the last page announced so far (no further: it stops
  following growing counts from a server that has shown it miscounts), and when it ends it
  compares what it yielded with the last page's ``X-Total``. Fewer is an error naming the short
  page (``short_page`` in ``testing.faults``: 999 of 1,000 on page 2 of 5).
* **A page already fetched past the end.** With ``concurrency > 1`` pages are fetched ahead. If
  the walk ends (a page says it is the last) while a later page whose answer has already arrived
  holds items, the list shrank under the walk by more than a page or a page lied: the walk
  stops with an error rather than drop those items or yield them out of place.

The server counts the list and reads the page in two steps; contacts added or removed in
between make ``X-Total`` and the page's items disagree by a few. ``COUNT_SLACK`` items (at most
a tenth of a page) are forgiven, at the last page only for a shortfall. An ``X-Total``
understated by a whole number of pages, consistently, cannot be told from the truth without a
request past the last page; the walk takes it at its word.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import NamedTuple, TypeVar

from inro_async._validate import check_concurrency
from inro_async.errors import PaginationError
from inro_async.pagination._page import Page

__all__ = ["COUNT_SLACK", "FetchPage", "iter_pages"]

T = TypeVar("T")


FetchPage = Callable[[int], Awaitable[Page[T]]]
"""Fetches one page by its 1-based number."""

COUNT_SLACK = 10
"""Items by which ``X-Total`` may disagree with the page it came with (at most a tenth of a page).

The server counts the list and reads the page in two steps: contacts added or removed in
between shift one against the other by a few. More than this is not a list changing.
"""


def _slack(per_page: int) -> int:
    return min(COUNT_SLACK, per_page // 10)


def _placed(page: Page[T]) -> int | None:
    """How many items the page's own headers place on it; ``None`` when they cannot say."""
    per_page = page.per_page
    if page.total is not None:
        return min(per_page, max(0, page.total - (page.page - 1) * per_page))
    if page.total_pages is not None and page.page < page.total_pages:
        return per_page  # only the last page may be short
    return None


def _last_announced(page: Page[T]) -> int | None:
    """The last page number the page's headers announce (either header); ``None`` if neither."""
    by_count = None
    if page.total is not None and page.per_page > 0:
        by_count = -(-page.total // page.per_page)
    if page.total_pages is None:
        return by_count
    return page.total_pages if by_count is None else max(page.total_pages, by_count)


def _key(item: object) -> object:
    key = getattr(item, "id", None)
    return item if key is None else key


class _Seen(NamedTuple):
    """What a walk keeps of the page it yielded last: its facts, not its items or body."""

    page: int
    per_page: int
    total: int | None
    held: int
    """Items on it."""
    placed: int | None
    keys: list[object]
    """The items' ids (the items themselves where they have none), to tell a repeat."""
    method: str
    path: str
    status: int


def _error(page: Page[T] | _Seen, message: str, *, at: int | None = None) -> PaginationError:
    """The error about ``page`` (its body when the page is at hand; a seen one's is gone)."""
    body = b""
    if isinstance(page, _Seen):
        method, path, status = page.method, page.path, page.status
    elif page.response is not None:
        response = page.response
        method, path, status = response.method, response.path, response.status
        body = response.content  # the page at fault's own answer
    else:
        method, path, status = "GET", "(page walk)", 200
    return PaginationError(
        message,
        page=page.page if at is None else at,
        method=method,
        path=path,
        status=status,
        body=body,
    )


class _Walk:
    """What a walk has yielded so far, and the checks each page must pass (module docstring).

    It keeps the last page's ids and counts, never a page: memory stays bounded by the pages in
    flight.
    """

    __slots__ = ("offset", "previous", "short", "yielded")

    def __init__(self) -> None:
        self.offset = 0  # items before the walk's first page
        self.yielded = 0
        self.previous: _Seen | None = None
        self.short: list[tuple[int, int, int]] = []
        """Pages shorter than their own headers say: (page, items, items placed on it)."""

    @property
    def trusted(self) -> bool:
        """Whether growing counts can still be followed: no page was short of its own headers.

        An honest server's pages before the last are full, whatever happens to the list.
        """
        return not self.short

    def admit(self, page: Page[T], asked: int) -> None:
        """Check a page before it is yielded; raise ``PaginationError`` if it cannot be right."""
        items = page.items
        count = len(items)
        if page.page != asked:
            raise _error(
                page,
                f"page {asked} was asked for and the server answered page {page.page} "
                "(X-Page): something between us and the API ignores ?page= (a cache?)",
                at=asked,
            )
        keys = [_key(item) for item in items]
        previous = self.previous
        if previous is None:
            self.offset = (asked - 1) * page.per_page
        elif count and keys == previous.keys:
            raise _error(
                page,
                f"page {asked} holds the same {count:,} items as page {previous.page}: the "
                "server, or a cache in front of it, ignores ?page=",
            )
        slack = _slack(page.per_page)
        through = self.yielded + count
        if page.total is not None:
            counted = page.total - self.offset
            if count and through > counted + slack:
                raise _error(
                    page,
                    f"page {asked} brings the walk to {through:,} items, more than the "
                    f"{counted:,} X-Total counts (X-Total: {page.total:,})",
                )
        elif page.total_pages is not None and count and asked > page.total_pages:
            raise _error(
                page,
                f"page {asked} holds {count:,} items, past the last page X-Total-Pages "
                f"announces ({page.total_pages:,})",
            )
        placed = _placed(page)
        if placed is not None and count < placed:
            if not count and placed > slack:
                raise _error(
                    page,
                    f"page {asked} is empty, but its headers place {placed:,} items on it "
                    f"(X-Total: {page.total}, X-Total-Pages: {page.total_pages})",
                )
            self.short.append((asked, count, placed))
        self.yielded = through
        response = page.response
        self.previous = _Seen(
            page.page,
            page.per_page,
            page.total,
            count,
            placed,
            keys,
            response.method if response is not None else "GET",
            response.path if response is not None else "(page walk)",
            response.status if response is not None else 200,
        )

    def finish(self) -> None:
        """The walk ended: raise if it yielded fewer items than the last count, beyond slack."""
        final = self.previous
        if final is None or final.total is None:
            return
        missing = final.total - self.offset - self.yielded
        if missing <= 0:
            return
        own = 0 if final.placed is None else max(0, final.placed - final.held)
        if missing <= min(_slack(final.per_page), own):
            return  # the last page was read just as the count moved
        where = "the pages' counts disagree with each other"
        first_short = self.short[0][0] if self.short else final.page
        if self.short:
            where = ", ".join(
                f"page {number} held {count:,} of the {placed:,} its headers count"
                for number, count, placed in self.short[:3]
            )
        raise _error(
            final,
            f"the walk ended at page {final.page} with {self.yielded:,} items, {missing:,} "
            f"fewer than X-Total counts ({final.total:,}); {where}",
            at=first_short,
        )

    def arrived_past_the_end(self, ended: Page[T], later: Page[T], number: int) -> None:
        """A page the walk would end at, and a later one already fetched that holds items."""
        raise _error(
            ended,
            f"page {ended.page} ends the list (X-Total: {ended.total}), but page {number}, "
            f"already fetched, holds {len(later.items):,} items (X-Total: {later.total}): "
            "the list changed under the walk by more than a page, or a page is wrong; walk "
            "it again",
        )


def _arrived(task: asyncio.Task[Page[T]]) -> Page[T] | None:
    """A fetched page's result if its answer has arrived, else ``None`` (errors included)."""
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()


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

    Raises ``PaginationError`` for pages that cannot be right: a page repeating the one before,
    more items than ``X-Total`` counts, or a walk ending short of it (see the module docstring).
    """
    check_concurrency(concurrency)  # the same 1..64 rule as every walk and job
    walk = _Walk()
    page = await fetch(first_page)
    walk.admit(page, first_page)
    yield page
    if not page.has_next:
        walk.finish()
        return

    # None: unknown, walk until a short page. A full page counting items past it has a next.
    announced = _last_announced(page)
    last = None if announced is None else max(announced, first_page + 1)
    next_number = first_page + 1
    window: deque[tuple[int, asyncio.Task[Page[T]]]] = deque()
    try:
        while True:
            while len(window) < concurrency and (last is None or next_number <= last):
                window.append((next_number, asyncio.ensure_future(fetch(next_number))))
                next_number += 1
            if not window or (last is not None and window[0][0] > last):
                break
            number, task = window.popleft()
            page = await task
            walk.admit(page, number)
            yield page
            if not page.has_next:
                for later_number, later in window:
                    fetched = _arrived(later)
                    if fetched is not None and fetched.items:
                        walk.arrived_past_the_end(page, fetched, later_number)
                break
            if last is not None and walk.trusted:
                # Newer headers win: pages the list grew by since page one are walked too.
                last = max(last, _last_announced(page) or 0, page.page + 1)
        walk.finish()
    finally:
        for _, task in window:
            task.cancel()
        for _, task in window:
            with contextlib.suppress(BaseException):
                await task
