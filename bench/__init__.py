"""Benchmarks, run by hand with ``make bench`` (never by the test suite).

Each measures the product against a baseline in the same run and prints ratios.
"""
