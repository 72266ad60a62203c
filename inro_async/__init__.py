"""inro_async: the asyncio-native SDK for the Inrō Private API."""

from inro_async.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InroError,
    InternalServerError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    QuotaWaitTooLongError,
    RateLimitError,
    UnprocessableEntityError,
)
from inro_async.governor._base import INRO_QUOTAS, Governor, Priority, Quota, QuotaUsage

__version__ = "0.1.0"

__all__ = [
    "INRO_QUOTAS",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Governor",
    "InroError",
    "InternalServerError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "Priority",
    "Quota",
    "QuotaUsage",
    "QuotaWaitTooLongError",
    "RateLimitError",
    "UnprocessableEntityError",
]
