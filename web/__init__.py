"""`seatledger serve`: a read-only web view over the query API (Starlette, Jinja2, htmx)."""
