"""Every pure ASGI middleware of the app, outermost first in `gateway.http.app`: body size, CORS,
security headers, compression, outage answers, request ids, the rate limit and idempotency."""
