"""The benchmarks (`python3.11 dev.py bench`): figures against a same-run baseline."""
