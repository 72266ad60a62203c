"""Pages of a list endpoint, and walking every page, sequentially or concurrently.

``Page`` and its header parsing live in ``_page.py``; the walk and every check it makes of the
server's pages (its module docstring says which and why) in ``_walk.py``.
"""

from __future__ import annotations

from inro_async._limits import MAX_PER_PAGE as MAX_PER_PAGE  # re-exported: its old home
from inro_async.pagination._page import Page, PageInfo
from inro_async.pagination._walk import COUNT_SLACK, FetchPage, iter_pages

__all__ = ["COUNT_SLACK", "FetchPage", "Page", "PageInfo", "iter_pages"]
