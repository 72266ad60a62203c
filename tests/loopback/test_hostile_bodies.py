"""Bodies no decoder can follow still end in an ``InroError``, never a raw ``RecursionError``.

A JSON body nested 50,000 deep is valid JSON, but msgspec (like ``json``) gives up on it with
``RecursionError``. Wherever the SDK decodes a body (a model, ``APIResponse.json()``, the body
of an error answer) it must say so as the SDK's own error.
"""

from __future__ import annotations

import pytest

from inro_async import APIResponseValidationError, InroError, NotFoundError
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

from .conftest import active_contact


async def test_a_deeply_nested_body_is_a_validation_error_naming_why(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("deep_json", route="me")
    with pytest.raises(APIResponseValidationError, match="nested too deeply") as caught:
        await inro_client.me()
    assert caught.value.status == 200


async def test_a_deeply_nested_body_through_json_is_a_validation_error(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("deep_json", route="contacts.list")
    response = await inro_client.request("GET", "/contacts")
    with pytest.raises(APIResponseValidationError, match="nested too deeply"):
        response.json()


async def test_a_malformed_body_through_json_is_a_validation_error_too(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("malformed", route="contacts.list")
    response = await inro_client.request("GET", "/contacts")
    with pytest.raises(APIResponseValidationError, match="malformed JSON"):
        response.json()


async def test_a_deeply_nested_error_body_still_gives_the_status_error(
    inro_client: Client, inro_server: FakeInro
) -> None:
    inro_server.inject("deep_json", route="contacts.get")
    with pytest.raises(NotFoundError) as caught:
        await inro_client.contacts.get(id=999_999)
    assert isinstance(caught.value.body, str)  # kept as text, as for any body that is not JSON
    assert len(str(caught.value)) < 400  # an excerpt, not 100,000 brackets


async def test_a_send_answered_with_a_deeply_nested_body_is_processed_and_says_so(
    inro_client: Client, inro_server: FakeInro, org: Organization
) -> None:
    jane = active_contact(org)
    inro_server.inject("deep_json", route="messages.send")
    with pytest.raises(InroError) as caught:
        await inro_client.messages.send(contact_ids=[jane["id"]], text="hi")
    assert isinstance(caught.value, APIResponseValidationError)
    assert len(inro_server.requests_to("messages.send")) == 1
    assert org.delivery_counts() == {jane["id"]: 1}
