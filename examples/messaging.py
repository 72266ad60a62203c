"""Messages: text to a few contacts, an image by URL, a local audio file, a shared post.

    inro fake-server --contacts 500 &      # prints INRO_BASE_URL and INRO_API_TOKEN to export
    python examples/messaging.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from inro_async import Client, InvalidArgumentError


async def main() -> None:
    async with Client() as inro:
        page = await inro.contacts.list(per_page=3)
        ids = [c.id for c in page.items]

        result = await inro.messages.send(contact_ids=ids, text="Hello!")
        print(f"queued for {result.accepted_count}; skipped: {[str(s) for s in result.skipped]}")

        # The message type follows the media argument; text becomes the caption.
        await inro.messages.send(
            contact_id=ids[0], image="https://example.com/sale.jpg", text="20% off this week"
        )

        # A local file (Path, bytes or an open binary file) goes as multipart.
        with tempfile.TemporaryDirectory() as folder:
            note = Path(folder, "note.mp3")
            await asyncio.to_thread(note.write_bytes, b"ID3" + bytes(512))
            await inro.messages.send(contact_username=page.items[0].username, audio=note)

        posts = await inro.medias.list(per_page=1)
        if posts.items:
            await inro.messages.send(contact_ids=ids, media_id=posts.items[0].id)

        # Mistakes are caught before anything is sent (and cost no quota).
        try:
            await inro.messages.send(contact_ids=ids, video="https://example.com/a.mp4",
                                     message_type="image")
        except InvalidArgumentError as error:
            print("refused locally:", error)


if __name__ == "__main__":
    asyncio.run(main())
