"""Small HTML tables for notebooks: what ``_repr_html_`` of reports, pages and quotas returns.

Every value is escaped; nothing here knows what it renders. Jupyter shows the HTML, and
``text/plain`` stays the object's own text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__ = ["Raw", "cell", "items_table", "table"]

_LONG = 60
"""Characters of a cell's text shown before it is cut (the object keeps the whole value)."""


class Raw(str):
    """Markup made by this package (a ``<progress>`` element): put in a cell as it is."""

    __slots__ = ()


def cell(value: object) -> str:
    """A value as escaped cell text: ``None`` blank, long text cut with an ellipsis."""
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    if len(text) > _LONG:
        text = text[: _LONG - 1] + "…"
    return html.escape(text)


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    caption: str | None = None,
    footer: str | None = None,
) -> str:
    """An HTML table; ``caption`` above it and ``footer`` below, both escaped text."""
    parts = ["<table>"]
    if caption:
        parts.append(f'<caption style="text-align:left">{html.escape(caption)}</caption>')
    parts.append("<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers))
    parts.append("</tr></thead><tbody>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>")
    parts.append("</tbody></table>")
    if footer:
        parts.append(f"<p>{html.escape(footer)}</p>")
    return "".join(parts)


ROWS = 20
"""Items a page's table shows; the rest are counted below it."""


def _fields(item: object) -> tuple[str, ...]:
    struct_fields = getattr(type(item), "__struct_fields__", None)
    if struct_fields is not None:  # a msgspec Struct (every model)
        return tuple(struct_fields)
    if isinstance(item, dict):
        return tuple(str(key) for key in item)
    return ()


def items_table(items: Sequence[object], *, caption: str, more: str) -> str:
    """The first ``ROWS`` items as a table, one column per field of the first item."""
    shown = items[:ROWS]
    names = _fields(shown[0]) if shown else ()
    if names:
        rows = [
            [
                item.get(name) if isinstance(item, dict) else getattr(item, name, None)
                for name in names
            ]
            for item in shown
        ]
    else:
        names, rows = ("item",), [[item] for item in shown]
    left = len(items) - len(shown)
    return table(names, rows, caption=caption, footer=f"… {left:,} more {more}" if left else None)
