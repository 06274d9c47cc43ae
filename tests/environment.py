"""What every app, command and server of the suite is configured with: the test JWT secret and
the cheapest Argon2id the settings accept (production refuses it; RFC 9106 lets production keep
its cost, the tests check logic and must not pay it), for in-process apps and child processes
alike; a child server stopping at once, without the drain that lets a load balancer notice; and
a free port for a server of its own."""

from __future__ import annotations

import os
import socket

TEST_SECRET = "test-secret-" + "x" * 40
HASH_TIME_COST = 1
HASH_MEMORY_KIB = 32  # Argon2's floor: 8 KiB for each of the 4 lanes
# How long a child server may take to answer its first request: a deadline, not a wait (a busy
# machine running two test workers next to other jobs can take over 30 s to start Python).
STARTUP_SECONDS = 60


def child_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any `GATEWAY_*` setting of its own, hashing passwords
    at the suite's cost and with no shutdown drain (a second on every server stopped; the tests
    of draining set their own), plus `extra` (which may override them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_PASSWORD_HASH_TIME_COST"] = str(HASH_TIME_COST)
    env["GATEWAY_PASSWORD_HASH_MEMORY_KIB"] = str(HASH_MEMORY_KIB)
    env["GATEWAY_SHUTDOWN_DRAIN_SECONDS"] = "0"
    return env | extra


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
