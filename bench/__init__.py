"""Benchmarks at the scale of Flemish compulsory education; `iris bench --help`."""
