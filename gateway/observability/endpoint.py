"""`GET /metrics` (Prometheus text format) on the app's own port, and the optional listener of
its own (`GATEWAY_METRICS_PORT`).

On the app's port the endpoint exists when metrics are on; with `GATEWAY_METRICS_TOKEN` set it
answers only `Authorization: Bearer <token>` (compared in constant time), and production
serves it there only with a token (`Settings` refuses the rest). The listener of its own binds
`GATEWAY_METRICS_HOST` (loopback by default) and asks no token: who can reach it is decided by
where it listens.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_http_server

from gateway.core.errors import Unauthenticated
from gateway.core.settings import Settings
from gateway.observability.metrics import REGISTRY

PATH = "/metrics"


def _authorized(request: Request, settings: Settings) -> bool:
    token = settings.metrics_token
    if token is None:
        return True
    sent = request.headers.get("authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    return hmac.compare_digest(sent.encode(), expected.encode())


def install_endpoint(app: FastAPI, settings: Settings) -> None:
    """Add `GET /metrics` when this app serves it on its own port."""
    if not settings.metrics or (settings.is_production and settings.metrics_token is None):
        return

    async def metrics(request: Request) -> Response:
        """The process's metrics in Prometheus' text format."""
        if not _authorized(request, settings):
            raise Unauthenticated("The metrics need the configured bearer token")
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(PATH, metrics, methods=["GET"], include_in_schema=False)


@contextmanager
def listener(settings: Settings) -> Iterator[tuple[str, int] | None]:
    """The metrics' own listener for the duration of the block (the app's lifespan), when
    `GATEWAY_METRICS_PORT` asks for one; yields its address."""
    if not settings.metrics or settings.metrics_port is None:
        yield None
        return
    server: Any
    thread: threading.Thread
    server, thread = start_http_server(
        settings.metrics_port, settings.metrics_host, registry=REGISTRY
    )
    try:
        yield server.server_address[0], server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
