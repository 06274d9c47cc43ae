"""Webhook delivery: signing secrets, the SSRF guard, the retry schedule, the HTTP sender and
the outbox worker (ADR 0017). The rules of managing webhooks live in
`gateway.services.webhooks`; this package is how their deliveries leave the process."""
