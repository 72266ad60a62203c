"""The process's one portal (``_portal.Portal``): started on first use, again in a forked child.

**os.fork**: the child has no portal thread (threads do not survive a fork) and must not touch
the parent's loop or sockets. It forgets the parent's portal (kept referenced, so that nothing
of it is finalized in the child) and builds a new one on first use; ``generation()`` tells
clients that what they built before belongs to the parent. **Interpreter exit**: the async
clients still open are closed on the portal, then its loop stops.
"""

from __future__ import annotations

import atexit
import os
import threading

from inro_async.sync._portal import EXIT_TIMEOUT, Portal

__all__ = ["current", "generation", "rebuild_lock"]

_current: Portal | None = None
_generation = 0
_lock = threading.Lock()
_rebuild_lock = threading.Lock()
_ABANDONED: list[Portal] = []
"""Portals inherited from a parent process (kept so that nothing of theirs is finalized)."""


def current() -> Portal:
    """The process's portal, started on first use (and again in a forked child)."""
    portal = _current
    if portal is None:
        portal = _start_portal()
    return portal


def _start_portal() -> Portal:
    global _current
    with _lock:
        if _current is None:
            _current = Portal()
        return _current


def generation() -> int:
    """Changes in a forked child: anything built on an earlier generation's portal is stale."""
    return _generation


def rebuild_lock() -> threading.Lock:
    """The lock under which clients rebuild after a fork (recreated in the child)."""
    return _rebuild_lock


def _after_fork_in_child() -> None:
    global _current, _generation, _lock, _rebuild_lock
    _lock, _rebuild_lock = threading.Lock(), threading.Lock()  # held by a thread now gone?
    _generation += 1
    old, _current = _current, None
    if old is not None:
        old.abandon()
        _ABANDONED.append(old)


def _at_exit() -> None:
    portal = _current
    if portal is not None:
        portal.close_clients(EXIT_TIMEOUT)
        portal.stop()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
