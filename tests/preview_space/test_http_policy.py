from preview_space.http_policy import PAGE_HEADERS, pdf_headers


def test_pdf_inline_with_safe_name() -> None:
    headers = pdf_headers('Dzimšanas "apliecība"\r\n.pdf')
    assert headers["Content-Type"] == "application/pdf"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith('inline; filename="Dzim_anas__apliec_ba___.pdf"')
    assert "\r" not in disposition and "\n" not in disposition and disposition.count('"') == 2
    assert "filename*=UTF-8''Dzim%C5%A1anas" in disposition
    assert headers["Content-Security-Policy"] == "sandbox" and headers["Cache-Control"] == "no-store"


def test_pdf_name_fallbacks() -> None:
    assert 'filename="evidence.pdf"' in pdf_headers("")["Content-Disposition"]
    assert 'filename="diploma.pdf"' in pdf_headers("diploma")["Content-Disposition"]


def test_pages_not_cached_or_framed() -> None:
    assert PAGE_HEADERS["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in PAGE_HEADERS["Content-Security-Policy"]
