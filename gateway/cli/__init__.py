"""The `gateway` command: serve, migrate, seed, export and check the contract."""
