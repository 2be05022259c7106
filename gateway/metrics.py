"""Prometheus metrics of one node process (own registry, so several nodes can live in one test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "NodeMetrics"]


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "gateway_http_requests_total", "HTTP requests handled", ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "gateway_http_request_duration_seconds", "HTTP request handling time", ["route"],
            registry=self.registry,
        )
        self.http_in_flight = Gauge("gateway_http_requests_in_flight", "Requests being handled", registry=self.registry)
        self.audit_records = Counter(
            "gateway_audit_records_appended_total", "Audit records committed", registry=self.registry
        )
        self.audit_batch_size = Histogram(
            "gateway_audit_batch_size_records", "Records per audit commit",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), registry=self.registry,
        )
        self.audit_commit_seconds = Histogram(
            "gateway_audit_commit_duration_seconds", "Time to write and commit one audit batch", registry=self.registry
        )
        self.auth_failures = Counter(
            "gateway_api_auth_failures_total", "Refused API requests", ["reason"], registry=self.registry
        )

    def audit_batch(self, size: int, seconds: float) -> None:
        self.audit_records.inc(size)
        self.audit_batch_size.observe(size)
        self.audit_commit_seconds.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
