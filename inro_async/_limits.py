"""The API's limits and the SDK's own caps, each defined once.

Section numbers cite the API reference we compiled (``inro-api.md``, see ``_routes``), with its
source tags: ``[ref]`` the official reference, ``[help]`` a help article, ``[mcp]`` an MCP tool
description, ``[inferred]`` our own guess. Resources, jobs and pagination read these names; the
rate limits themselves are ``governor.INRO_QUOTAS`` (section 3).
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_PER_PAGE",
    "MAX_CHUNK_SIZE",
    "MAX_CONCURRENCY",
    "MAX_CONTACTS_PER_BULK_UPDATE",
    "MAX_CONTACTS_PER_TRIGGER",
    "MAX_EMAIL_LENGTH",
    "MAX_IDS_PER_FOLDER_CHANGE",
    "MAX_PER_PAGE",
    "MAX_RECIPIENTS_PER_MESSAGE",
    "MAX_USERNAME_LENGTH",
]

MAX_PER_PAGE = 1000
"""The cap on ``per_page`` of every list (section 4, Pagination: "capped at 1,000" [ref])."""

DEFAULT_PER_PAGE = 20
"""``per_page`` when a list request leaves it out (section 4, Pagination [ref][help])."""

MAX_RECIPIENTS_PER_MESSAGE = 1000
"""Recipients of one ``POST /messages``, singular and plural fields together (section 7.7,
Messages: "up to 1,000 recipients per call" [help]; section 10, Maximums)."""

MAX_CONTACTS_PER_BULK_UPDATE = 1000
"""Entries of one ``PUT /contacts/bulk`` (section 7.2.1: "at most 1,000 contacts per call"
[mcp]; section 10, Maximums)."""

MAX_CONTACTS_PER_TRIGGER = 1000
"""Contacts of one ``POST /scenarios/{id}/trigger`` (section 7.9: not stated, "1,000 is likely
by analogy with messages" [inferred])."""

MAX_IDS_PER_FOLDER_CHANGE = 1000
"""``contact_ids`` of one folder add or remove (section 7.4: not stated; 1,000 like every other
list of contacts [inferred])."""

MAX_CHUNK_SIZE = min(
    MAX_RECIPIENTS_PER_MESSAGE, MAX_CONTACTS_PER_BULK_UPDATE, MAX_CONTACTS_PER_TRIGGER
)
"""The largest chunk a fan-out job sends in one call: the smallest of the caps above."""

MAX_CONCURRENCY = 64
"""The SDK's cap on requests in flight for one walk or job (``concurrency=``); not an API limit.

At 20 requests per second (section 3, Rate limits [ref]) more in flight would only queue in the
governor while holding their connections and decoded pages.
"""

MAX_USERNAME_LENGTH = 30
"""Instagram's cap on a handle's length; the API addresses contacts by that handle (section 10,
Identifier triad; section 11.1: "Instagram handle, no @" [ref])."""

MAX_EMAIL_LENGTH = 254
"""The longest address an SMTP path carries (RFC 5321, 4.5.3.1.3); the reference states none."""
