"""Client-side pacing under the organization's quotas: never earn a 429, use the quota fully.

``RedisGovernor`` (shared across processes) is imported on first use, so that importing
``inro_async`` never imports ``redis``; it needs the ``[redis]`` extra
(``pip install 'inro-async[redis]'``) and says so when the package is missing.
"""

from typing import TYPE_CHECKING, Any

from inro_async.governor._base import INRO_QUOTAS, Governor, Permit, Priority, Quota, QuotaUsage
from inro_async.governor._core import GovernorCore
from inro_async.governor.local import DEFAULT_MARGIN, LocalGovernor

if TYPE_CHECKING:
    from inro_async.governor.redis import RedisGovernor

__all__ = [
    "DEFAULT_MARGIN",
    "INRO_QUOTAS",
    "Governor",
    "GovernorCore",
    "LocalGovernor",
    "Permit",
    "Priority",
    "Quota",
    "QuotaUsage",
    "RedisGovernor",
]


def __getattr__(name: str) -> Any:
    """``RedisGovernor``, imported when first asked for."""
    if name == "RedisGovernor":
        from inro_async.governor.redis import RedisGovernor

        return RedisGovernor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
