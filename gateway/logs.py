"""Structured logging: one JSON object per line with time, level, logger, message and correlation id.

Values passed as ``extra={...}`` become fields. Keys whose names suggest secrets are masked so that a
careless ``extra={"private_key": ...}`` cannot leak key material into logs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from gateway import correlation

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "taskName"}
_SECRET_HINTS = ("password", "secret", "private", "token", "key_pem", "authorization")


def _masked(name: str, value: Any) -> Any:
    lowered = name.lower()
    if any(hint in lowered for hint in _SECRET_HINTS):
        return "****"
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        corr = getattr(record, "correlation_id", None) or correlation.current()
        if corr:
            entry["correlation_id"] = corr
        for name, value in record.__dict__.items():
            if name not in _STANDARD_ATTRS and name != "correlation_id":
                entry[name] = _masked(name, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        corr = correlation.current()
        return f"{text} [corr={corr}]" if corr else text


def configure(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log duplicates our own request log line.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
