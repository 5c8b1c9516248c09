"""Integrity: the hash chains re-checked, the ledger digest, and what verify found.

`verify` and the digest functions are the public surface; the modules below do the work:
`verifier` walks the log, `chains` checks each aggregate's chain and the move index,
`log_reader` reads the stored rows in one snapshot, `digest` builds the Merkle root,
`findings` names each problem.
"""
