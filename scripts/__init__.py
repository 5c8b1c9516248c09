"""The `seatledger` command line: parse, call the library, format; no rule lives here.

`app.py` is the Typer app and the one place errors become exit codes; `record/`, `read/`
and `upkeep/` hold one module per command group; `output.py` is the one way to print.
"""
