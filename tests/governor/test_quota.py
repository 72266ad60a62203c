"""``Quota``: a bad quota is an ``InvalidArgumentError`` naming the field, at construction."""

from __future__ import annotations

import math

import pytest

from inro_async import InvalidArgumentError, Quota


@pytest.mark.parametrize(
    ("limit", "period", "argument"),
    [
        (0, 1, "Quota.limit"),
        (1.5, 1, "Quota.limit"),
        (True, 1, "Quota.limit"),
        (10, 0, "Quota.period"),
        (10, -1, "Quota.period"),
        (10, math.nan, "Quota.period"),
        (10, math.inf, "Quota.period"),
        (10, "60", "Quota.period"),  # raised a bare TypeError before
    ],
)
def test_a_bad_quota_is_refused_naming_the_field(
    limit: object, period: object, argument: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        Quota(limit, period)  # type: ignore[arg-type]
    assert caught.value.argument == argument
    assert isinstance(caught.value, ValueError)  # `except ValueError` keeps working
