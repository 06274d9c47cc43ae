"""Every pure ASGI middleware of the app (`gateway.http.app` stacks them): read routing,
compression, request ids, security headers, outage answers, CORS, the rate limit, body size and
idempotency; `base.HttpMiddleware` is the start those acting on HTTP requests alone share."""
