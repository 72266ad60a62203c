"""A token's latest 429 pause, as the transport remembers it: calls it would hang are refused.

The governor holds every request of the token until a 429's ``Retry-After`` has passed. A call
whose retry policy would not wait that long (no ``max_wait``, a pause above
``Retries.max_throttled_wait``) is refused unsent with the ``RateLimitError`` the 429 earned,
instead of hanging silently; a long pause is logged once (two 429s within ``SAME_PAUSE`` seconds
ask for the same one).
"""

from __future__ import annotations

import logging

from inro_async._http import HTTPResult
from inro_async._retry_policy import WAIT_LONGER, Retries, RetryPolicy
from inro_async.errors import allowed_again, error_from_response

__all__ = ["SAME_PAUSE", "TokenPause"]

logger = logging.getLogger("inro_async")

SAME_PAUSE = 1.0
"""Seconds within which two 429s ask for the same pause (one warning)."""


class TokenPause:
    """When the latest 429 pause ends (``until``, loop clock; 0.0: none) and what asked for it."""

    __slots__ = ("_asked", "until")

    def __init__(self) -> None:
        self.until = 0.0
        self._asked: tuple[str, str, HTTPResult] | None = None  # method, path, the 429

    def note(
        self,
        now: float,
        retry_after: float,
        retries: Retries,
        method: str,
        path: str,
        answer: HTTPResult,
    ) -> None:
        """Remember a 429's pause (the governor holds it too); warn once of a long one."""
        until = now + retry_after
        if until <= self.until:
            return
        long_pause = retry_after > retries.max_throttled_wait
        if long_pause and until > self.until + SAME_PAUSE:
            logger.warning(
                "429 on %s %s: Retry-After %gs; the server allows requests again %s. Calls "
                "with a max_wait wait for it (or raise QuotaWaitTooLongError), calls without "
                "one raise RateLimitError while more than %gs of it remain "
                "(Retries.max_throttled_wait)",
                *(method, path, retry_after, allowed_again(retry_after)),
                retries.max_throttled_wait,
            )
        self.until, self._asked = until, (method, path, answer)

    def refuse_if_paused(self, policy: RetryPolicy, now: float, method: str, path: str) -> None:
        """Raise ``RateLimitError`` unsent if the pause left is longer than ``policy`` waits."""
        left = self.until - now
        if left <= 0:
            self.until, self._asked = 0.0, None
            return
        asked = self._asked
        if asked is None or not policy.waits_too_long_for(left):
            return
        by_method, by_path, answer = asked
        note = (
            f"; not sent: an earlier 429 ({by_method} {by_path}) paused requests for this "
            f"token longer than the {policy.retries.max_throttled_wait:g}s a call without "
            f"max_wait waits for one ({WAIT_LONGER})"
        )
        raise error_from_response(
            method, path, answer.status, answer.headers, answer.content, left, note=note
        )
