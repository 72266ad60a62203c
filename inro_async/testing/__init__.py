"""A faithful fake Inrō API for tests and demos: ``FakeInro``, its clock, faults and data.

The pytest plugin (registered on install) gives the fixtures ``inro_server``, ``inro_client``
and ``inro_fake_options``; ``inro fake-server`` runs it standalone.
"""

from inro_async.testing._ratelimit import RateLimiter, Verdict
from inro_async.testing.clock import ManualClock
from inro_async.testing.faults import Faults
from inro_async.testing.generate import generate_contacts
from inro_async.testing.server import FakeInro, RecordedRequest
from inro_async.testing.store import Delivery, Organization

__all__ = [
    "Delivery",
    "FakeInro",
    "Faults",
    "ManualClock",
    "Organization",
    "RateLimiter",
    "RecordedRequest",
    "Verdict",
    "generate_contacts",
]
