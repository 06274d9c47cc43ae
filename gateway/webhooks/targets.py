"""The SSRF guard: where a webhook may point.

A target is an absolute http(s) URL of at most `MAX_URL_LENGTH` characters whose host resolves
only to public addresses: none private, loopback, link-local, multicast, unspecified or
reserved (an IPv4-mapped IPv6 address counts as its IPv4 one), unless the settings allow
private targets. The check runs when a webhook is saved and again before every attempt, since
DNS can change; the sender then connects to the address that was checked, so a second lookup
cannot swap in another (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

MAX_URL_LENGTH: Final = 2048
RESOLVE_TIMEOUT_SECONDS: Final = 5.0
SCHEMES: Final = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(ValueError):
    """A URL a webhook may not point at; the message says why, fit for a client."""


@dataclass(frozen=True, slots=True)
class Target:
    """A well-formed webhook URL, taken apart."""

    url: str
    scheme: str
    host: str  # lower-case, IPv6 without brackets
    port: int

    @property
    def literal(self) -> IPAddress | None:
        """The host as an IP address, when it is one."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse(url: str) -> Target:
    """`url` as a `Target`; `RefusedTarget` unless it is an absolute http(s) URL with a host,
    no credentials and a valid port, at most `MAX_URL_LENGTH` long."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedTarget(f"must be at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise RefusedTarget("must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedTarget(f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise RefusedTarget("must be an http or https URL")
    if not parts.hostname:
        raise RefusedTarget("must name a host")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("must not carry credentials; sign with the secret instead")
    scheme = parts.scheme.lower()
    return Target(
        url=url,
        scheme=scheme,
        host=parts.hostname.lower(),
        port=port if port is not None else (443 if scheme == "https" else 80),
    )


def is_private(address: IPAddress) -> bool:
    """Whether `address` is one a webhook may not reach without `webhook_allow_private`."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global
    )


async def _lookup(target: Target) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
    except (OSError, TimeoutError, UnicodeError):
        raise RefusedTarget(f"host {target.host!r} does not resolve") from None
    # An IPv6 link-local answer may carry a zone (`fe80::1%eth0`), which ip_address refuses.
    found = dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos)
    if not found:
        raise RefusedTarget(f"host {target.host!r} does not resolve")
    return list(found)


async def addresses(target: Target, *, allow_private: bool) -> list[IPAddress]:
    """The addresses `target` may be reached at; `RefusedTarget` when its host does not
    resolve, or (unless `allow_private`) any address it resolves to is not public."""
    literal = target.literal
    found = [literal] if literal is not None else await _lookup(target)
    if not allow_private:
        refused = [a for a in found if is_private(a)]
        if refused:
            raise RefusedTarget(
                f"host {target.host!r} is a private, loopback, link-local, multicast or"
                f" reserved address ({refused[0]}); webhooks must reach a public address"
            )
    return found
