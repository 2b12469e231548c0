"""Benchmarks (``musicmill bench ...``): ours against a named peer in the same run, and the
live trigger-latency probe."""
