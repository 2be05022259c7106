"""User-facing texts of the connector's pages, in Latvian and English, and country names."""

from __future__ import annotations

LANGUAGES = ("lv", "en")

COUNTRY_NAMES: dict[str, tuple[str, str]] = {
    "AT": ("Austrija", "Austria"), "BE": ("Beļģija", "Belgium"), "BG": ("Bulgārija", "Bulgaria"),
    "CY": ("Kipra", "Cyprus"), "CZ": ("Čehija", "Czechia"), "DE": ("Vācija", "Germany"),
    "DK": ("Dānija", "Denmark"), "EE": ("Igaunija", "Estonia"), "EL": ("Grieķija", "Greece"),
    "ES": ("Spānija", "Spain"), "FI": ("Somija", "Finland"), "FR": ("Francija", "France"),
    "HR": ("Horvātija", "Croatia"), "HU": ("Ungārija", "Hungary"), "IE": ("Īrija", "Ireland"),
    "IS": ("Islande", "Iceland"), "IT": ("Itālija", "Italy"), "LI": ("Lihtenšteina", "Liechtenstein"),
    "LT": ("Lietuva", "Lithuania"), "LU": ("Luksemburga", "Luxembourg"), "MT": ("Malta", "Malta"),
    "NL": ("Nīderlande", "Netherlands"), "NO": ("Norvēģija", "Norway"), "PL": ("Polija", "Poland"),
    "PT": ("Portugāle", "Portugal"), "RO": ("Rumānija", "Romania"), "SE": ("Zviedrija", "Sweden"),
    "SI": ("Slovēnija", "Slovenia"), "SK": ("Slovākija", "Slovakia"),
}

TEXTS: dict[str, dict[str, str]] = {
    "lv": {
        "title": "Pieteikšanās ar ārvalstu eID",
        "intro": "Izvēlieties valsti, kuras elektroniskās identifikācijas līdzekli izmantosiet.",
        "legend": "Valsts",
        "continue": "Turpināt",
        "other_language": "English",
        "requested_by": "Pakalpojums",
        "error_title": "Pieteikšanās neizdevās",
        "error_code": "Kļūdas kods",
        "return": "Atgriezties pakalpojumā",
        "EIDAS_STATUS_CANCELLED": "Jūs pārtraucāt pieteikšanos savas valsts eID sistēmā.",
        "EIDAS_STATUS_FAILED": "Jūsu valsts eID sistēma neapstiprināja jūsu identitāti.",
        "EIDAS_MAPPING_AMBIGUOUS": "Jūsu datiem atbilst vairāki ieraksti reģistrā; droši noteikt jūs nav iespējams.",
        "EIDAS_MAPPING_NO_MATCH": "Jūsu dati neatbilst nevienam ierakstam reģistrā.",
        "EIDAS_SESSION_UNKNOWN": "Pieteikšanās sesija nav atrasta vai ir beigusies. Sāciet no jauna pakalpojumā.",
        "EIDAS_COUNTRY_UNKNOWN": "Šī valsts nav pieejama.",
        "EIDAS_LOA_UNAVAILABLE": "Šīs valsts eID nesasniedz pakalpojumam nepieciešamo drošības līmeni.",
        "generic": "Atbildi no ārvalsts nevarēja pieņemt drošības pārbaudes dēļ.",
    },
    "en": {
        "title": "Log in with a foreign eID",
        "intro": "Choose the country whose electronic identification you will use.",
        "legend": "Country",
        "continue": "Continue",
        "other_language": "Latviski",
        "requested_by": "Service",
        "error_title": "Login failed",
        "error_code": "Error code",
        "return": "Return to the service",
        "EIDAS_STATUS_CANCELLED": "You cancelled the login in your country's eID system.",
        "EIDAS_STATUS_FAILED": "Your country's eID system did not confirm your identity.",
        "EIDAS_MAPPING_AMBIGUOUS": "Several register records match your data; you cannot be identified safely.",
        "EIDAS_MAPPING_NO_MATCH": "Your data match no record in the register.",
        "EIDAS_SESSION_UNKNOWN": "The login session was not found or has expired. Start again at the service.",
        "EIDAS_COUNTRY_UNKNOWN": "This country is not available.",
        "EIDAS_LOA_UNAVAILABLE": "This country's eID does not reach the level of assurance the service needs.",
        "generic": "The answer from abroad could not be accepted because a security check failed.",
    },
}


def language(value: str | None) -> str:
    return value if value in LANGUAGES else "lv"


def country_name(code: str, lang: str) -> str:
    names = COUNTRY_NAMES.get(code)
    return code if names is None else names[0 if lang == "lv" else 1]
