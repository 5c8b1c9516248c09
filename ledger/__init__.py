"""The write side: the domain, the application that records moves, and what keeps them.

`domain/` holds the events, the rules and the aggregates (no I/O); `application.py` is
load-decide-save; `commands.py` turns a move as users write it into its event;
`timeline/` is the import/export file; `integrity/` re-checks what is stored;
`persistence/` is the database. Nothing here imports `projections`, `scripts` or `web`.
"""
