"""Recording commands: talks and their moves, who sits at the table, alliances, files in and out.
"""
