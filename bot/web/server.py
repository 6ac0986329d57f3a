"""Run the web app with uvicorn: loopback by default, never a public share link."""

from __future__ import annotations

import logging

import fastapi
import uvicorn

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(app: fastapi.FastAPI, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve `app` until interrupted; binding beyond loopback is logged as a warning."""
    if host not in LOOPBACK:
        log.warning(
            "serving on %s:%d, reachable from other machines; set NEWSBOT_AUTH and "
            "NEWSBOT_API_KEY unless this network is trusted",
            host,
            port,
        )
    log.info("newsbot web app on http://%s:%d/ (widget at /widget/, API at /api/)", host, port)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
