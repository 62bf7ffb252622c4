"""Benchmarks and security checks that produce the project's evidence (``make bench``, ``make security``)."""
