"""The read side: answers on any (as of D, as known on K), and the audit reports.

`api.LedgerViews` is the query API every reader calls; `views/` keeps the view tables in
step with the log; `reference.py` folds the log itself (what the views must equal);
`reports/` renders audit reports; `diff.py` and `lineage.py` answer the web view's and
the command line's questions about change and offers.
"""
