"""A blocking client for code without an event loop: ``from inro_async.sync import Client``.

::

    from inro_async.sync import Client

    with Client() as inro:                      # token from INRO_API_TOKEN, or Client(token=...)
        org = inro.me()
        for contact in inro.contacts.iter(concurrency=4):   # pages fetched in the background
            ...
        report = inro.messages.send_many(ids, text="Hi!", job="spring")   # blocks, resumable

**How it works.** The async ``inro_async.Client`` does the work, unchanged, on one private
event loop (the portal, ``_portal.py``) that owns its session, governor and journals. A call
made while nobody else uses the loop runs it in the calling thread (no thread crossing, no
wake-ups); otherwise the loop runs in a daemon thread and the call crosses into it with
``call_soon_threadsafe`` and waits on a lock. So there is one SDK, not two: the same governor,
retries, errors and job journals, and many threads may share one client (a threaded web
server), all paced by one governor. It also works inside a thread that runs an event loop of
its own (a notebook cell, an async test): the call crosses to the portal thread. A call made
from the loop itself (a hook such as ``on_dispatch``) raises ``PortalThreadError`` rather than
deadlock. Ctrl-C cancels the running call (a job records its journal as an async job does when
cancelled) and raises ``KeyboardInterrupt``. After ``os.fork`` the child gets a new portal and
new sessions, never the parent's sockets; clients still open at interpreter exit are closed.

**Why a generated facade.** The blocking classes (``_generated/``) are written by
``tools/generate_sync.py`` from the async ones with ``inspect``: each method has the async
method's exact parameters (names, annotations, defaults) and a mapped return type (``X``,
``Walk[X]`` for a walk, the report for a job), and forwards to the async method, so mypy strict
checks both the signature users see and the call behind it. A generic proxy (``__getattr__``
and ``ParamSpec``) cannot map a whole class's return types under mypy, and typed stubs beside it
would be a second copy to keep in step by hand. ``--check`` (run by the test suite) fails when
an async method has no twin or a signature drifted.
"""

from inro_async.sync._generated import Client
from inro_async.sync._portal import PortalThreadError
from inro_async.sync._walk import Walk

__all__ = ["Client", "PortalThreadError", "Walk"]
