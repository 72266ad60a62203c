"""The single send's fast paths make exactly what the general paths make, and refuse the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inro_async._message_payload import _prepare, prepare_message
from inro_async._validate_contacts import _recipients, message_recipients
from inro_async.errors import InvalidArgumentError

NO_MEDIA = {"image": None, "video": None, "audio": None, "media_id": None}


def _outcome(call: object) -> object:
    try:
        return call()  # type: ignore[operator]
    except InvalidArgumentError as exc:
        return ("refused", exc.argument, str(exc))


@given(text=st.one_of(st.text(), st.none(), st.integers()), kind=st.sampled_from([None, "text"]))
def test_a_text_message_is_prepared_as_the_general_path_prepares_it(
    text: object, kind: object
) -> None:
    fast = _outcome(lambda: prepare_message(text=text, message_type=kind, **NO_MEDIA))  # type: ignore[arg-type]
    general = _outcome(lambda: _prepare(text, None, None, None, None, kind))  # type: ignore[arg-type]
    assert fast == general


@pytest.mark.parametrize("text", ["Spring sale", "\ud800 lone surrogate", "   ", ""])
def test_bad_or_good_text_gets_the_same_answer_both_ways(text: str) -> None:
    fast = _outcome(lambda: prepare_message(text=text, message_type=None, **NO_MEDIA))
    assert fast == _outcome(lambda: _prepare(text, None, None, None, None, None))


@given(contact_id=st.one_of(st.integers(), st.booleans(), st.none(), st.text(max_size=3)))
def test_one_contact_id_is_checked_as_the_general_path_checks_it(contact_id: object) -> None:
    none: dict[str, object] = dict.fromkeys(
        ("contact_username", "contact_email", "contact_ids", "contact_usernames", "contact_emails")
    )
    fast = _outcome(lambda: message_recipients(contact_id=contact_id, **none))  # type: ignore[arg-type]
    general = _outcome(lambda: _recipients(contact_id, None, None, None, None, None))  # type: ignore[arg-type]
    assert fast == general


def test_an_id_with_another_recipient_still_takes_the_general_path() -> None:
    with pytest.raises(InvalidArgumentError, match="exactly one"):
        message_recipients(
            contact_id=1,
            contact_username="jane",
            contact_email=None,
            contact_ids=None,
            contact_usernames=None,
            contact_emails=None,
        )
