import pytest

from preview_space.i18n import LANGUAGES, TEXTS, choose_language, text


def test_every_text_in_both_languages() -> None:
    for key, variants in TEXTS.items():
        assert set(variants) == set(LANGUAGES), key
        assert all(value.strip() for value in variants.values()), key
        assert variants["lv"] != variants["en"], key


@pytest.mark.parametrize(("explicit", "cookie", "accept", "expected"), [
    ("en", "lv", "lv", "en"),
    (None, "en", "lv", "en"),
    ("xx", None, "en-GB,lv;q=0.5", "en"),
    (None, None, "de, lv;q=0.8, en;q=0.9", "en"),
    (None, None, "en;q=0, lv;q=0.1", "lv"),
    (None, None, "de-DE", "lv"),
    (None, None, None, "lv"),
    (None, None, "en;q=abc", "lv"),
])
def test_choose_language(explicit: str | None, cookie: str | None, accept: str | None, expected: str) -> None:
    assert choose_language(explicit, cookie, accept) == expected


def test_text_falls_back_to_latvian() -> None:
    assert text("accept", "fr") == TEXTS["accept"]["lv"]
