"""The database: tables, hash-chained recorders, snapshots, roles, engines, the event mapper."""
