"""One page of a list endpoint: its items and what the paging headers said of the whole list.

Lists come back as bare JSON arrays; the paging facts travel in ``X-Total``, ``X-Total-Pages``,
``X-Page`` and ``X-Per-Page`` ([ref] section 4), read here once per page and never raising:
a header that is missing or garbage reads as ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Generic, TypeVar

from multidict import istr

from inro_async._html import items_table
from inro_async._transport import APIResponse

__all__ = ["Page", "PageInfo"]

T = TypeVar("T")


_KNOWN: dict[str | None, int] = {}
"""Paging header values read before, by their text. ``int()`` of a header's text costs ten times
a dict lookup, and a walk's pages repeat the same few values (``X-Total``, ``X-Per-Page``), so
each text is read once. Cleared when it holds ``_KNOWN_MAX`` texts: memory stays bounded."""
_KNOWN_MAX = 4096


def _int_or_none(value: str | None) -> int | None:
    """A header's integer (``int`` ignores surrounding whitespace); ``None`` if absent or bad."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    if len(_KNOWN) >= _KNOWN_MAX:
        _KNOWN.clear()
    _KNOWN[value] = number
    return number


# Case-insensitive names that multidict need not fold on every lookup (still plain str keys).
_X_TOTAL, _X_TOTAL_PAGES = istr("X-Total"), istr("X-Total-Pages")
_X_PAGE, _X_PER_PAGE = istr("X-Page"), istr("X-Per-Page")


def _paging(headers: Mapping[str, str]) -> tuple[int | None, int | None, int | None, int | None]:
    """``X-Total``, ``X-Total-Pages``, ``X-Page`` and ``X-Per-Page``, read on every page."""
    get, known = headers.get, _KNOWN.get
    texts = get(_X_TOTAL), get(_X_TOTAL_PAGES), get(_X_PAGE), get(_X_PER_PAGE)
    numbers = known(texts[0]), known(texts[1]), known(texts[2]), known(texts[3])
    if None in numbers:  # a header absent, or a text not read before
        return (
            _int_or_none(texts[0]),
            _int_or_none(texts[1]),
            _int_or_none(texts[2]),
            _int_or_none(texts[3]),
        )
    return numbers


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
        """Whether another page follows, per the headers; without them, if this one was full.

        ``X-Total`` counting items past this page means a next page, whatever
        ``X-Total-Pages`` says; else ``X-Total-Pages`` decides. A short page the headers say is
        not the last has a next page too: the list may have shrunk between the count and the
        read, or the server left items out, and only the pages after it can tell (a walk checks
        the count when it ends). An empty page is always the last.
        """
        if self.per_page <= 0 or not self.items:
            return False
        if self.total is not None and self.total > self.page * self.per_page:
            return True
        if self.total_pages is not None:
            return self.page < self.total_pages
        return len(self.items) >= self.per_page

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]

    def _repr_html_(self) -> str:
        """The page in a notebook: what the headers said, then a table of its items."""
        of = f" of {self.total_pages:,}" if self.total_pages is not None else ""
        total = f" of {self.total:,}" if self.total is not None else ""
        caption = f"page {self.page:,}{of} · {len(self.items):,}{total} items"
        return items_table(self.items, caption=caption, more="in page.items")

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
