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
    # Pages of the preview space (gateway/preview_web_pages.py).
    "skip": {"lv": "Pāriet uz saturu", "en": "Skip to content"},
    "login_title": {"lv": "Pieteikšanās", "en": "Log in"},
    "login_intro": {"lv": "Lai redzētu pierādījumu, pierādiet, ka tas ir par jums.",
                    "en": "To see the evidence, prove that it is about you."},
    "login_method": {"lv": "Pieteikšanās veids", "en": "How do you want to log in?"},
    "login_national": {"lv": "Latvijas eID (valsts pieteikšanās)", "en": "Latvian eID (national login)"},
    "login_foreign": {"lv": "Ārvalstu eID (eIDAS)", "en": "Foreign eID (eIDAS)"},
    "login_submit": {"lv": "Turpināt", "en": "Continue"},
    "login_method_required": {"lv": "Izvēlieties pieteikšanās veidu.", "en": "Choose how you want to log in."},
    "error_summary": {"lv": "Lūdzu, izlabojiet:", "en": "Please correct:"},
    "evidence_list": {"lv": "Pieprasītie pierādījumi", "en": "Requested evidence"},
    "evidence_detail": {"lv": "Pierādījums", "en": "Evidence"},
    "evidence_type": {"lv": "Pierādījuma veids", "en": "Evidence type"},
    "deadline": {"lv": "Izlemiet līdz", "en": "Decide by"},
    "requested_at": {"lv": "Pieprasīts", "en": "Requested on"},
    "open_evidence": {"lv": "Skatīt", "en": "View"},
    "no_documents": {"lv": "Par jums šajā reģistrā nav ierakstu. Ja piekrītat, pieprasītājs saņems atbildi bez "
                            "pierādījuma.",
                     "en": "The register holds no record about you. If you agree, the requester gets an answer "
                           "without evidence."},
    "element": {"lv": "Elements", "en": "Element"},
    "value": {"lv": "Vērtība", "en": "Value"},
    "truncated": {"lv": "Pierādījums ir garš: parādīta tikai sākuma daļa.",
                  "en": "The evidence is long: only its beginning is shown."},
    "unreadable": {"lv": "Pierādījumu nevar parādīt.", "en": "The evidence cannot be shown."},
    "pdf_label": {"lv": "Pierādījums PDF formātā", "en": "The evidence as PDF"},
    "pdf_open": {"lv": "Atvērt PDF", "en": "Open the PDF"},
    "leave": {"lv": "Pārtraukt, neko nesūtot", "en": "Stop without sending anything"},
    "back": {"lv": "Atpakaļ pie pierādījuma", "en": "Back to the evidence"},
    "confirm_accept": {"lv": "Apstipriniet nosūtīšanu", "en": "Confirm sending"},
    "confirm_decline": {"lv": "Apstipriniet atteikumu", "en": "Confirm declining"},
    "confirm_accept_text": {"lv": "Pierādījums tiks nosūtīts pieprasītājam. To nevar atsaukt.",
                            "en": "The evidence will be sent to the requester. This cannot be undone."},
    "confirm_decline_text": {"lv": "Pieprasītājs nesaņems pierādījumu.",
                             "en": "The requester will not receive the evidence."},
    "confirm_accept_button": {"lv": "Jā, nosūtīt", "en": "Yes, send it"},
    "confirm_decline_button": {"lv": "Jā, atteikt", "en": "Yes, decline"},
    "accepted": {"lv": "Paldies. Pierādījums tiek nosūtīts pieprasītājam.",
                 "en": "Thank you. The evidence is being sent to the requester."},
    "abandoned": {"lv": "Jūs pārtraucāt. Nekas netika nosūtīts.", "en": "You stopped. Nothing was sent."},
    "unknown_link": {"lv": "Šī saite nav derīga vai jau ir izmantota.",
                     "en": "This link is not valid or was already used."},
    "session_expired": {"lv": "Jūsu sesija ir beigusies. Atveriet saiti no pakalpojuma vēlreiz.",
                        "en": "Your session has ended. Open the link from the service again."},
    "csrf": {"lv": "Veidlapu nevarēja pieņemt. Lūdzu, mēģiniet vēlreiz no sākuma.",
             "en": "The form could not be accepted. Please start again."},
    "no_preview": {"lv": "Šajā sesijā nav pierādījuma, par ko lemt.", "en": "There is no evidence to decide on "
                                                                              "in this session."},
    "register_error": {"lv": "Reģistrs pašlaik neatbild. Mēģiniet vēlāk.",
                       "en": "The register does not answer right now. Please try later."},
    "not_found": {"lv": "Šāds pierādījums nav atrasts.", "en": "No such evidence."},
    "bad_decision": {"lv": "Lēmums netika pieņemts.", "en": "No decision was taken."},
    "access_empty": {"lv": "Neviens nav pieprasījis jūsu datus.", "en": "Nobody has requested your data."},
    "when": {"lv": "Kad", "en": "When"},
    "decision": {"lv": "Lēmums", "en": "Decision"},
    "code": {"lv": "Kods", "en": "Code"},
    "return": {"lv": "Atgriezties pakalpojumā", "en": "Return to the service"},
    "state_awaiting_user": {"lv": "gaida jūs", "en": "waiting for you"},
    "state_user_present": {"lv": "skatāt", "en": "you are looking"},
    "state_accepted": {"lv": "nosūtīts", "en": "sent"},
    "state_declined": {"lv": "atteikts", "en": "declined"},
    "state_abandoned": {"lv": "pārtraukts", "en": "stopped"},
    "state_timed_out": {"lv": "laiks beidzās", "en": "expired"},
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
