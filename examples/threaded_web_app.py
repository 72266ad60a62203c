"""A threaded web server sharing one blocking client (its governor paces every thread).

Plain standard library (``ThreadingHTTPServer``): each request is handled in its own thread,
and every thread calls the same ``inro_async.sync.Client``, as a Flask or Django view would.
A call waits at most 3 s for a quota slot (``max_wait``), then answers 503 with
``Retry-After``; ``timeout`` bounds only the HTTP exchange. Run it, then try
``curl 'localhost:8000/contacts?q=jane'``:

    inro fake-server &      # on port 8080; prints INRO_BASE_URL and INRO_API_TOKEN to export
    python examples/threaded_web_app.py
"""

from __future__ import annotations

import math
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import msgspec

from inro_async import InvalidArgumentError, NotFoundError, Priority, QuotaWaitTooLongError
from inro_async.sync import Client

# One client for the whole process: one connection pool, one governor, one quota. A person is
# waiting on every call made here: jump ahead of any bulk work sharing the governor.
INRO = Client().with_options(priority=Priority.INTERACTIVE, timeout=10, max_wait=3.0)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        try:
            if url.path == "/contacts":
                query = parse_qs(url.query).get("q", [""])[0]
                page = INRO.contacts.search(query, per_page=20)
                self.reply({"total": page.total, "contacts": page.items})
            elif url.path.startswith("/contacts/"):
                self.reply(INRO.contacts.get(username=url.path.removeprefix("/contacts/")))
            else:
                self.reply({"error": "not found"}, status=404)
        except InvalidArgumentError as error:
            self.reply({"error": str(error)}, status=400)
        except NotFoundError:
            self.reply({"error": "no such contact"}, status=404)
        except QuotaWaitTooLongError as error:  # no slot within max_wait: come back later
            retry_after = str(max(1, math.ceil(error.wait)))
            self.reply({"error": "busy"}, status=503, headers={"Retry-After": retry_after})

    def reply(self, data: object, status: int = 200, headers: dict[str, str] | None = None) -> None:
        body = msgspec.json.encode(data)
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        INRO.close()


if __name__ == "__main__":
    main()
