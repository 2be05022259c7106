"""SMP discovery metrics, registered in the node's own registry (the pattern of gateway/metrics.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class SmpMetrics:
    """Implements :class:`smp_client.cache.Events`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.lookups = Counter(
            "gateway_smp_lookups_total", "SMP discovery lookups by where the answer came from and how it ended",
            ["source", "outcome"], registry=registry,
        )
        self.stale_answers = Counter(
            "gateway_smp_stale_answers_total",
            "Lookups answered with the last good discovery because DNS or the SMP was unreachable",
            ["network"], registry=registry,
        )

    def lookup(self, source: str, outcome: str) -> None:
        self.lookups.labels(source, outcome).inc()

    def stale(self, network: str) -> None:
        self.stale_answers.labels(network).inc()
