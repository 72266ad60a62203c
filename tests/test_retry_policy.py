"""The retry rules as a table: an attempt's facts in, the policy's decision out (pure, no I/O)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from inro_async._retry_policy import (
    Answered,
    Decision,
    Failed,
    Outcome,
    Progress,
    Raise,
    Retries,
    RetryPolicy,
    ReturnResponse,
    SendAgain,
    had_no_effect,
)
from inro_async.errors import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnexpectedRedirectError,
)
from inro_async.governor import Priority


class TopOfRange:
    """Jitter that always draws the top of the range, so backoffs are exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


RULES = Retries(max_retries=2, backoff_base=0.5, backoff_cap=8.0, max_throttled=3)
IDEMPOTENT = {"GET": True, "PUT": True, "DELETE": True, "POST": False, "PATCH": False}
CONNECT_FAILED = Failed(sent=False)
LOST_ANSWER = Failed(sent=True)
TIMED_OUT = Failed(sent=True, timeout=True)
TLS_FAILED = Failed(sent=False, permanent=True)
FIRST_ATTEMPT = Progress()


@dataclass(frozen=True)
class Case:
    method: str
    outcome: Outcome
    expected: Decision
    progress: Progress = FIRST_ATTEMPT
    retries: Retries = RULES
    max_wait: float | None = None
    gone_is_done: bool = False


