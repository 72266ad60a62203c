"""A local mirror of every contact in SQLite or PostgreSQL, and its replayable change events.

``mirror = ContactMirror("crm.sqlite3")`` (or a ``postgresql://`` URL);
``report = await mirror.refresh(inro)``; ``async for event in mirror.events(after=ID)``.
Events are CloudEvents 1.0 (``inro.contact.created``/``updated``/``deleted``).
"""

from inro_async.mirror._mirror import ContactMirror, MirrorProgress, RefreshReport

__all__ = ["ContactMirror", "MirrorProgress", "RefreshReport"]
