"""GraphQL over HTTP and websockets: the router, persisted queries, limits, cost, errors."""
