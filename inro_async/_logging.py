"""The ``inro_async`` logger's switch: ``INRO_LOG=info|debug`` (or ``inro -v``) to stderr.

Like ``OPENAI_LOG`` and ``STRIPE_LOG``: without it the SDK installs no handler (a library
leaves logging to the application); with it, one handler on stderr for the ``inro_async``
logger, installed once, whose lines pass through ``Redact``: a bearer token, a ``token=``
value and every URL's query string (it can hold an email address) are cut out before a line
is written, whatever logged it.
"""

from __future__ import annotations

import logging
import os
import re
import sys

__all__ = ["LOG_ENV", "Redact", "configure_logging", "level_from_env"]

LOG_ENV = "INRO_LOG"
"""The environment variable that turns the SDK's log lines on: ``info`` or ``debug``."""

logger = logging.getLogger("inro_async")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",]+")
_TOKEN_FIELD = re.compile(r"(?i)(token=|token[\"']\s*:\s*[\"'])[^\s'\",&]+")
_URL_QUERY = re.compile(r"(://[^\s?#'\"]*)[?#][^\s'\"]*")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str) -> str:
    """``text`` with bearer tokens, ``token=`` values and URL query strings cut out."""
    if "://" in text:
        text = _URL_QUERY.sub(r"\1", text)
    text = _BEARER.sub(r"\1***", text)
    return _TOKEN_FIELD.sub(r"\1***", text)


class Redact(logging.Filter):
    """Rewrites each record's message through ``redact`` (arguments formatted first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, its message redacted."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The SDK's own stderr handler: marked, so it is installed once.

    Writes to ``sys.stderr`` as it is at each line (a test's capture, a redirected stream).
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` to the current ``sys.stderr``."""
        self.stream = sys.stderr
        super().emit(record)


def level_from_env() -> int | None:
    """The level ``INRO_LOG`` asks for, or ``None`` (unset, or a value it does not name)."""
    value = os.environ.get(LOG_ENV, "").strip().lower()
    return _LEVELS.get(value)


def configure_logging(level: int | None = None) -> None:
    """Send the ``inro_async`` logger's lines at ``level`` (else ``INRO_LOG``'s) to stderr.

    Does nothing when neither asks for one. Calling it again changes the level; the handler is
    installed once. A value of ``INRO_LOG`` it does not know is said once, on stderr.
    """
    if level is None:
        level = level_from_env()
        if level is None:
            if os.environ.get(LOG_ENV, "").strip() and not _said_unknown:
                _say_unknown(os.environ[LOG_ENV])
            return
    handler = next((h for h in logger.handlers if isinstance(h, _Handler)), None)
    if handler is None:
        handler = _Handler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(Redact())
        logger.addHandler(handler)
    handler.setLevel(level)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)


_said_unknown = False


def _say_unknown(value: str) -> None:
    global _said_unknown
    _said_unknown = True
    print(
        f"inro_async: ignoring {LOG_ENV}={value[:20]!r}: use one of {', '.join(_LEVELS)}",
        file=sys.stderr,
    )
