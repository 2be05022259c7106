"""The hand-written record encoding is exactly the canonical JSON it claims to be."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.record import FORMAT_VERSION, canonical_json, encode_details, encode_record

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@given(st.integers(0, 2**53), texts, texts, texts, st.none() | texts, st.none() | texts, texts, texts)
def test_encode_record_equals_canonical_json(seq, ts, event, actor, subject, corr, details, prev) -> None:
    expected = canonical_json({"v": FORMAT_VERSION, "seq": seq, "ts": ts, "event": event, "actor": actor,
                               "subject": subject, "corr": corr, "details": details, "prev": prev})
    assert encode_record(seq, ts, event, actor, subject, corr, details, prev) == expected


def test_details_are_canonical_whatever_the_key_order() -> None:
    a = encode_details({"b": 1, "a": {"y": [1, "ž"], "x": None}})
    b = encode_details({"a": {"x": None, "y": (1, "ž")}, "b": 1})
    assert a == b == '{"a":{"x":null,"y":[1,"ž"]},"b":1}'