CASES = {
    # Success.
    "2xx is returned": Case("POST", Answered(201), ReturnResponse()),
    "2xx after retries is returned": Case("GET", Answered(200), ReturnResponse(), Progress(2, 3)),
    # 429: repeated at once at Priority.RETRY, counted as throttled, whatever the method.
    "429 under max_throttled goes again first": Case(
        "POST",
        Answered(429, retry_after=5),
        SendAgain(None, Progress(throttled=1), priority=Priority.RETRY),
    ),
    "429 does not spend max_retries": Case(
        "GET",
        Answered(429),
        SendAgain(None, Progress(retried=2, throttled=3), priority=Priority.RETRY),
        Progress(retried=2, throttled=2),
    ),
    "429 at max_throttled is raised": Case(
        "GET",
        Answered(429),
        Raise(RateLimitError, may_have_been_processed=False),
        Progress(throttled=3),
    ),
    # A 429's Retry-After: a call without max_wait waits up to max_throttled_wait for it.
    "429 Retry-After within max_throttled_wait goes again": Case(
        "GET",
        Answered(429, retry_after=60),
        SendAgain(None, Progress(throttled=1), priority=Priority.RETRY),
    ),
    **{
        f"429 Retry-After {seconds:g}s without max_wait is raised at once": Case(
            method,
            Answered(429, retry_after=seconds),
            Raise(
                RateLimitError,
                may_have_been_processed=False,
                note=f"; not repeated: Retry-After {seconds:g}s is longer than the 60s a call "
                "without max_wait waits for a 429 (raise Retries.max_throttled_wait, or pass "
                "max_wait=, to wait for it)",
            ),
        )
        for seconds in (61, 86_400, 1e9)
        for method in ("GET", "POST")
    },
    "429 Retry-After beyond the cap with a max_wait is left to the governor": Case(
        "POST",
        Answered(429, retry_after=86_400),
        SendAgain(None, Progress(throttled=1), priority=Priority.RETRY),
        max_wait=10,
    ),
    "429 Retry-After beyond a raised cap's default is waited": Case(
        "GET",
        Answered(429, retry_after=3600),
        SendAgain(None, Progress(throttled=1), priority=Priority.RETRY),
        retries=Retries(max_throttled=3, max_throttled_wait=3600),
    ),
    "429 without Retry-After goes again": Case(
        "GET", Answered(429), SendAgain(None, Progress(throttled=1), priority=Priority.RETRY)
    ),
    # 5xx: only idempotent methods, with backoff (full jitter, here its top) or Retry-After.
    **{
        f"5xx on {method} is retried after backoff": Case(
            method, Answered(503), SendAgain(0.5, Progress(retried=1, maybe_processed=True))
        )
        for method in ("GET", "PUT", "DELETE")
    },
    **{
        f"5xx on {method} is raised: it may have acted": Case(
            method, Answered(500), Raise(InternalServerError, may_have_been_processed=True)
        )
        for method in ("POST", "PATCH")
    },
    "second 5xx retry backs off twice as long": Case(
        "GET",
        Answered(502),
        SendAgain(1.0, Progress(retried=2, maybe_processed=True)),
        Progress(retried=1, maybe_processed=True),
    ),
    "backoff is capped by backoff_cap": Case(
        "GET",
        Answered(502),
        SendAgain(8.0, Progress(retried=10, maybe_processed=True)),
        Progress(retried=9),
        retries=Retries(max_retries=20),
    ),
    "5xx Retry-After within the cap replaces the backoff": Case(
        "GET", Answered(503, 30), SendAgain(30, Progress(retried=1, maybe_processed=True))
    ),
    "5xx Retry-After equal to the cap is waited": Case(
        "GET", Answered(503, 60), SendAgain(60, Progress(retried=1, maybe_processed=True))
    ),
    "5xx Retry-After beyond the cap is raised with a note": Case(
        "GET",
        Answered(503, 3600),
        Raise(
            InternalServerError,
            may_have_been_processed=True,
            note="; not retried: Retry-After 3600s is longer than the 60s a retry may wait",
        ),
    ),
    "5xx Retry-After beyond a max_wait smaller than the cap is raised": Case(
        "GET",
        Answered(503, 20),
        Raise(
            InternalServerError,
            may_have_been_processed=True,
            note="; not retried: Retry-After 20s is longer than the 10s a retry may wait",
        ),
        max_wait=10,
    ),
    "5xx Retry-After within a max_wait smaller than the cap is waited": Case(
        "GET",
        Answered(503, 5),
        SendAgain(5, Progress(retried=1, maybe_processed=True)),
        max_wait=10,
    ),
    "5xx with retries exhausted is raised": Case(
        "GET",
        Answered(500),
        Raise(InternalServerError, may_have_been_processed=True),
        Progress(retried=2, maybe_processed=True),
    ),
    "no retries at all: 5xx raised at once": Case(
        "GET",
        Answered(500),
        Raise(InternalServerError, may_have_been_processed=True),
        retries=Retries(max_retries=0),
    ),
    # 3xx the backend did not follow (it follows only reads): raised, never repeated.
    **{
        f"{status} on {method} is raised: it arrived and may have acted": Case(
            method,
            Answered(status),
            Raise(UnexpectedRedirectError, may_have_been_processed=True),
        )
        for status in (301, 302, 303, 307, 308)
        for method in ("POST", "PUT", "PATCH", "DELETE")
    },
    "3xx on GET is raised, not returned": Case(
        "GET", Answered(300), Raise(UnexpectedRedirectError, may_have_been_processed=True)
    ),
    "3xx after retries is raised even with gone_is_done": Case(
        "DELETE",
        Answered(302),
        Raise(UnexpectedRedirectError, may_have_been_processed=True),
        Progress(retried=1, maybe_processed=True),
        gone_is_done=True,
    ),
    # 4xx other than 429: raised, never retried.
    "400 is raised": Case("GET", Answered(400), Raise(BadRequestError, False)),
    "404 is raised": Case("DELETE", Answered(404), Raise(NotFoundError, False)),
    # gone_is_done: a 404 after an attempt that may have deleted it.
    "DELETE 404 after a maybe-processed attempt, gone_is_done: returned": Case(
        "DELETE",
        Answered(404),
        ReturnResponse(),
        Progress(retried=1, maybe_processed=True),
        gone_is_done=True,
    ),
    "DELETE 404 on the first attempt, gone_is_done: raised": Case(
        "DELETE", Answered(404), Raise(NotFoundError, False), gone_is_done=True
    ),
    "DELETE 404 after a maybe-processed attempt, without gone_is_done: raised": Case(
        "DELETE", Answered(404), Raise(NotFoundError, False), Progress(1, 0, True)
    ),
    # Send failures.
    "connect failed on POST is retried: nothing was sent": Case(
        "POST", CONNECT_FAILED, SendAgain(0.5, Progress(retried=1))
    ),
    "lost answer on POST is raised as maybe processed": Case(
        "POST", LOST_ANSWER, Raise(APIConnectionError, may_have_been_processed=True)
    ),
    "lost answer on GET is retried and marks the call maybe processed": Case(
        "GET", LOST_ANSWER, SendAgain(0.5, Progress(retried=1, maybe_processed=True))
    ),
    "timeout on GET is retried": Case(
        "GET", TIMED_OUT, SendAgain(0.5, Progress(retried=1, maybe_processed=True))
    ),
    "timeout on PATCH is raised as a timeout, maybe processed": Case(
        "PATCH", TIMED_OUT, Raise(APITimeoutError, may_have_been_processed=True)
    ),
    "timeout with retries exhausted is raised as a timeout": Case(
        "GET", TIMED_OUT, Raise(APITimeoutError, True), Progress(retried=2)
    ),
    "permanent failure (TLS) is raised at once, even on GET": Case(
        "GET", TLS_FAILED, Raise(APIConnectionError, may_have_been_processed=False)
    ),
    "connect failed with retries exhausted is raised, not processed": Case(
        "POST", CONNECT_FAILED, Raise(APIConnectionError, False), Progress(retried=2)
    ),
    "connect failed keeps an earlier maybe-processed": Case(
        "DELETE",
        CONNECT_FAILED,
        SendAgain(1.0, Progress(retried=2, maybe_processed=True)),
        Progress(retried=1, maybe_processed=True),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_decision(case: Case) -> None:
    policy = RetryPolicy(
        case.retries, IDEMPOTENT[case.method], case.max_wait, gone_is_done=case.gone_is_done
    )
    assert policy.decide(case.outcome, case.progress, TopOfRange()) == case.expected


def test_backoff_is_drawn_between_zero_and_its_bound() -> None:
    policy = RetryPolicy(RULES, idempotent=True)
    rng = random.Random(14)
    delays = set()
    for _ in range(200):
        decision = policy.decide(Answered(503), Progress(retried=1), rng)
        assert isinstance(decision, SendAgain)
        assert decision.delay is not None
        assert 0 <= decision.delay <= 1.0
        delays.add(decision.delay)
    assert len(delays) > 100  # jittered, not a fixed step


def test_repeats_count_retries_and_429s() -> None:
    assert Progress(retried=2, throttled=3).repeats == 5


@pytest.mark.parametrize(
    ("outcome", "nothing_done"),
    [
        (Answered(429), True),
        (Failed(sent=False), True),
        (Failed(sent=True), False),
        (Failed(sent=True, timeout=True), False),
        (Answered(500), False),
        (Answered(503, retry_after=1.0), False),
        (Answered(200), False),
        (Answered(302), False),
    ],
)
def test_only_a_429_or_a_request_never_sent_certainly_did_nothing(
    outcome: Outcome, nothing_done: bool
) -> None:
    assert had_no_effect(outcome) is nothing_done
