"""Upkeep commands: init, verify, digest, the projections, and copying a ledger.
"""
