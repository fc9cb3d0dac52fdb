"""Benchmark harness for trace-tui's indexed reader and tail engine (not part of the tests).

Run ``python -m bench.run`` from the repository root (or ``python bench/run.py``); see
:mod:`bench.run` for the options and ``bench/RESULTS.md`` for recorded numbers.
"""
