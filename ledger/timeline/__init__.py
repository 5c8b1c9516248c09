"""The timeline file (`seatledger/timeline@1` and `@2`), in and out of the ledger.

`document` is the file's shape (one pydantic model per section and move type); `parsing`
reads a file safely into it; `checks` are the whole-file checks (references, format);
`importer` records a file all or nothing; `export` writes the ledger back as a file.
"""
