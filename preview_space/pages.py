"""Server-rendered pages of the preview space (Jinja2, autoescaped, no JavaScript needed).

Every value from evidence or from a request is escaped by the environment; templates never mark data safe.
Forms post with a CSRF field; the language switch is a form too, so it works without scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from preview_space.i18n import text

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"], default=True), undefined=StrictUndefined)


def render(template: str, *, lang: str, **context: Any) -> str:
    return _ENV.get_template(template).render(lang=lang, t=lambda key: text(key, lang), **context)
