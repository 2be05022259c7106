# ruff: noqa: I001 - ``as4`` here is the PyPI package; isort takes some of its modules for our own as4/.
"""The PyPI ``as4`` package (0.2.0) as the other access point, driven through files. Runs INSIDE the as4
virtualenv (see as4pkg_env.py), never in the project's: ``import as4`` here is the PyPI package.

Every command reads one JSON config (paths of PEM files, party and participant ids, see ``_Config``) and
prints one JSON object as its last stdout line; bytes travel as files or base64 strings.

    build   CONFIG OUT            build a Peppol message for the node: OUT/headers.json, OUT/body.bin and
                                  OUT/sent.json (message id + the signed ds:References, what the receipt
                                  check needs later)
    check   CONFIG OUT SIGNAL     parse the node's answer to OUT's message with parse_peppol_receipt(...,
                                  expected_signer=the node's signing certificate): a receipt must pass
                                  verify_non_repudiation(signed references); an error signal is reported
    receive CONFIG HEADERS BODY OUT
                                  parse_peppol_message(...) a message from the node (signer pinned), write
                                  the answer (exchange.build_signal()) to OUT/signal-headers.json and
                                  OUT/signal.bin
    serve   CONFIG PORT OUT       an HTTP access point on 127.0.0.1:PORT (stdlib http.server): each POST is
                                  parsed like ``receive`` and answered with as4's signal; each outcome is
                                  appended to OUT/received.jsonl; runs until killed
    bench   CONFIG RECEIVER       full round trips in process (as4 sender -> as4 receiver -> receipt ->
                                  receipt check), timed; prints rates per payload size

Between ``build`` and ``check`` the message exists only as files: the signed references are saved as JSON
(``ComparableReferenceFields.model_dump``) and restored with ``model_validate``, which is all
``verify_non_repudiation`` compares. Two short processes instead of one that waits for a file: nothing to
time out or leave running, and each step's failure is reported on its own.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import as4
from as4.errors import ReceiptVerificationError
from as4.models.dsig.reference import ComparableReferenceFields
from as4.peppol import (
    build_peppol_message,
    create_peppol_external_party,
    create_peppol_internal_party,
    parse_peppol_message,
    parse_peppol_receipt,
)


@dataclass(frozen=True)
class _Config:
    key: Path  # this peer's RSA private key: signs and decrypts (as4 has one key pair per party)
    cert: Path  # its certificate
    party_id: str  # its Peppol AP party id (eb:From when sending)
    peer_party_id: str  # the node's
    peer_encryption_cert: Path  # what a message for the node is encrypted for
    peer_signing_cert: Path  # what the node's messages and signals must be signed with (pinned)
    sender: str = "0088:lv-sender"  # originalSender / SBDH sender (iso6523-actorid-upis)
    recipient: str = "0088:ee-recipient"
    document_type: str = ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
                          "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1")
    process: str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    country: str = "LV"
    payload: Path | None = None  # the business document (XML) as4 wraps in an SBD

    @classmethod
    def load(cls, path: str) -> _Config:
        data = json.loads(Path(path).read_text())
        for name in ("key", "cert", "peer_encryption_cert", "peer_signing_cert", "payload"):
            if data.get(name):
                data[name] = Path(data[name])
        return cls(**data)


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _local_party(config: _Config) -> as4.AS4InternalParty:
    key = serialization.load_pem_private_key(config.key.read_bytes(), password=None)
    return create_peppol_internal_party(config.party_id, _cert(config.cert), as4.AS4LocalPrivateKey(key))


def _policy(config: _Config) -> as4.SecurityPolicy:
    return as4.SecurityPolicy(signer_resolver=as4.pinned_certificates(_cert(config.peer_signing_cert)))


def _build(config: _Config, payload: bytes):
    return build_peppol_message(
        payload, local_party=_local_party(config),
        remote_party=create_peppol_external_party(config.peer_party_id, _cert(config.peer_encryption_cert)),
        sender=config.sender, recipient=config.recipient, document_type_identifier_scheme="busdox-docid-qns",
        document_type_identifier_value=config.document_type, process_identifier=config.process,
        sender_country_id=config.country,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _error(error) -> dict | None:
    if error is None:
        return None
    return {"code": error.error_code, "severity": error.severity,
            "short_description": error.short_description,
            "detail": error.error_detail.value if error.error_detail else None,
            "ref_to_message_in_error": error.ref_to_message_in_error}


def cmd_build(config: _Config, out: Path) -> dict:
    message = _build(config, config.payload.read_bytes())
    body, boundary = message.get_request_data()
    headers = message.get_http_headers(boundary)
    out.mkdir(parents=True, exist_ok=True)
    (out / "headers.json").write_text(json.dumps(headers))
    (out / "body.bin").write_bytes(body)
    (attachment_id, sbd), = message.decrypted_data.items()
    sent = {"message_id": message.message_id,
            "signed_references": [r.model_dump(mode="json") for r in message.signed_references]}
    (out / "sent.json").write_text(json.dumps(sent))
    return {**sent, "attachment_id": attachment_id, "sbd": _b64(sbd)}


def cmd_check(config: _Config, out: Path, signal: Path) -> dict:
    sent = json.loads((out / "sent.json").read_text())
    references = [ComparableReferenceFields.model_validate(r) for r in sent["signed_references"]]
    try:
        receipt = parse_peppol_receipt(signal.read_bytes(), _cert(config.peer_signing_cert))
    except ReceiptVerificationError as exc:
        return {"parsed": False, "exception": f"{type(exc).__name__}: {exc}"}
    result = {"parsed": True, "ref_to_message_id": receipt.original_message_id,
              "refers_to_sent": receipt.original_message_id == sent["message_id"],
              "is_receipt": receipt.success, "error": _error(receipt.error),
              "acknowledged": [r.model_dump(mode="json") for r in receipt.non_repudiated_references]}
    if receipt.error is None:
        try:
            receipt.verify_non_repudiation(references)
            result["non_repudiation"] = "verified"
        except ReceiptVerificationError as exc:
            result["non_repudiation"] = f"{type(exc).__name__}: {exc}"
    return result


def cmd_receive(config: _Config, headers: Path, body: Path, out: Path) -> dict:
    exchange = parse_peppol_message(json.loads(headers.read_text()), body.read_bytes(), _local_party(config),
                                    security_policy=_policy(config))
    message = exchange.message
    signal_headers, signal = exchange.build_signal()
    out.mkdir(parents=True, exist_ok=True)
    (out / "signal-headers.json").write_text(json.dumps(signal_headers))
    (out / "signal.bin").write_bytes(signal)
    parse_error = message.parse_error
    decrypted = list(message.decrypted_data.values())
    return {
        "successful": exchange.successful, "state": str(exchange.state), "message_id": message.message_id,
        "parse_error": None if parse_error is None else {
            "class": type(parse_error).__name__, "code": parse_error.error_code, "detail": parse_error.detail},
        "error": _error(exchange.error),
        "sender": message.sender, "recipient": message.recipient,
        "document_type": message.document_type_identifier_value, "process": message.process_identifier,
        "addressed_to": message.addressed_to.model_dump() if message.addressed_to else None,
        "signer_subject": message.signer_certificate.subject.rfc4514_string() if message.signer_certificate else None,
        "payload": _b64(decrypted[0]) if decrypted else None,
        "signed_references": [r.model_dump(mode="json") for r in exchange.signed_references],
        "signal_content_type": signal_headers.get("Content-Type"),
    }


def cmd_serve(config: _Config, port: int, out: Path) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    out.mkdir(parents=True, exist_ok=True)
    log = out / "received.jsonl"

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = dict(self.headers.items())
            exchange = parse_peppol_message(headers, body, _local_party(config), security_policy=_policy(config))
            signal_headers, signal = exchange.build_signal()
            message = exchange.message
            decrypted = list(message.decrypted_data.values())
            with log.open("a") as handle:
                handle.write(json.dumps({
                    "successful": exchange.successful, "message_id": message.message_id,
                    "error": _error(exchange.error), "sender": message.sender, "recipient": message.recipient,
                    "payload": _b64(decrypted[0]) if decrypted else None}) + "\n")
            self.send_response(200)
            for name, value in signal_headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(signal)))
            self.end_headers()
            self.wfile.write(signal)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(json.dumps({"listening": server.server_address[1]}), flush=True)
    server.serve_forever()


def cmd_bench(sender: _Config, receiver: _Config, sizes: list[str], runs: int, seconds: float) -> dict:
    """Full cycles in one process, as the baseline note times them: build -> parse/verify/decrypt/gunzip/SBDH ->
    signed receipt -> receipt signature + non-repudiation check. Keys, certificates and parties are loaded
    once, outside the loop, as a long-running access point holds them."""
    sender_party, receiver_party = _local_party(sender), _local_party(receiver)
    receiver_cert = _cert(receiver.cert)
    remote = create_peppol_external_party(receiver.party_id, receiver_cert)  # as4: one key pair per party
    policy = _policy(receiver)  # pins the sender's certificate

    def round_trip(payload: bytes) -> tuple[bool, bool]:
        message = build_peppol_message(
            payload, local_party=sender_party, remote_party=remote, sender=sender.sender,
            recipient=sender.recipient, document_type_identifier_scheme="busdox-docid-qns",
            document_type_identifier_value=sender.document_type, process_identifier=sender.process,
            sender_country_id=sender.country)
        body, boundary = message.get_request_data()
        headers = message.get_http_headers(boundary)
        exchange = parse_peppol_message(headers, body, receiver_party, security_policy=policy)
        _, signal = exchange.build_signal()
        receipt = parse_peppol_receipt(signal, receiver_cert)
        receipt.verify_non_repudiation(message.signed_references)
        return exchange.successful, receipt.success

    results = {}
    for spec in sizes:
        name, path = spec.split("=", 1)
        payload = Path(path).read_bytes()
        if round_trip(payload) != (True, True):
            raise SystemExit(f"as4 round trip with {name} did not succeed")
        per_run, per_cpu = [], []
        for _ in range(runs):
            gc.collect()
            count, started, cpu = 0, time.perf_counter(), time.process_time()
            while (elapsed := time.perf_counter() - started) < seconds:
                round_trip(payload)
                count += 1
            per_cpu.append(count / (time.process_time() - cpu))  # CPU time: less hurt by a busy shared machine
            per_run.append(count / elapsed)
        results[name] = {"median": statistics.median(per_run), "min": min(per_run), "max": max(per_run),
                         "cpu_median": statistics.median(per_cpu), "cpu_min": min(per_cpu),
                         "cpu_max": max(per_cpu), "runs": runs, "seconds_per_run": seconds}
    return {"as4_version": _version(), "round_trips_per_s": results}


def _version() -> str:
    import importlib.metadata

    return importlib.metadata.version("as4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build")
    build.add_argument("config")
    build.add_argument("out", type=Path)
    check = commands.add_parser("check")
    check.add_argument("config")
    check.add_argument("out", type=Path)
    check.add_argument("signal", type=Path)
    receive = commands.add_parser("receive")
    receive.add_argument("config")
    receive.add_argument("headers", type=Path)
    receive.add_argument("body", type=Path)
    receive.add_argument("out", type=Path)
    serve = commands.add_parser("serve")
    serve.add_argument("config")
    serve.add_argument("port", type=int)
    serve.add_argument("out", type=Path)
    bench = commands.add_parser("bench")
    bench.add_argument("config", help="the sender's config")
    bench.add_argument("receiver", help="the receiver's config")
    bench.add_argument("--payload", action="append", default=[], help="NAME=FILE, repeatable")
    bench.add_argument("--runs", type=int, default=7)
    bench.add_argument("--seconds", type=float, default=1.0, help="length of one timed run")
    args = parser.parse_args()
    config = _Config.load(args.config)
    if args.command == "build":
        result = cmd_build(config, args.out)
    elif args.command == "check":
        result = cmd_check(config, args.out, args.signal)
    elif args.command == "receive":
        result = cmd_receive(config, args.headers, args.body, args.out)
    elif args.command == "serve":
        cmd_serve(config, args.port, args.out)
        return
    else:
        result = cmd_bench(config, _Config.load(args.receiver), args.payload, args.runs, args.seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
