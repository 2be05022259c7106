"""The demo portal's texts in Latvian and English (the portal's default language is Latvian)."""

from __future__ import annotations

LANGUAGES = ("lv", "en")

TEXTS: dict[str, dict[str, str]] = {
    "lv": {
        "site": "Studiju pieteikumu portāls (demo)", "skip": "Pāriet uz saturu", "switch": "English",
        "home_title": "Pieteikties studijām Latvijas Universitātē",
        "home_intro": "Lai pieteiktos, vajadzīgs jūsu augstākās izglītības diploms. Portāls to pieprasīs no "
                      "izsniedzējas valsts caur ES vienreizējās iesniegšanas tehnisko sistēmu (OOTS).",
        "login": "Pieteikties ar ārvalstu eID", "logged_in_as": "Jūs esat pieteicies kā",
        "born": "dzimis(-usi)", "logout": "Iziet",
        "country": "Valsts, kas izsniedza diplomu", "preview": "Vēlos pārskatīt diplomu pirms tā nosūtīšanas",
        "preview_hint": "Pierādījumu parāda izsniedzējas valsts priekšskatījuma telpā; tas tiek nosūtīts tikai ar "
                        "personas piekrišanu.",
        "preview_own": "Vēlos pārskatīt diplomu pirms tā nosūtīšanas",
        "preview_hint_own": "Diplomu parāda izsniedzējas valsts priekšskatījuma telpā; tas tiek nosūtīts tikai ar "
                            "jūsu piekrišanu. Bez šīs izvēles jūs to skaidri pieprasāt, un tas tiek nosūtīts uzreiz.",
        "request": "Pieprasīt diplomu", "status_title": "Pieprasījuma statuss",
        "state_discovering": "Meklē, kas izsniedz šo pierādījumu…", "state_exchanging": "Pieprasījums nosūtīts; "
        "gaida atbildi…", "state_preview-required": "Pierādījums jāpārskata izsniedzēja priekšskatījuma telpā.",
        "state_input-required": "Vajadzīga papildu informācija.", "state_completed": "Pieprasījums pabeigts.",
        "state_failed": "Pieprasījums neizdevās.", "refresh_note": "Lapa atjaunojas ik pēc dažām sekundēm.",
        "refresh": "Atjaunot tagad", "go_preview": "Atvērt priekšskatījuma telpu",
        "evidence": "Saņemtais pierādījums", "no_evidence": "Pierādījums netika nodots (nav atrasts vai jūs "
        "atteicāties to nodot).", "issued_by": "Izsniedza", "download": "Lejupielādēt",
        "error_title": "Kļūda", "error_code": "Kļūdas kods", "back": "Atpakaļ uz sākumu",
        "node_down": "Mezgls nav sasniedzams; mēģiniet vēlāk.", "not_found": "Šāda pieprasījuma nav.",
        "csrf": "Veidlapa ir novecojusi; atveriet lapu vēlreiz.", "login_failed": "Pieteikšanās neizdevās.",
        "login_first": "Vispirms piesakieties.", "country_unknown": "Izvēlieties valsti no saraksta.",
        "registry_title": "Ārvalstu reģistrs pieprasa dzimšanas reģistra ierakstu no Latvijas",
        "registry_intro": "Simulēta partnervalsts (Vācija) pieprasa personas dzimšanas reģistra ierakstu no "
                          "Latvijas Pilsonības un migrācijas lietu pārvaldes.",
        "person": "Persona", "registry_request": "Pieprasīt dzimšanas reģistra ierakstu",
        "registry_link": "Otrs virziens: ārvalstu reģistrs pieprasa no Latvijas",
        "studies_link": "Studiju pieteikums", "requested": "Pieprasīts", "procedure": "Procedūra",
    },
    "en": {
        "site": "Study application portal (demo)", "skip": "Skip to content", "switch": "Latviešu",
        "home_title": "Apply for studies at the University of Latvia",
        "home_intro": "To apply you need your higher-education diploma. The portal requests it from the country "
                      "that issued it, through the EU Once-Only Technical System (OOTS).",
        "login": "Log in with a foreign eID", "logged_in_as": "You are logged in as", "born": "born",
        "logout": "Log out", "country": "Country that issued the diploma",
        "preview": "The person previews the record in the Latvian preview space before it is sent",
        "preview_hint": "The evidence is shown in the issuing country's preview space; it is sent only if the "
                        "person agrees.",
        "preview_own": "I want to preview the diploma before it is sent",
        "preview_hint_own": "The diploma is shown in the issuing country's preview space and sent only if you "
                            "agree. Without this choice you ask for it explicitly and it is sent at once.",
        "request": "Request the diploma", "status_title": "Request status",
        "state_discovering": "Finding who issues this evidence…",
        "state_exchanging": "Request sent; waiting for the answer…",
        "state_preview-required": "The evidence must be previewed in the provider's preview space.",
        "state_input-required": "More information is needed.", "state_completed": "The request is complete.",
        "state_failed": "The request failed.", "refresh_note": "This page refreshes every few seconds.",
        "refresh": "Refresh now", "go_preview": "Open the preview space", "evidence": "Evidence received",
        "no_evidence": "No evidence was released (none was found, or you declined to share it).",
        "issued_by": "Issued by", "download": "Download", "error_title": "Error", "error_code": "Error code",
        "back": "Back to the start", "node_down": "The node cannot be reached; please try again later.",
        "not_found": "There is no such request.", "csrf": "The form has expired; open the page again.",
        "login_failed": "The login failed.", "login_first": "Please log in first.",
        "country_unknown": "Choose a country from the list.",
        "registry_title": "A foreign registry asks Latvia for a birth record",
        "registry_intro": "A simulated partner member state (Germany) asks the Latvian Office of Citizenship and "
                          "Migration Affairs for a person's birth record.",
        "person": "Person", "registry_request": "Request the birth record",
        "registry_link": "The other direction: a foreign registry asks Latvia", "studies_link": "Study application",
        "requested": "Requested", "procedure": "Procedure",
    },
}

COUNTRIES = {"DE": {"lv": "Vācija", "en": "Germany"}}


def language(value: str | None) -> str:
    return value if value in LANGUAGES else "lv"

# Labels of the sample registers' columns (oots/dataservice/*_registers.py); unknown elements keep their name.
FIELDS: dict[str, dict[str, str]] = {
    "record_id": {"lv": "Ieraksta numurs", "en": "Record number"},
    "issued_on": {"lv": "Izdošanas datums", "en": "Issued on"},
    "institution": {"lv": "Izglītības iestāde", "en": "Institution"},
    "programme": {"lv": "Studiju programma", "en": "Programme"},
    "degree": {"lv": "Grāds", "en": "Degree"},
    "place_of_birth": {"lv": "Dzimšanas vieta", "en": "Place of birth"},
    "mother": {"lv": "Māte", "en": "Mother"},
    "father": {"lv": "Tēvs", "en": "Father"},
    "address": {"lv": "Adrese", "en": "Address"},
    "municipality": {"lv": "Pašvaldība", "en": "Municipality"},
}


def field_label(name: str, lang: str) -> str:
    return FIELDS.get(name, {}).get(lang, name)
