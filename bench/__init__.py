"""Benchmarks and evaluations, run as scripts (python bench/NAME.py); importable for tests."""
