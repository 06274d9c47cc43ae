"""Security headers on every answer, and `Cache-Control: private, no-cache` on authenticated
ones (so a browser revalidates with the ETag instead of reusing another user's copy).

API answers get a Content-Security-Policy that allows nothing at all. The three HTML pages
(Swagger UI at /docs, its OAuth2 redirect, GraphiQL at /graphql) get one that allows scripts,
styles, images and fonts from this origin, plus each inline `<script>` of the page by its
SHA-256. Their styles need `'unsafe-inline'`: GraphiQL and Swagger UI insert `<style>` elements
at run time, which no hash can name; inline styles cannot run code.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from gateway.http.docs import DOCS_URL, GRAPHQL_PATH, OAUTH2_REDIRECT_URL
from gateway.http.middleware.base import HttpMiddleware

HTML_PAGES: Final = frozenset({DOCS_URL, OAUTH2_REDIRECT_URL, GRAPHQL_PATH})
API_POLICY: Final = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PAGE_POLICY: Final = (
    "default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
AUTHENTICATED_CACHE_CONTROL: Final = "private, no-cache"
STATIC_HEADERS: Final = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
_INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc\s*=)[^>]*>(?P<code>.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)


def page_policy(html: str) -> str:
    """The page CSP for one HTML page: its own inline scripts allowed by hash."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(m['code'].encode()).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    return PAGE_POLICY.format(hashes=hashes)


def security_headers(scope: Scope) -> dict[str, str]:
    """The headers every answer to this request carries, whatever its content."""
    headers = dict(STATIC_HEADERS)
    if any(name == b"authorization" for name, _ in scope["headers"]):
        headers["Cache-Control"] = AUTHENTICATED_CACHE_CONTROL
    return headers


def api_headers(scope: Scope) -> dict[str, str]:
    """The headers of an API answer (not an HTML page) to this request: for the answers made
    outside this middleware, such as the outermost handler's 500."""
    return {**security_headers(scope), "Content-Security-Policy": API_POLICY}


class SecurityHeadersMiddleware(HttpMiddleware):
    """Adds the headers to every HTTP answer, never overriding one the route set itself."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        common = security_headers(scope)
        is_page = str(scope["path"]).rstrip("/") in HTML_PAGES
        held: Message | None = None
        chunks: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in common.items():
                    headers.setdefault(name, value)
                if is_page and headers.get("content-type", "").startswith("text/html"):
                    held = message  # the policy names the page's scripts: wait for the body
                    return
                headers.setdefault("Content-Security-Policy", API_POLICY)
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(bytes(message.get("body", b"")))
                if message.get("more_body", False):
                    return
                page = b"".join(chunks)
                charset = MutableHeaders(scope=held).get("content-type", "")
                encoding = (
                    "latin-1" if "charset=" in charset and "utf-8" not in charset else "utf-8"
                )
                MutableHeaders(scope=held).setdefault(
                    "Content-Security-Policy", page_policy(page.decode(encoding, "replace"))
                )
                start, held = held, None
                await send(start)
                message = {"type": "http.response.body", "body": page, "more_body": False}
            await send(message)

        await self.app(scope, receive, send_with_headers)
