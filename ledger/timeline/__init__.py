"""The timeline file (`seatledger/timeline@1` and `@2`): its document, parsing, import, export.
"""
