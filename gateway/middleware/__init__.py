"""Pure ASGI middleware for the edges of every request: body size, CORS, security headers."""
