"""Framework-free foundations: settings, the database, errors, ids, paging, counters, validation."""
