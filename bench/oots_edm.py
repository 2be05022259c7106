"""EDM codec and validation throughput, against raw lxml parsing of the same bytes (the baseline, same run).

Rows: parse + rebuild of an EDM v1.2 request and a v2.0 two-evidence response (our codec over the hardened
parser) vs lxml ``fromstring`` + ``tostring`` of the same bytes; ``edm validate`` of the EC TC01 request with
our rules only and with the official v1.0 XSD + Schematron (Saxon) + code lists; detached-JWS verification of a
common-services answer (ES256, x5c chain validation against a trust store).

    python bench/oots_edm.py [--seconds 1.0]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree

from oots.commonservices.jws import sign_detached, verify_detached
from oots.edm import V1_2, V2_0, parse_message, to_bytes
from oots.validation import validate_bytes
from pki.keys.port import KeyPurpose
from pki.trust.model import RevocationPolicy
from pki.trust.store import TrustStore
from tests.oots import samples
from tests.pki.pkihelpers import foreign_chain, now

SHARED = Path(os.environ.get("GATEWAY_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
if not (SHARED / "vectors").is_dir():
    SHARED = Path("/work/shared")
os.environ.setdefault("GATEWAY_SPECS_DIR", str(SHARED / "specs"))


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()  # warm caches (compiled schemas, Saxon executables)
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0)
    seconds = parser.parse_args().seconds
    request = to_bytes(samples.request(V1_2))
    response = to_bytes(samples.response(V2_0, items=2))
    figures: dict[str, float] = {}
    for name, data in (("request_v12", request), ("response_v20", response)):
        ours = rate(lambda d=data: to_bytes(parse_message(d)), seconds)
        raw = rate(lambda d=data: etree.tostring(etree.fromstring(d)), seconds)
        figures[f"edm_{name}_parse_build_per_s"] = round(ours, 1)
        figures[f"lxml_{name}_parse_serialise_per_s"] = round(raw, 1)
        figures[f"edm_{name}_ratio_to_lxml"] = round(ours / raw, 3)
        print(f"{name}: codec {ours:,.0f}/s, raw lxml {raw:,.0f}/s, ratio {ours / raw:.2f}")
    tc01 = (SHARED / "vectors" / "oots-edm-v1.0-ec-examples" / "TC01_Request.xml").read_bytes()
    own = rate(lambda: validate_bytes(tc01, official=False), seconds)
    full = rate(lambda: validate_bytes(tc01), seconds)
    figures["validate_v10_own_rules_per_s"] = round(own, 1)
    figures["validate_v10_official_per_s"] = round(full, 1)
    print(f"validate TC01: own rules {own:,.0f}/s, + XSD/Schematron/code lists {full:,.0f}/s")
    ca, leaf, key = foreign_chain(KeyPurpose.SMP_SIGNING, "ec", org="Bench CS")
    trust = TrustStore("bench", [ca.certificate], policy=RevocationPolicy(require_crl=False))
    moment = now()
    signature, digest = sign_detached(response, key, [leaf, ca.certificate], algorithm="ES256", now=moment)
    jws = rate(lambda: verify_detached(signature, digest, response, trust=trust,
                                       purpose=KeyPurpose.SMP_SIGNING, now=moment), seconds)
    figures["cs_jws_verify_per_s"] = round(jws, 1)
    print(f"common-services answer verification (ES256 + chain): {jws:,.0f}/s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
