"""One attempt at a delivery: an HTTP POST with httpx, never following redirects, within the
configured timeout (10 s by default) for the whole attempt, DNS included.

The request goes to the address the SSRF guard checked (the URL's host in `Host` and, for
https, in SNI and certificate checks), so DNS cannot answer differently between the check and
the connection. Proxies from the environment are ignored for the same reason.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from gateway.webhooks import targets

ERROR_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to: the answer's status (None when there was no answer), how
    long it took, and what went wrong otherwise."""

    status: int | None
    duration_ms: int
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _host_header(target: targets.Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


class Sender:
    """Posts deliveries; one per worker, holding one connection pool."""

    def __init__(
        self,
        *,
        timeout: float,
        allow_private: bool,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self._client = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
        )

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        """POST `body` to `url`; never raises for what the target does (or fails to do)."""
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            status = await self._attempt(url, headers, body)
            if not 200 <= status < 300:
                error = f"answered {status}"
        except targets.RefusedTarget as exc:
            error = f"refused: url {exc}"
        except (TimeoutError, httpx.TimeoutException):
            error = f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        duration_ms = round((time.perf_counter() - started) * 1000)
        return Outcome(status=status, duration_ms=duration_ms, error=error and error[:ERROR_LENGTH])

    async def _attempt(self, url: str, headers: dict[str, str], body: bytes) -> int:
        async with asyncio.timeout(self.timeout):
            target = targets.parse(url)
            [address, *_] = await targets.addresses(target, allow_private=self.allow_private)
            pinned = httpx.URL(url).copy_with(host=str(address))
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            request = self._client.build_request(
                "POST",
                pinned,
                content=body,
                headers={**headers, "Host": _host_header(target)},
                extensions=extensions,
            )
            response = await self._client.send(request, stream=True)
            await response.aclose()  # the answer's body is not ours to read
            return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()
