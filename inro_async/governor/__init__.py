"""Client-side pacing under the organization's quotas: never earn a 429, use the quota fully."""

from inro_async.governor._base import INRO_QUOTAS, Governor, Permit, Priority, Quota, QuotaUsage
from inro_async.governor._core import GovernorCore
from inro_async.governor.local import DEFAULT_MARGIN, LocalGovernor

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
]
