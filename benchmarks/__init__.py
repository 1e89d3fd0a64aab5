"""Benchmarks: each ``bench_*.py`` module has ``run(quick: bool) -> Report`` (see _report.py)."""
