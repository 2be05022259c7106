"""HTTP response policy of the preview space, as plain header dicts (the web layer applies them).

Evidence pages must not be cached or framed, and an inline PDF must be shown, not downloaded, with its real
type and no sniffing: the browser's PDF viewer renders it inside a sandbox (CSP ``sandbox``), so a PDF that
carries script cannot act on the preview space's origin. File names are reduced to a safe ASCII form for
``Content-Disposition`` (RFC 6266 ``filename``), the original kept in ``filename*`` percent-encoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote


def page_headers(form_targets: Iterable[str] = ()) -> dict[str, str]:
    """Page headers; ``form_targets`` are further origins a form may lead to (browsers apply form-action to
    the redirects after a submission too: the login's redirect to an IdP served over http in development)."""
    targets = " ".join(sorted(set(form_targets)))
    return {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # the return URL and page paths stay out of third parties' logs
        "Content-Security-Policy": f"default-src 'self'; frame-ancestors 'none'; form-action 'self' https: "
                                   f"{targets}".rstrip() + "; base-uri 'none'; object-src 'self'",
    }


PAGE_HEADERS = page_headers()


def pdf_headers(filename: str) -> dict[str, str]:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "evidence.pdf"
    if not ascii_name.lower().endswith(".pdf"):
        ascii_name += ".pdf"
    return {
        "Content-Type": "application/pdf",
        "Content-Disposition": f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Referrer-Policy": "no-referrer",
    }
