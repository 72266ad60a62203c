"""The exception classes themselves: what survives a trip through pickle."""

from __future__ import annotations

import inspect
import pickle

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from inro_async import BatchTask, Quota, errors

PUBLIC_ERRORS = sorted(
    (
        cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and cls.__module__ == errors.__name__
        and not name.startswith("_")
    ),
    key=lambda cls: cls.__name__,
)


def sample(cls: type[BaseException]) -> BaseException:
    """An instance of ``cls`` with every attribute set to something other than its default."""
    headers = CIMultiDictProxy(CIMultiDict({"X-Request-Id": "r1", "Retry-After": "2"}))
    request = {"method": "POST", "path": "/messages"}
    if cls in (
        errors.InroError,
        errors.GovernorUnavailableError,
        errors.JobMismatchError,
        errors.JobLockedError,
        errors.JournalUnreadableError,
        errors.JournalWriteError,
        errors.MirrorError,
        errors.MirrorMismatchError,
        errors.MirrorUnavailableError,
        errors.DeleteGuardError,
    ):
        return cls("something went wrong")
    if cls is errors.InvalidArgumentError:
        return cls("id", "must be positive")
    if cls in (errors.ClientClosedError, errors.EventLoopMismatchError):
        return cls()
    if cls is errors.MissingDependencyError:
        return cls("RedisGovernor", "redis", "redis")
    if cls is errors.GovernorLoopError:
        return cls("this governor is in use by another event loop")
    if cls is errors.GovernorUnavailableError:
        return cls("Redis is unreachable for the shared governor")
    if cls is errors.QuotaWaitTooLongError:
        return cls(wait=2.5, available_at=1.7e9, quota=Quota(20, 1), max_wait=1.0)
    if cls is errors.BatchTaskTimeoutError:
        task = BatchTask(id="bt_1", status="processing", total_count=10, processed_count=3)
        return cls(task, 600.0)
    if cls is errors.APIError or cls is errors.UnaccountedAnswerError:
        return cls("failed", **request)
    if issubclass(cls, errors.APIConnectionError):
        return cls("reset", may_have_been_processed=True, **request)
    if cls is errors.APIResponseValidationError:
        return cls("unexpected body", status=200, body=b"{oops", **request)
    if cls is errors.PaginationError:
        return cls("page 2 repeats page 1", page=2, status=200, body=b"[]", **request)
    if cls is errors.RateLimitError:
        return cls(
            "slow down",
            retry_after=2.0,
            status=429,
            body={"error": "x"},
            headers=headers,
            **request,
        )
    if cls is errors.UnexpectedRedirectError:
        return cls(
            "redirect not followed",
            location="https://elsewhere.example/x",
            status=302,
            headers=headers,
            **request,
        )
    if issubclass(cls, errors.APIStatusError):
        return cls("failed", status=418, body={"error": "x"}, headers=headers, **request)
    raise AssertionError(f"add a sample for {cls.__name__}")


@pytest.mark.parametrize("cls", PUBLIC_ERRORS, ids=lambda cls: cls.__name__)
def test_every_public_error_survives_pickle_with_its_text_and_attributes(
    cls: type[BaseException],
) -> None:
    # multiprocessing and Celery pickle the errors a worker raises.
    error = sample(cls)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
    if isinstance(error, errors.APIStatusError):
        assert copy.headers["x-request-id"] == "r1"  # still case-insensitive
