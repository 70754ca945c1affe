"""Benchmarks that print tables; not part of `make test`."""
