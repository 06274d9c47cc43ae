"""The contract guard (ADR 0018): `schema.graphql` and `openapi.json` are exported, committed,
kept equal to what the code produces, and compared with the previous contract so that a
breaking change fails unless `history/contract-changes.md` acknowledges it."""
