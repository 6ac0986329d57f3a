"""An HTTP server of a test's own on a loopback port, served on a thread for one block."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import HTTPServer


@contextmanager
def serving(server: HTTPServer, poll_interval: float = 0.05) -> Iterator[str]:
    """Serve `server` (bound to 127.0.0.1) until the block ends; its `http://127.0.0.1:port`.

    Its shutdown waits for the serving loop's next poll: at the standard library's 0.5 s, half a
    second a test."""
    thread = threading.Thread(target=server.serve_forever, args=(poll_interval,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
