"""Benchmarks: `make bench` (python -m bench). Measurements, never pass/fail tests."""
