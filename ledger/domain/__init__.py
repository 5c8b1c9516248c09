"""The negotiation domain: events, moves, the one rules function, stories and aggregates.

Pure Python and pydantic: no database, no clock, no I/O. Stored topics name modules here
(`events`, `alliance`, `negotiation`, `snapshot`), so those modules stay where they are.
"""
