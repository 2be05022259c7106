import pytest

from preview_space.websec import CsrfRefused, ReturnUrlRefused, check_csrf, check_return_url, csrf_token

ALLOWED = ["https://portal.example.lv", "http://127.0.0.1:8081"]


@pytest.mark.parametrize("url", [
    "https://portal.example.lv/back?x=1", "https://PORTAL.example.lv:443/b", "http://127.0.0.1:8081/r"])
def test_return_url_allowed(url: str) -> None:
    assert check_return_url(url, ALLOWED) == url


@pytest.mark.parametrize(("url", "code"), [
    ("https://evil.example/back", "PREVIEW_RETURN_ORIGIN"),
    ("https://portal.example.lv.evil.example/", "PREVIEW_RETURN_ORIGIN"),
    ("https://portal.example.lv:8443/", "PREVIEW_RETURN_ORIGIN"),
    ("http://portal.example.lv/", "PREVIEW_RETURN_SCHEME"),
    ("javascript:alert(1)", "PREVIEW_RETURN_MALFORMED"),
    ("//evil.example/", "PREVIEW_RETURN_SCHEME"),
    ("/relative", "PREVIEW_RETURN_MALFORMED"),
    ("https://portal.example.lv@evil.example/", "PREVIEW_RETURN_MALFORMED"),
    ("https://portal.example.lv\\@evil.example/", "PREVIEW_RETURN_MALFORMED"),
    ("https://portal.example.lv/\r\nSet-Cookie:x", "PREVIEW_RETURN_MALFORMED"),
    ("https://portal.example.lv:99999/", "PREVIEW_RETURN_MALFORMED"),
])
def test_return_url_refused(url: str, code: str) -> None:
    with pytest.raises(ReturnUrlRefused) as err:
        check_return_url(url, ALLOWED)
    assert err.value.code == code


def test_csrf_bound_to_session() -> None:
    secret = b"s" * 32
    token = csrf_token(secret, "session-a")
    check_csrf(secret, "session-a", token)
    tampered = token[:-1] + ("1" if token[-1] == "0" else "0")
    for sid, presented in (("session-b", token), ("session-a", None), ("session-a", tampered)):
        with pytest.raises(CsrfRefused):
            check_csrf(secret, sid, presented)
