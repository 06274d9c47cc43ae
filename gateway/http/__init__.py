"""The HTTP edge: the app factory, every middleware, problem rendering, the docs pages."""
