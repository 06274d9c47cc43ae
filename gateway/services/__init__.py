"""Services: every rule of the domain, shared by REST and GraphQL."""
