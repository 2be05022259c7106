"""Latvian and English texts of the preview space, and the choice of language.

An explicit switch (the ``lang`` form/query value, then the remembered cookie) wins over the browser's
Accept-Language; Latvian is the default, as on Latvian public services. Every key exists in both languages
(tested), so a page never mixes languages or shows a key.
"""

from __future__ import annotations

LANGUAGES = ("lv", "en")
DEFAULT = "lv"

TEXTS: dict[str, dict[str, str]] = {
    "title": {"lv": "Pierādījumu priekšskatījums", "en": "Evidence preview"},
    "requested_by": {"lv": "Pieprasītājs", "en": "Requested by"},
    "procedure": {"lv": "Procedūra", "en": "Procedure"},
    "issued_by": {"lv": "Izdevējs", "en": "Issued by"},
    "issued_on": {"lv": "Izdošanas datums", "en": "Issued on"},
    "accept": {"lv": "Piekrītu nosūtīt šo pierādījumu", "en": "I agree to send this evidence"},
    "decline": {"lv": "Nepiekrītu", "en": "I do not agree"},
    "declined": {"lv": "Jūs atteicāties. Nekas netika nosūtīts.", "en": "You declined. Nothing was sent."},
    "timed_out": {"lv": "Priekšskatījuma laiks ir beidzies. Nekas netika nosūtīts.",
                  "en": "The preview has expired. Nothing was sent."},
    "mds_mismatch": {"lv": "Jūsu identitāte neatbilst pieprasījumam. Nekas netiek rādīts.",
                     "en": "Your identity does not match the request. Nothing is shown."},
    "access_log": {"lv": "Kas pieprasīja manus datus", "en": "Who requested my data"},
    "login_error": {"lv": "Pieteikšanās neizdevās.", "en": "Login failed."},
    "switch_language": {"lv": "English", "en": "Latviski"},
}


def choose_language(explicit: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (explicit, cookie):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT


def text(key: str, lang: str) -> str:
    return TEXTS[key][lang if lang in LANGUAGES else DEFAULT]
