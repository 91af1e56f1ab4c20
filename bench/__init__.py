"""Benchmarks of search at scale (issue 7): run with ``make bench``; see docs/scaling.md."""
