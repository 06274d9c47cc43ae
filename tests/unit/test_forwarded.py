"""`gateway.http.forwarded.client_address`: `X-Forwarded-For` counts only from trusted proxies, read
from the right, and never lets a client choose its own address."""

from __future__ import annotations

import pytest
from starlette.types import Scope

from gateway.core.settings import Settings
from gateway.http.forwarded import client_address

PROXIES = Settings(trusted_proxies="10.0.0.0/8, 127.0.0.1, 2001:db8::/32").trusted_proxies


def _scope(peer: str | None, *forwarded: str) -> Scope:
    return {
        "type": "http",
        "client": None if peer is None else (peer, 5000),
        "headers": [(b"x-forwarded-for", value.encode("latin-1")) for value in forwarded],
    }


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # Nothing trusted: the peer, whatever the header says (loopback included).
        ("127.0.0.1", ("203.0.113.7",), "127.0.0.1"),
        ("192.0.2.1", ("203.0.113.7",), "192.0.2.1"),
    ],
)
def test_without_trusted_proxies_the_header_is_ignored(
    peer: str, forwarded: tuple[str, ...], expected: str
) -> None:
    assert client_address(_scope(peer, *forwarded), ()) == expected


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # An untrusted peer cannot choose its address.
        ("192.0.2.1", ("203.0.113.7",), "192.0.2.1"),
        # A trusted peer: the right-most address that is not a trusted proxy.
        ("10.0.0.2", ("203.0.113.7",), "203.0.113.7"),
        ("10.0.0.2", ("6.6.6.6, 203.0.113.7, 10.1.2.3",), "203.0.113.7"),
        ("127.0.0.1", ("6.6.6.6", "203.0.113.7"), "203.0.113.7"),  # repeated headers
        # Ports, brackets and spellings of one address are one address.
        ("10.0.0.2", ("203.0.113.7:4711",), "203.0.113.7"),
        ("10.0.0.2", ("[2001:DB9:0::1]:443",), "2001:db9::1"),
        ("2001:db8::5", ("2001:0db9::0001",), "2001:db9::1"),
        ("::ffff:10.0.0.2", ("203.0.113.7",), "203.0.113.7"),
        # A trusted peer without the header, or with an empty one, is the client.
        ("10.0.0.2", (), "10.0.0.2"),
        ("10.0.0.2", (" , ",), "10.0.0.2"),
        # Every hop trusted: the left-most is the client.
        ("10.0.0.2", ("10.9.9.9, 10.1.1.1",), "10.9.9.9"),
        # A trusted proxy that wrote something else than an address is taken at its word.
        ("10.0.0.2", ("unknown",), "unknown"),
        # No peer at all (a unix socket).
        (None, ("203.0.113.7",), "unknown"),
    ],
)
def test_trusted_proxies_decide(
    peer: str | None, forwarded: tuple[str, ...], expected: str
) -> None:
    assert client_address(_scope(peer, *forwarded), PROXIES) == expected
