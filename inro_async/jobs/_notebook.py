"""Progress in Jupyter without ipywidgets: ``on_progress=NotebookProgress()``.

One HTML display per progress object, replaced in place (IPython's ``display_id``) at most
``interval`` times a second and always on a job's last event, so the saved notebook ends on the
final frame, never on a stale one. Every frame carries a ``text/plain`` twin for frontends that
show no HTML. Without IPython (a script, a plain terminal) it prints a line now and then to
stderr instead, as the ``inro`` command does in a pipe.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from inro_async._html import Raw, table
from inro_async.jobs._progress import ProgressEvent
from inro_async.jobs._report import format_duration

__all__ = ["NotebookProgress"]

_ALWAYS = ("started", "finished", "waiting", "paused")
"""Event kinds drawn at once, whatever the interval: a reader must see each of them."""


def _status(event: ProgressEvent) -> str:
    """The words beside a job's bar: its rate, what went wrong, and its ETA or wait."""
    parts = [f"{event.rate:,.1f}/s"]
    for label, n in (
        ("failed", event.failed),
        ("not found", event.not_found),
        ("skipped", event.skipped),
        ("unknown", event.unknown),
    ):
        if n:
            parts.append(f"{n:,} {label}")
    if event.kind == "waiting" and event.waiting_until is not None:
        parts.append(f"waiting until {event.waiting_until:%H:%M:%S %Z} ({event.quota})")
    elif event.kind == "paused" and event.waiting_until is not None:
        parts.append(f"paused until {event.waiting_until:%Y-%m-%d %H:%M %Z}")
    elif event.kind == "finished":
        parts.append(event.status or "finished")
    elif event.eta is not None:
        parts.append(f"ETA {format_duration(event.eta)}")
    return " · ".join(parts)


def _bar(event: ProgressEvent) -> str:
    total = max(event.total, 1)
    value = (
        min(event.finished, total) if event.total else (total if event.kind == "finished" else 0)
    )
    return f'<progress value="{value}" max="{total}" style="width:16em"></progress>'


class NotebookProgress:
    """A progress callback drawing one row per job as HTML, updated in place.

    ``display`` is injected for tests (it defaults to ``IPython.display.display``); without
    IPython the events go to ``fallback`` as text lines (default: stderr, every 5 s).
    """

    def __init__(
        self,
        *,
        interval: float = 0.2,
        display: Callable[..., Any] | None = None,
        fallback: Callable[[str], None] | None = None,
        fallback_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._display = display if display is not None else _kernel_display()
        if self._display is None:
            interval = fallback_interval
        self._interval = interval
        self._clock = clock
        self._fallback = fallback or (lambda line: print(line, file=sys.stderr))
        self._events: dict[str, ProgressEvent] = {}
        self._handle: Any = None
        self._drawn_at = float("-inf")

    def __call__(self, event: ProgressEvent) -> None:
        """Record the event; redraw if the interval has passed or the event must be seen."""
        self._events[f"{event.operation}:{event.job}"] = event
        now = self._clock()
        if event.kind not in _ALWAYS and now - self._drawn_at < self._interval:
            return
        self._drawn_at = now
        if self._display is None:  # no notebook: a line, as `inro` prints in a pipe
            self._fallback(str(event))
            return
        bundle = {"text/html": self.html(), "text/plain": self.text()}
        if self._handle is None:
            self._handle = self._display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def html(self) -> str:
        """The current frame as HTML: a row per job with its bar, counts and status."""
        rows = [
            (event.label, Raw(_bar(event)), f"{event.finished:,}/{event.total:,}",
             format_duration(event.elapsed), _status(event))
            for event in self._events.values()
        ]  # fmt: skip
        return table(("job", "progress", "items", "elapsed", "status"), rows)

    def text(self) -> str:
        """The current frame as text, one line per job."""
        return "\n".join(str(event) for event in self._events.values())


def _kernel_display() -> Callable[..., Any] | None:
    """``IPython.display.display`` inside a Jupyter kernel; ``None`` elsewhere.

    A terminal IPython shell has ``display`` too, but it prints each frame anew: it gets lines.
    """
    try:
        import IPython
        from IPython.display import display
    except ImportError:
        return None
    # Looked up, not imported by name: IPython 8 neither exports nor types it (9 does).
    get_ipython: Callable[[], Any] = getattr(IPython, "get_ipython")  # noqa: B009
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return display
