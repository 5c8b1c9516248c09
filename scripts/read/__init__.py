"""Reading commands: splits, history, diff, reports, replay, and the web view.
"""
