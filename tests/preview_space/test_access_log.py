import json
from dataclasses import dataclass

from preview_space.access_log import access_log


@dataclass
class Rec:
    ts: str
    event: str
    subject_hash: str | None
    details: str


def rec(ts: str, event: str, subject: str | None, **details: object) -> Rec:
    return Rec(ts, event, subject, json.dumps(details))


def test_folds_sessions_of_one_person_newest_first() -> None:
    records = [
        rec("2026-01-01T10:00:00Z", "oots.preview.opened", "me", session="s1", requester="DE/uni",
            evidence_type="Diploma", state="awaiting_user", procedure="studies"),
        rec("2026-01-01T10:01:00Z", "oots.preview.opened", "other", session="s9", requester="X",
            evidence_type="Y", state="awaiting_user"),
        rec("2026-01-01T10:02:00Z", "oots.preview.decided", "me", session="s1", state="declined"),
        rec("2026-01-02T09:00:00Z", "oots.preview.opened", "me", session="s2", requester="EE/reg",
            evidence_type="Birth", state="awaiting_user"),
        rec("2026-01-02T09:05:00Z", "oots.preview.decided", "me", session="s2", state="accepted"),
        rec("2026-01-02T09:06:00Z", "as4.sent", "me", session="s2", state="x"),
        Rec("2026-01-02T09:07:00Z", "oots.preview.decided", "me", "not json"),
    ]
    log = access_log(records, "me")
    assert [(e.session, e.requester, e.evidence_type, e.procedure, e.decision) for e in log] == [
        ("s2", "EE/reg", "Birth", None, "accepted"),
        ("s1", "DE/uni", "Diploma", "studies", "declined")]
    assert log[1].when == "2026-01-01T10:00:00Z"


def test_nothing_for_a_stranger() -> None:
    assert access_log([rec("t", "oots.preview.opened", "me", session="s1", state="x")], "someone") == []
