"""Conformance suites operators run against a node or a partner."""
