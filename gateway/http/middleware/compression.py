"""gzip and br for JSON (and HTML) answers, pure ASGI and outermost, so the compiled fast paths'
answers are compressed too (ADR 0020).

- The coding follows `Accept-Encoding` (q-values honoured; br before gzip at equal weight).
  Answers under `min_bytes` go out as they are: compressing a few hundred bytes of JSON costs
  more time than it saves on a LAN, and the common case (a one-part body) is decided with one
  `len()`.
- Every compressible answer says `Vary: Accept-Encoding`, compressed or not, so a cache never
  hands a br body to a client that did not ask for it.
- ETags: a strong validator names one exact byte sequence (RFC 9110 §8.8.1), which compression
  changes, so a compressed answer's strong ETag is sent weak (`W/"v3"`), as nginx does.
  Coming back in `If-None-Match` (weak comparison, §13.1.2) the `W/` is taken off before the
  app compares, so 304s keep working, and a 304 names the tag in the form the client sent
  (weak if it holds a compressed copy). `If-Match` already accepts the weak form and names the
  same version. Uncompressed answers keep their strong ETags.
- An answer that already has a `Content-Encoding` (the precompressed docs assets), a HEAD, a
  204/304 or a streamed type (SSE, multipart subscriptions) passes through untouched.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.middleware.codings import Coding, Stream, compress, negotiate, stream

COMPRESSIBLE: Final = (
    b"application/json",
    b"application/problem+json",
    b"application/graphql-response+json",
    b"text/html",
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _strip_weak(scope: Scope) -> Scope:
    """The scope with `W/` taken off every `If-None-Match` entity tag."""
    headers = [
        (key, value.replace(b"W/", b"") if key == b"if-none-match" else value)
        for key, value in scope["headers"]
    ]
    return {**scope, "headers": headers}


def _compressible(headers: MutableHeaders) -> bool:
    media = headers.get("content-type", "").encode("latin-1").split(b";")[0].strip().lower()
    return media in COMPRESSIBLE and "content-encoding" not in headers


def _add_vary(headers: MutableHeaders) -> None:
    vary = headers.get("vary")
    if vary is None:
        headers["Vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        headers["Vary"] = f"{vary}, Accept-Encoding"


def _weaken(headers: MutableHeaders) -> None:
    tag = headers.get("etag")
    if tag is not None and not tag.startswith("W/"):
        headers["ETag"] = f"W/{tag}"


class CompressionMiddleware:
    """Compress answers of at least `min_bytes` (0: never compress)."""

    def __init__(self, app: ASGIApp, min_bytes: int = 1024) -> None:
        self.app = app
        self.min_bytes = min_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.min_bytes <= 0 or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        coding = negotiate(_header(scope, b"accept-encoding"))
        held = _header(scope, b"if-none-match")
        if held is not None and "W/" in held:
            scope = _strip_weak(scope)
        responder = _Responder(send, coding, self.min_bytes, held or "")
        await self.app(scope, receive, responder.send)


class _Responder:
    """One answer's `send`, compressing its body when it qualifies."""

    __slots__ = ("_coding", "_held", "_min_bytes", "_send", "_start", "_stream")

    def __init__(self, send: Send, coding: Coding | None, min_bytes: int, held: str) -> None:
        self._send = send
        self._coding = coding
        self._min_bytes = min_bytes
        self._held = held  # the client's If-None-Match, as it sent it
        self._start: Message | None = None
        self._stream: Stream | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = MutableHeaders(scope=message)
            status = int(message["status"])
            if status == 304:  # no body, no type: the tag in the form the client holds
                _add_vary(headers)
                if f"W/{headers.get('etag', '')}" in self._held:
                    _weaken(headers)
                await self._send(message)
                return
            if not _compressible(headers):
                await self._send(message)
                return
            _add_vary(headers)
            if self._coding is None or status == 204 or status < 200:
                await self._send(message)
                return
            self._start = message  # held until the body shows whether it is worth it
            return
        if kind != "http.response.body" or (self._start is None and self._stream is None):
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self._stream is not None:  # a streamed body, already started compressed
            chunk = self._stream.feed(body)
            if not more:
                chunk += self._stream.finish()
            await self._send({"type": "http.response.body", "body": chunk, "more_body": more})
            return
        start, self._start = self._start, None
        assert start is not None
        headers = MutableHeaders(scope=start)
        if not more:
            if len(body) >= self._min_bytes and self._coding is not None:
                body = compress(body, self._coding)
                _weaken(headers)
                headers["Content-Encoding"] = self._coding
                headers["Content-Length"] = str(len(body))
            await self._send(start)
            await self._send({"type": "http.response.body", "body": body, "more_body": False})
            return
        # A body in several parts: compressed as it comes, each part flushed at once.
        assert self._coding is not None  # else the start went out unheld
        self._stream = stream(self._coding)
        _weaken(headers)
        del headers["content-length"]
        headers["Content-Encoding"] = self._coding
        await self._send(start)
        await self._send(
            {"type": "http.response.body", "body": self._stream.feed(body), "more_body": True}
        )
