"""Integrity: the hash chains re-checked, the ledger digest, and what verify found.

`verifier.verify` walks the log once in (aggregate, version) order; `chains` checks each
aggregate's chain, the move index and an earlier digest's heads; `log_reader` reads the rows
in one read snapshot (streamed, or in keyset pages); `digest` builds the Merkle root people
keep elsewhere; `findings` names each problem. The read side's own check (views, snapshots)
is `projections.views.verify`, passed in as `derived=`.
"""
