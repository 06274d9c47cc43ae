"""Operations: Prometheus metrics, structured request logs and optional OpenTelemetry tracing
(history/adr/0019-observability.md). `ObservabilityMiddleware` is the one way in: the
outermost pure ASGI middleware, so it sees every request, the compiled fast paths' included."""
