"""The fake's store directly: deliveries read as ``Delivery`` and stay out of the cyclic GC."""

from __future__ import annotations

import gc

from inro_async.testing import Delivery, FakeInro


def test_a_send_to_1000_leaves_almost_nothing_for_the_cyclic_gc() -> None:
    # Full GC passes over tracked delivery records stalled the fake ~90 ms per 100,000 sent,
    # delaying every answer in flight; records of strings and numbers need not be tracked.
    org = FakeInro().add_organization("t", contacts=1000)
    contacts = list(org.contacts.values())
    org.deliver_many(contacts, message_type="text", content="warm-up", media=None, source="message")
    gc.collect()
    before = len(gc.get_objects())
    org.deliver_many(contacts, message_type="text", content="hi", media=None, source="message")
    gc.collect()
    assert len(gc.get_objects()) - before < 50
    assert len(org.deliveries) == 2000


def test_deliveries_read_like_a_list_of_delivery() -> None:
    fake = FakeInro()
    org = fake.add_organization("t", contacts=3)
    assert org.deliveries == []
    ana, bo = org.contacts[1], org.contacts[2]
    org.deliver(ana, message_type="text", content="one", media=None, source="message")
    org.deliver_many([ana, bo], message_type="text", content="two", media=None, source="scenario")
    first = org.deliveries[0]
    assert isinstance(first, Delivery)
    assert (first.contact_id, first.content) == (1, "one")
    assert [d.contact_id for d in org.deliveries] == [1, 1, 2]
    assert org.deliveries[1:] == [d for d in org.deliveries if d.content == "two"]
    assert org.delivery_counts() == {1: 2, 2: 1}
    assert [m["content"] for m in org.conversations[1]] == ["one", "two"]
    assert [m["id"] for m in org.conversations[1]] == [1, 2]
    assert [m["content"] for m in ana["last_messages"]] == ["two", "one"]
