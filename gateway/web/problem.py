"""RFC 9457 problem details: every refusal is JSON with a stable code and the correlation id."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway import correlation

PROBLEM_TYPE_BASE = "urn:lv:gateway:problem:"


def problem(status: int, code: str, title: str, detail: str | None = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + code, "code": code, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    corr = correlation.current()
    if corr:
        body["correlation_id"] = corr
    body.update(extra)
    return web.json_response(body, status=status, content_type="application/problem+json")


class ProblemError(Exception):
    """Raise from a handler to answer with a problem document."""

    def __init__(self, status: int, code: str, title: str, detail: str | None = None, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {detail or title}")
        self.status, self.code, self.title, self.detail, self.extra = status, code, title, detail, extra

    def response(self) -> web.Response:
        return problem(self.status, self.code, self.title, self.detail, **self.extra)
