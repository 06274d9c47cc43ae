"""Who the client is, as far as the network can tell: the one place that reads
`X-Forwarded-For`.

The TCP peer is the client, unless it is one of `GATEWAY_TRUSTED_PROXIES`. Then each proxy has
appended the address it saw, so the header is read from the right, skipping trusted proxies,
and the first address that is not one is the client; everything left of it was written by
whoever connected and proves nothing. With no trusted proxies (the default) the header is
ignored altogether. This is uvicorn's rule too, so `gateway serve` hands uvicorn the same list
and the two always agree.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

from gateway.core.settings import IPNetwork

HEADER = b"x-forwarded-for"
UNKNOWN = "unknown"


def client_address(scope: Scope, trusted_proxies: Sequence[IPNetwork]) -> str:
    """The client's address for rate limits, sign-in throttling and anonymous idempotency
    keys (IPs in canonical form, so one address has one spelling)."""
    client = scope.get("client")
    address = _canonical(client[0]) if client else UNKNOWN
    if not trusted_proxies or not _is_trusted(address, trusted_proxies):
        return address
    hops = [
        hop.strip()
        for name, value in scope["headers"]
        if name == HEADER
        for hop in value.decode("latin-1").split(",")
    ]
    for hop in reversed([hop for hop in hops if hop]):
        address = _canonical(_without_port(hop))
        if not _is_trusted(address, trusted_proxies):
            return address
    return address  # every hop is a trusted proxy: the left-most one is the client


def _without_port(hop: str) -> str:
    if hop.startswith("["):  # [2001:db8::1]:443
        return hop[1:].partition("]")[0]
    if hop.count(":") == 1:  # 192.0.2.1:443
        return hop.partition(":")[0]
    return hop


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _canonical(host: str) -> str:
    ip = _ip(host)
    return host if ip is None else str(ip)


def _is_trusted(host: str, trusted_proxies: Sequence[IPNetwork]) -> bool:
    ip = _ip(host)
    return ip is not None and any(ip in network for network in trusted_proxies)
