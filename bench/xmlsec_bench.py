"""XML signature and encryption throughput: our pki/ layer vs the raw primitive vs python-xmlsec.

For each algorithm, in one run: signs/s and verifications/s of an enveloped signature over a SAML-like
document (~2 KB), the raw cryptography primitive over the same canonical SignedInfo, and python-xmlsec
(libxmlsec1, C) on the same documents where it implements the algorithm (not Ed25519). Ratios:
``ours_vs_primitive`` (time per operation, ours / primitive: the XML overhead) and ``ours_vs_xmlsec``
(ops per second, ours / xmlsec: above 1 means faster).

Encryption (bench/_xmlenc.py): encryptions and decryptions per second per suite (AS4 1.15 RSA-OAEP, AS4 2.0
X25519+HKDF, eIDAS ECDH-ES+ConcatKDF) at 1 KB and 100 KB, against the raw primitives; a 1 GB stream
encrypted, decrypted and spooled, against raw streaming AES-GCM, with peak Python memory.

    python bench/xmlsec_bench.py [--seconds 0.6] [--no-encryption]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from pki import primitives
from pki.keys.memory import InMemorySigner
from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.keyinfo import use_certificate, x509_data
from pki.xml.parser import parse_xml
from pki.xml.references import Transform, canonicalize
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import verify

ATTRIBUTES = "".join(
    f'<saml:Attribute Name="http://eidas.europa.eu/attributes/naturalperson/A{i}"><saml:AttributeValue>value {i} '
    f"ĀČĒĢĪĶĻŅŠŪŽ</saml:AttributeValue></saml:Attribute>" for i in range(12)
)
DOCUMENT = (
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0">'
    '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a" Version="2.0">'
    "<saml:Issuer>https://eidas.example.de/proxy</saml:Issuer><saml:Subject><saml:NameID>DE/LV/123</saml:NameID>"
    f"</saml:Subject><saml:AttributeStatement>{ATTRIBUTES}</saml:AttributeStatement></saml:Assertion></samlp:Response>"
).encode()

CASES = [  # name, key factory, signature URI, python-xmlsec transform (None: not implemented there)
    ("rsa3072_sha256", lambda: rsa.generate_private_key(65537, 3072), A.RSA_SHA256,
     xmlsec.constants.TransformRsaSha256),
    ("rsa3072_pss_sha256", lambda: rsa.generate_private_key(65537, 3072), A.RSA_PSS_SHA256,
     xmlsec.constants.TransformRsaSha256),
    ("ecdsa_p256_sha256", lambda: ec.generate_private_key(ec.SECP256R1()), A.ECDSA_SHA256,
     xmlsec.constants.TransformEcdsaSha256),
    ("ed25519", ed25519.Ed25519PrivateKey.generate, A.EDDSA_ED25519, None),
]


def rate(operation: Callable[[], object], seconds: float) -> float:
    """Operations per second: median of 3 timed slices."""
    operation()
    samples = []
    for _ in range(3):
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds / 3:
            operation()
            count += 1
        samples.append(count / elapsed)
    return statistics.median(samples)


def certificate(key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
    now = datetime.datetime.now(datetime.UTC)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, algorithm))


def ours(signer: InMemorySigner, uri: str) -> tuple[Callable[[], object], Callable[[], object], bytes]:
    template = parse_xml(DOCUMENT).getroot()
    options = SignOptions(signature_algorithm=uri, key_info=x509_data([signer.certificate]))
    spec = ReferenceSpec(element=template[0], transforms=(Transform(A.ENVELOPED_SIGNATURE), Transform(A.EXC_C14N)))

    def do_sign() -> object:
        root = copy.deepcopy(template)
        return sign(root[0], [ReferenceSpec(element=root[0], transforms=spec.transforms)], signer, options, index=1)

    signed = etree.tostring(do_sign().getroottree())
    signature = parse_xml(signed).getroot().find(f".//{{{ns.DS}}}Signature")
    resolver = use_certificate(signer.certificate)
    return do_sign, lambda: verify(signature, resolver, A.MODERN), signed


def with_xmlsec(key, cert: x509.Certificate, uri: str, transform) -> tuple[Callable[[], object], Callable[[], object]]:
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    pem_cert = cert.public_bytes(serialization.Encoding.PEM)
    sign_key = xmlsec.Key.from_memory(pem_key, xmlsec.constants.KeyDataFormatPem)
    verify_key = xmlsec.Key.from_memory(pem_cert, xmlsec.constants.KeyDataFormatCertPem)
    template_root = etree.fromstring(DOCUMENT)

    def do_sign() -> etree._Element:
        root = copy.deepcopy(template_root)
        assertion = root[0]
        sig = xmlsec.template.create(assertion, xmlsec.constants.TransformExclC14N, transform, ns="ds")
        sig.find(f"{{{ns.DS}}}SignedInfo/{{{ns.DS}}}SignatureMethod").set("Algorithm", uri)
        assertion.insert(1, sig)
        ref = xmlsec.template.add_reference(sig, xmlsec.constants.TransformSha256, uri="#_a")
        xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
        xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
        context = xmlsec.SignatureContext()
        context.key = sign_key
        context.register_id(assertion, "ID")
        context.sign(sig)
        return root

    signed = do_sign()

    def do_verify() -> None:
        context = xmlsec.SignatureContext()
        context.key = verify_key
        context.register_id(signed[0], "ID")
        context.verify(xmlsec.tree.find_node(signed, xmlsec.constants.NodeSignature))

    return do_sign, do_verify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=0.6, help="time per measurement")
    parser.add_argument("--no-encryption", action="store_true", help="signatures only")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    for name, make_key, uri, transform in CASES:
        key = make_key()
        cert = certificate(key)
        signer = InMemorySigner(key, cert)
        do_sign, do_verify, signed = ours(signer, uri)
        signed_info = canonicalize(parse_xml(signed).getroot().find(f".//{{{ns.DS}}}SignedInfo"), A.EXC_C14N)
        algorithm = A.SIGNATURES[uri]
        signature_value = primitives.sign(key, signed_info, algorithm)
        public_key = key.public_key()
        row = {
            "sign_per_s": rate(do_sign, args.seconds),
            "verify_per_s": rate(do_verify, args.seconds),
            "primitive_sign_per_s": rate(
                lambda k=key, d=signed_info, a=algorithm: primitives.sign(k, d, a), args.seconds),
            "primitive_verify_per_s": rate(
                lambda p=public_key, s=signature_value, d=signed_info, a=algorithm: primitives.verify(p, s, d, a),
                args.seconds),
        }
        row["sign_overhead_vs_primitive"] = row["primitive_sign_per_s"] / row["sign_per_s"]
        row["verify_overhead_vs_primitive"] = row["primitive_verify_per_s"] / row["verify_per_s"]
        if transform is not None:
            x_sign, x_verify = with_xmlsec(key, cert, uri, transform)
            row["xmlsec_sign_per_s"] = rate(x_sign, args.seconds)
            row["xmlsec_verify_per_s"] = rate(x_verify, args.seconds)
            row["sign_ratio_vs_xmlsec"] = row["sign_per_s"] / row["xmlsec_sign_per_s"]
            row["verify_ratio_vs_xmlsec"] = row["verify_per_s"] / row["xmlsec_verify_per_s"]
        nan = float("nan")
        print(f"{name:<20} sign {row['sign_per_s']:>8,.0f}/s (primitive {row['primitive_sign_per_s']:>8,.0f}/s, "
              f"xmlsec {row.get('xmlsec_sign_per_s', nan):>8,.0f}/s)   verify {row['verify_per_s']:>8,.0f}/s "
              f"(primitive {row['primitive_verify_per_s']:>8,.0f}/s, "
              f"xmlsec {row.get('xmlsec_verify_per_s', nan):>8,.0f}/s)")
        figures.update({f"{name}_{key_}": value for key_, value in row.items()})
    if not args.no_encryption:
        from _xmlenc import encryption_figures

        figures.update(encryption_figures(lambda operation: rate(operation, args.seconds)))
    print(json.dumps({key: round(value, 3 if "ratio" in key or "overhead" in key else 1)
                      for key, value in figures.items()}))


if __name__ == "__main__":
    main()
