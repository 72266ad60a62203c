"""Folders, their membership, and custom contact properties over loopback HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from inro_async import Folder, NotFoundError, UnprocessableEntityError
from inro_async.client import Client
from inro_async.testing import FakeInro
from inro_async.testing.store import Organization

# -- folders ---------------------------------------------------------------------------------


async def test_folders_list_and_iter_carry_member_counts(
    inro_client: Client, org: Organization
) -> None:
    page = await inro_client.folders.list()
    assert [f.name for f in page] == [f["name"] for f in org.folders.values()]
    assert all(isinstance(f, Folder) for f in page)
    customers = page[0]
    assert customers.contacts_count == len(org.folder_members(customers.id))
    walked = [f.id async for f in inro_client.folders.iter(per_page=4, concurrency=2)]
    assert walked == list(org.folders)


async def test_folders_list_honours_offset(inro_client: Client, org: Organization) -> None:
    page = await inro_client.folders.list(offset=2)
    assert [f.id for f in page] == list(org.folders)[2:]


async def test_folder_create_update_delete(inro_client: Client, org: Organization) -> None:
    folder = await inro_client.folders.create("Spring leads", color="orange")
    assert (folder.name, folder.color, folder.contacts_count) == ("Spring leads", "orange", 0)
    renamed = await inro_client.folders.update(folder.id, name="Summer leads")
    recoloured = await inro_client.folders.update(folder.id, color="blue")
    assert (renamed.name, recoloured.color) == ("Summer leads", "blue")
    await inro_client.folders.delete(folder.id)
    assert folder.id not in org.folders


async def test_renaming_a_folder_renames_it_on_its_contacts(
    inro_client: Client, org: Organization
) -> None:
    member = org.folder_members(1)[0]
    await inro_client.folders.update(1, name="Clients")
    contact = await inro_client.contacts.get(id=member)
    assert "Clients" in [f.name for f in contact.folders]


async def test_deleting_a_folder_keeps_its_contacts(inro_client: Client, org: Organization) -> None:
    members = org.folder_members(1)
    await inro_client.folders.delete(1)
    assert all(cid in org.contacts for cid in members)
    contact = await inro_client.contacts.get(id=members[0])
    assert 1 not in contact.folder_ids


@pytest.mark.parametrize("call", ["update", "delete", "contacts"])
async def test_an_unknown_folder_is_a_404(inro_client: Client, call: str) -> None:
    folders = inro_client.folders
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "update": lambda: folders.update(424242, name="x"),
        "delete": lambda: folders.delete(424242),
        "contacts": lambda: folders.contacts(424242),
    }
    with pytest.raises(NotFoundError, match="Folder not found"):
        await calls[call]()


async def test_folder_contacts_pages_through_the_members(
    inro_client: Client, org: Organization
) -> None:
    members = org.folder_members(2)
    page = await inro_client.folders.contacts(2, per_page=3)
    assert [c.id for c in page] == members[:3]
    assert page.total == len(members)
    walked = [c.id async for c in inro_client.folders.iter_contacts(2, per_page=3, concurrency=3)]
    assert walked == members
    newest = await inro_client.folders.contacts(2, per_page=1000, order_direction="desc")
    assert [c.id for c in newest] == members[::-1]


async def test_add_and_remove_contacts(inro_client: Client, org: Organization) -> None:
    folder = await inro_client.folders.create("Batch")
    added = await inro_client.folders.add_contacts(folder.id, [1, 2, 3, 999_999])
    assert (added.added_count, added.not_found) == (3, [999_999])
    assert org.folder_members(folder.id) == [1, 2, 3]
    again = await inro_client.folders.add_contacts(folder.id, [1])
    assert again.added_count == 0  # already a member
    removed = await inro_client.folders.remove_contacts(folder.id, [2, 3])
    assert removed.removed_count == 2
    assert org.folder_members(folder.id) == [1]


async def test_membership_of_an_unknown_folder_is_a_404(inro_client: Client) -> None:
    with pytest.raises(NotFoundError):
        await inro_client.folders.add_contacts(424242, [1])
    with pytest.raises(NotFoundError):
        await inro_client.folders.remove_contacts(424242, [1])


async def test_remove_contacts_sends_its_body_with_delete(
    inro_client: Client, inro_server: FakeInro
) -> None:
    await inro_client.folders.remove_contacts(1, [4, 5])
    (recorded,) = inro_server.requests_to("folders.remove_contacts")
    assert (recorded.method, recorded.body) == ("DELETE", {"contact_ids": [4, 5]})


# -- contact properties ----------------------------------------------------------------------


async def test_properties_list_and_iter(inro_client: Client, org: Organization) -> None:
    page = await inro_client.contact_properties.list()
    assert [p.slug for p in page] == list(org.properties)
    plan = page[0]
    assert (plan.property_type, plan.choices) == ("single_choice", ["free", "basic", "pro"])
    walked = [p.slug async for p in inro_client.contact_properties.iter(per_page=2)]
    assert walked == list(org.properties)
    assert [p.slug for p in await inro_client.contact_properties.list(offset=3)] == list(
        org.properties
    )[3:]


async def test_create_slugifies_the_title(inro_client: Client, org: Organization) -> None:
    prop = await inro_client.contact_properties.create(
        "Subscription Plan",
        property_type="multiple_choice",
        choices=["a", "b"],
        description="tiers",
        agent_active=True,
    )
    assert (prop.slug, prop.title, prop.choices, prop.agent_active) == (
        "subscription-plan",
        "Subscription Plan",
        ["a", "b"],
        True,
    )
    assert "subscription-plan" in org.properties


async def test_creating_a_property_twice_is_a_422(inro_client: Client) -> None:
    await inro_client.contact_properties.create("Shoe size", property_type="number")
    with pytest.raises(UnprocessableEntityError, match="already exists"):
        await inro_client.contact_properties.create("Shoe Size")


async def test_update_changes_fields_but_keeps_the_slug(
    inro_client: Client, org: Organization
) -> None:
    prop = await inro_client.contact_properties.update(
        "budget", title="Yearly budget", description=None, agent_active=False
    )
    assert (prop.slug, prop.title, prop.agent_active) == ("budget", "Yearly budget", False)
    assert org.properties["budget"]["title"] == "Yearly budget"


async def test_turning_a_property_into_a_choice_without_choices_is_refused(
    inro_client: Client,
) -> None:
    # The client cannot know the stored choices, so the server decides: "vip" has none.
    with pytest.raises(UnprocessableEntityError, match="choices are required"):
        await inro_client.contact_properties.update("vip", property_type="single_choice")


async def test_delete_removes_the_value_from_every_contact(
    inro_client: Client, org: Organization
) -> None:
    assert any("plan" in c["custom_properties"] for c in org.contacts.values())
    await inro_client.contact_properties.delete("plan")
    assert "plan" not in org.properties
    assert not any("plan" in c["custom_properties"] for c in org.contacts.values())


@pytest.mark.parametrize("call", ["update", "delete"])
async def test_an_unknown_slug_is_a_404(inro_client: Client, call: str) -> None:
    contact_properties = inro_client.contact_properties
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "update": lambda: contact_properties.update("no-such-slug", title="x"),
        "delete": lambda: contact_properties.delete("no-such-slug"),
    }
    with pytest.raises(NotFoundError, match="Contact property not found"):
        await calls[call]()


async def test_a_slug_is_escaped_into_the_path(inro_client: Client, inro_server: FakeInro) -> None:
    with pytest.raises(NotFoundError) as caught:
        await inro_client.contact_properties.delete("a/b c")
    assert caught.value.path == "/contact_properties/a%2Fb%20c"
    (recorded,) = inro_server.requests_to("contact_properties.delete")  # one slug, not a subpath
    assert recorded.path == "/api/v1/contact_properties/a/b c"
