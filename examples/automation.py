"""Automation: build a scenario in JSON, trigger it with data, launch a campaign and follow it.

Against the fake server (no token, no network):

    inro fake-server --contacts 500 &      # prints INRO_BASE_URL and INRO_API_TOKEN to export
    python examples/automation.py
"""

from __future__ import annotations

import asyncio

from inro_async import Client, UnprocessableEntityError


async def main() -> None:
    async with Client() as inro:
        kinds = await inro.discovery.trigger_types()
        print("trigger types:", ", ".join(t.type for t in kinds))

        # A webhook-triggered scenario: one message that uses the trigger's data.
        scenario = await inro.scenarios.create(
            title="Order shipped",
            triggers=[{"trigger_type": "webhook"}],
            actions=[
                {
                    "action_key": "notify",
                    "action_type": "message",
                    "content": "Hi {{contact.first_name}}, order {{trigger.order_id}} shipped!",
                }
            ],
            active=True,
        )
        print(f"scenario {scenario.id}: {len(scenario.actions)} action(s)")

        # Actions are authoritative: keep "notify" (by id) and add a follow-up under it.
        notify = scenario.actions[0]
        scenario = await inro.scenarios.update(
            scenario.id,
            actions=[
                {"id": notify.id},
                {"action_key": "tag", "action_type": "folder", "parent_id": notify.id},
            ],
        )
        print(f"scenario {scenario.id}: now {len(scenario.actions)} action(s)")

        # A bad reference is refused whole: nothing changes.
        try:
            await inro.scenarios.update(scenario.id, actions=[{"id": 999_999}])
        except UnprocessableEntityError as error:
            print("refused, nothing changed:", error.message)

        page = await inro.contacts.list(per_page=3)
        result = await inro.scenarios.trigger(
            scenario.id,
            contacts=[{"id": c.id} for c in page.items],
            data={"order_id": "ORD-456"},
        )
        print("triggered:", result)

        # A campaign from scratch: a draft, a test send to one contact, then the real send.
        campaign = await inro.campaigns.create(
            title="Spring sale",
            actions=[{"action_key": "m", "action_type": "message", "content": "20% off!"}],
        )
        await inro.campaigns.test(campaign.id, id=page.items[0].id)
        started = await inro.campaigns.send(campaign.id)
        assert started.batch_task_id is not None
        task = await inro.batch_tasks.wait(started.batch_task_id, poll_interval=0.2)
        print(f"campaign {campaign.id}: batch task {task.status}")
        print("performance:", await inro.campaigns.performance(campaign.id))


if __name__ == "__main__":
    asyncio.run(main())
