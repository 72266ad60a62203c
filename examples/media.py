"""Media files: upload a local file, store one from a URL, list them by type.

    inro fake-server &      # prints INRO_BASE_URL and INRO_API_TOKEN to export
    python examples/media.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from inro_async import Client


async def main() -> None:
    async with Client() as inro:
        with tempfile.TemporaryDirectory() as folder:
            picture = Path(folder, "welcome.png")
            await asyncio.to_thread(picture.write_bytes, b"\x89PNG\r\n\x1a\n" + bytes(256))
            uploaded = await inro.media_files.upload(picture, caption="Welcome banner")
        print("uploaded:", uploaded)

        stored = await inro.media_files.create_from_url("https://example.com/promo.mp4")
        print("from URL:", stored.media_type, stored.url)

        async for media_file in inro.media_files.iter(media_type="image"):
            print(f"  #{media_file.id} {media_file.filename} ({media_file.size or 0:,} bytes)")

        # Instagram posts and Reels: their ids are what a "share" message sends.
        async for post in inro.medias.iter():
            print(f"  post {post.id}: {post.media_type} {post.permalink}")


if __name__ == "__main__":
    asyncio.run(main())
