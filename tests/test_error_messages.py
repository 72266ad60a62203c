"""How errors are built from what went wrong (``inro_async.errors``), without a request."""

from __future__ import annotations

import msgspec
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from inro_async import errors

NO_HEADERS = CIMultiDictProxy(CIMultiDict[str]())


def test_an_answer_error_takes_the_apis_own_message_and_the_class_of_its_status() -> None:
    error = errors.error_from_response(
        "GET", "/contact/9", 404, NO_HEADERS, b'{"error": "Contact not found"}', None
    )
    assert isinstance(error, errors.NotFoundError)
    assert str(error) == "404 Contact not found (GET /contact/9)"
    assert error.body == {"error": "Contact not found"}


def test_a_body_without_a_message_is_quoted_and_an_empty_one_named() -> None:
    plain = errors.error_from_response("GET", "/x", 400, NO_HEADERS, b"  bad shape ", None)
    empty = errors.error_from_response("GET", "/x", 400, NO_HEADERS, b"", None)
    assert plain.message == "400 bad shape"
    assert empty.message == "400 (empty body)"


def test_a_403_that_already_names_the_plan_gets_no_second_hint() -> None:
    body = b'{"message": "Your plan does not include the API"}'
    error = errors.error_from_response("GET", "/contact", 403, NO_HEADERS, body, None)
    assert error.message == "403 Your plan does not include the API"


def test_a_5xx_to_a_post_says_its_outcome_is_unknown_and_ends_with_the_note() -> None:
    error = errors.error_from_response(
        "POST", "/messages", 503, NO_HEADERS, b"", None, idempotent=False, note="; why"
    )
    assert isinstance(error, errors.InternalServerError)
    assert error.message.endswith("so its outcome is unknown; why")


def test_a_429_carries_its_retry_after() -> None:
    error = errors.error_from_response("GET", "/contact", 429, NO_HEADERS, b"", 7.0)
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after == 7.0


@pytest.mark.parametrize(
    ("timed_out", "expected_class", "message"),
    [
        (True, errors.APITimeoutError, "timed out after 2.5s"),
        (False, errors.APIConnectionError, "connection reset"),
    ],
)
def test_a_send_failure_is_a_timeout_or_a_connection_error(
    timed_out: bool, expected_class: type[errors.APIError], message: str
) -> None:
    error = errors.connection_error(
        "GET", "/contact", "connection reset", timed_out=timed_out, timeout=2.5, sent=True
    )
    assert type(error) is expected_class
    assert error.message == message
    assert error.may_have_been_processed


def test_a_body_that_does_not_fit_the_model_is_a_validation_error() -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(b'{"id": "x"}', type=dict[str, int])
    error = errors.body_error(caught.value, method="GET", path="/c", status=200, body=b"")
    assert error.message.startswith("unexpected response body: ")
