"""Audit reports: the facts gathered once (`gather`, `model`), then one module per format.
"""
