"""The view tables: their schema, what each event contributes, catch-up, follow and verify.
"""
