"""Graceful shutdown (ADR 0020): on SIGTERM (or SIGINT) readiness turns 503 first, streams end
with a reconnect hint, and only then does uvicorn stop accepting, finish the requests in flight
(bounded by `GATEWAY_SHUTDOWN_GRACE_SECONDS`, uvicorn's `timeout_graceful_shutdown`) and run
the lifespan's shutdown, where the webhook worker hands its unfinished deliveries back.

uvicorn installs its own handlers for SIGTERM and SIGINT before the app's lifespan starts, in
every worker process alike (`--workers N` included). `draining_on_signals` wraps them for as
long as the lifespan runs: a first signal marks the process draining and calls the drain hooks
at once, then passes the signal on to uvicorn `GATEWAY_SHUTDOWN_DRAIN_SECONDS` later, so a load
balancer polling `/readyz` sees 503 and stops sending before the listening socket closes. A
second signal goes straight to uvicorn (which then exits without waiting). Outside uvicorn (an
in-process test client, a worker thread) nothing is wrapped.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

logger = logging.getLogger("gateway.http.lifecycle")

SIGNALS = (signal.SIGTERM, signal.SIGINT)
Hook = Callable[[], None]

_draining = threading.Event()
_hooks: list[Hook] = []


def draining() -> bool:
    """Whether this process has been told to stop (readiness answers 503 from then on)."""
    return _draining.is_set()


def on_drain(hook: Hook) -> Callable[[], None]:
    """Call `hook` when draining starts (at once if it already has); returns its removal."""
    _hooks.append(hook)
    if draining():
        hook()

    def remove() -> None:
        if hook in _hooks:
            _hooks.remove(hook)

    return remove


def begin_drain() -> None:
    """Mark the process draining and run every drain hook once."""
    if _draining.is_set():
        return
    _draining.set()
    logger.info("draining: readiness is 503, streams are told to reconnect")
    for hook in list(_hooks):
        try:
            hook()
        except Exception:  # one hook failing must not keep the others from running
            logger.exception("drain hook %r failed", hook)


def reset() -> None:
    """Back to serving (a new lifespan in the same process: tests)."""
    _draining.clear()


def _is_uvicorn_handler(handler: Any) -> bool:
    owner = getattr(handler, "__self__", None)
    return type(owner).__module__.startswith("uvicorn")


@contextmanager
def draining_on_signals(drain_seconds: float) -> Iterator[None]:
    """Wrap uvicorn's signal handlers for the duration of the block (see the module)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    wrapped = {sig: handler for sig, handler in previous.items() if _is_uvicorn_handler(handler)}

    def handle(sig: int, frame: FrameType | None) -> None:
        handler = wrapped[signal.Signals(sig)]
        assert callable(handler)
        if draining():  # a second signal: uvicorn's own handling, without waiting
            handler(sig, frame)
            return
        loop.call_soon_threadsafe(begin_drain)
        loop.call_soon_threadsafe(loop.call_later, drain_seconds, handler, sig, None)

    for sig in wrapped:
        signal.signal(sig, handle)
    try:
        yield
    finally:
        for sig, handler in wrapped.items():
            if signal.getsignal(sig) is handle:
                signal.signal(sig, handler)
