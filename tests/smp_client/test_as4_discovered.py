"""Done-when of issue 7: a message reaches a partner known only by participant identifier, through a real DNS
server (dnsmasq) and an SMP (the local publisher, SMP 2.0 with typed certificates), every verification on
(https required for the SML answer, the SMP and the endpoint, TLS certificates checked against the dev CA,
SMP signature against the SMP trust store, partner certificates against the network's AS4 anchor), on
eDelivery AS4 1.15 and 2.0. The receiver is a real node with its existing ``/as4`` route."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from as4.model import AgreementRef, CollaborationInfo, MessageInfo, Party, PartyId, PartyInfo, Service, UserMessage
from as4.parts import Part
from as4.pipeline import build_outbound, check_response, new_message_id
from as4.pmode import PModeParty, signer_resolver
from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0, As4Profile
from gateway.as4_pmodes import PModeStore
from gateway.db.schema import as4_inbound
from gateway.runtime import Node
from gateway.smp_discovery import SmpDiscovery, client_tls, discover_agreement
from gateway.smp_publisher import build_documents, publisher_app
from gateway.web.app import build_app
from pki.keys.port import KeyPurpose
from smp_client import identifiers
from smp_client.errors import SmpError
from smp_client.hashing import dns_name
from smp_client.lookup import Network
from smp_client.model import (
    BDXR_AS4,
    CertificateUse,
    Endpoint,
    EndpointCertificate,
    Flavour,
    ProcessGroup,
    ServiceMetadata,
)
from smp_client.sml import SmlNetwork
from tests.as4.secfixtures import pki
from tests.conftest import make_settings
from tests.smp_client.dnsmasq import Dnsmasq, DnsZone, Naptr
from tests.smp_client.servers import server_tls, start_app
from tests.smp_client.smpfixtures import smp_keys

ZONE = "sml.as4.example"
UNREG = "urn:oasis:names:tc:ebcore:partyid-type:unregistered"
ROLE_I = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator"
ROLE_R = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder"
SERVICE = "urn:oots:evidence"
ACTION = "ExecuteQueryRequest"
RECEIVER = identifiers.participant("urn:oasis:names:tc:ebcore:partyid-type:iso6523:0088:4035811991021")
DOC = identifiers.document_type("urn:oots::QueryRequest")
PROCESS = identifiers.process(SERVICE)
QUERY = b"<q:QueryRequest xmlns:q='urn:q'><q:Slot/></q:QueryRequest>"


def _receiver_pmode(directory: Path, profile: As4Profile) -> Path:
    """Node B's static inbound PMode: it knows the sender EE-AP; the sender knows B only by participant id."""
    keys = pki()
    cert = keys.signer(keys.partner, profile).certificate
    assert cert is not None
    (directory / "ee-signing.pem").write_bytes(cert.public_bytes(Encoding.PEM))
    path = directory / "ee.toml"
    path.write_text(
        "[[pmode]]\n"
        'id = "ee-in"\n'
        f'profile = "{profile.name}"\n'
        f'action = "{ACTION}"\n'
        'endpoint = "https://ap.ee.example/as4"\n'
        f'initiator = {{ party_id = "EE-AP", party_id_type = "{UNREG}", role = "{ROLE_I}" }}\n'
        f'responder = {{ party_id = "LV-GW", party_id_type = "{UNREG}", role = "{ROLE_R}" }}\n'
        f'service = {{ value = "{SERVICE}" }}\n'
        'signing_certificates = ["ee-signing.pem"]\n', encoding="utf-8")
    return path


def _published_endpoint(address: str, profile: As4Profile) -> Endpoint:
    keys = pki()
    signing = keys.signer(keys.node, profile).certificate
    assert signing is not None
    encryption = keys.encryption_cert(keys.node, profile)
    use = CertificateUse.ENCRYPTION if profile.encryption_family == "rsa" else CertificateUse.KEY_EXCHANGE
    code = "urn:edelivery:smp:certificate:" + ("encryption" if use is CertificateUse.ENCRYPTION else "key-exchange")
    return Endpoint(BDXR_AS4, address, (EndpointCertificate(signing, CertificateUse.SIGNING,
                                                            "urn:edelivery:smp:certificate:signing"),
                                        EndpointCertificate(encryption, use, code)))


@pytest.mark.parametrize("profile", [EDELIVERY_1_15, EDELIVERY_2_0], ids=lambda p: p.name)
async def test_message_reaches_partner_known_only_by_participant_id(
        tmp_path: Path, dnsmasq: Callable[[DnsZone], Dnsmasq], profile: As4Profile) -> None:
    keys = pki()
    settings = make_settings(tmp_path / "b", f"sqlite:///{tmp_path / 'b.db'}", pki__dir=str(keys.node_dir))
    node = await Node.open(settings)
    await PModeStore(node.engine).load_file(_receiver_pmode(tmp_path, profile))
    b_runner, b_base = await start_app(build_app(node), tls=server_tls())
    assert b_base.startswith("https://")
    service = ServiceMetadata(Flavour.OASIS_2, RECEIVER, DOC,
                              (ProcessGroup((PROCESS,), (_published_endpoint(f"{b_base}/as4", profile),)),))
    smp_runner, smp_base = await start_app(publisher_app(build_documents([service], smp_keys().signer)),
                                           tls=server_tls())
    server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(RECEIVER, ZONE), f"!.*!{smp_base}!")]))
    network = Network("oots-test", SmlNetwork(ZONE, require_https=True), smp_keys().trust, api="oasis-2",
                      require_https_endpoint=True, nameserver=server.address)
    discovery = SmpDiscovery(network, engine=None)
    discovery.tls = client_tls(keys.node_dir / "trust")
    try:
        pmode, found = await discover_agreement(
            discovery, participant=RECEIVER.full, document_type=DOC, process=PROCESS,
            initiator=PModeParty("EE-AP", ROLE_I, UNREG), as4_trust=keys.node_dir / "trust",
            responder_party_id="LV-GW", responder_party_id_type=UNREG, action=ACTION)
        assert pmode.profile is profile and not found.stale and pmode.trust_store_dir is not None
        message = UserMessage(
            MessageInfo(datetime.now(UTC), new_message_id("partner.test")),
            PartyInfo(Party((PartyId(pmode.initiator.party_id, pmode.initiator.party_id_type),), pmode.initiator.role),
                      Party((PartyId(pmode.responder.party_id, pmode.responder.party_id_type),), pmode.responder.role)),
            CollaborationInfo(Service(pmode.service.value, pmode.service.type), pmode.action, "conv-1",
                              AgreementRef(pmode.agreement_ref) if pmode.agreement_ref else None),
        )
        outbound = build_outbound(message, [Part.from_bytes("q@partner.test", "application/xml", QUERY)],
                                  pmode.profile,
                                  signer=keys.partner.signer(KeyPurpose.AS4_SIGNING, family=profile.signing_family),
                                  recipient_certificate=pmode.encryption_certificate)
        connector = aiohttp.TCPConnector(ssl=client_tls(keys.node_dir / "trust"))
        async with aiohttp.ClientSession(connector=connector) as http, http.post(
                pmode.endpoint, data=b"".join(outbound.body), headers={"Content-Type": outbound.content_type}) as resp:
            status, content_type, body = resp.status, resp.headers["Content-Type"], await resp.read()
        assert status == 200, body[:500]
        receipt = check_response(content_type, body, outbound, profile=pmode.profile,
                                 signer_resolver=signer_resolver(pmode), key_store=keys.partner)
        assert receipt.message_info.ref_to_message_id == outbound.message_id
        assert pmode.endpoint.startswith("https://localhost:") and found.smp_url.startswith("https://localhost:")
        async with node.engine.connect() as conn:
            rows = (await conn.execute(select(as4_inbound))).all()
        assert [r.message_id for r in rows] == [outbound.message_id]
    finally:
        await discovery.close()
        await smp_runner.cleanup()
        await b_runner.cleanup()
        await node.close()


async def test_discovered_partner_outside_the_network_pki_refused(
        tmp_path: Path, dnsmasq: Callable[[DnsZone], Dnsmasq]) -> None:
    keys = pki()
    rogue_signing = keys.signer(keys.rogue, EDELIVERY_1_15).certificate
    assert rogue_signing is not None
    endpoint = Endpoint(BDXR_AS4, "http://127.0.0.1:9/as4", (
        EndpointCertificate(rogue_signing, CertificateUse.SIGNING, "signing"),
        EndpointCertificate(keys.encryption_cert(keys.rogue, EDELIVERY_1_15), CertificateUse.ENCRYPTION, "encryption")))
    service = ServiceMetadata(Flavour.OASIS_2, RECEIVER, DOC, (ProcessGroup((PROCESS,), (endpoint,)),))
    smp_runner, smp_base = await start_app(publisher_app(build_documents([service], smp_keys().signer)))
    server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(RECEIVER, ZONE), f"!.*!{smp_base}!")]))
    network = Network("oots-test", SmlNetwork(ZONE, require_https=False), smp_keys().trust, api="oasis-2",
                      require_https_endpoint=False, nameserver=server.address)
    discovery = SmpDiscovery(network, engine=None)
    try:
        with pytest.raises(SmpError) as caught:
            await discover_agreement(discovery, participant=RECEIVER, document_type=DOC, process=PROCESS,
                                     initiator=PModeParty("EE-AP", ROLE_I, UNREG), as4_trust=keys.trust)
        assert caught.value.code == "SMP_ENDPOINT_CERT_UNTRUSTED"
    finally:
        await discovery.close()
        await smp_runner.cleanup()


async def test_smp_with_an_untrusted_tls_certificate_is_unreachable(dnsmasq: Callable[[DnsZone], Dnsmasq]) -> None:
    """The SMP's HTTPS certificate is checked: without the dev CA among the trusted CAs, no answer is read."""
    service = ServiceMetadata(Flavour.OASIS_2, RECEIVER, DOC, (ProcessGroup((PROCESS,), (
        _published_endpoint("https://localhost:9/as4", EDELIVERY_1_15),)),))
    smp_runner, smp_base = await start_app(publisher_app(build_documents([service], smp_keys().signer)),
                                           tls=server_tls())
    server = dnsmasq(DnsZone(naptr=[Naptr(dns_name(RECEIVER, ZONE), f"!.*!{smp_base}!")]))
    network = Network("oots-test", SmlNetwork(ZONE), smp_keys().trust, api="oasis-2", nameserver=server.address)
    discovery = SmpDiscovery(network, engine=None)  # the system's CAs: the dev CA is not among them
    try:
        with pytest.raises(SmpError) as caught:
            await discovery.lookup(RECEIVER, DOC, PROCESS)
        assert caught.value.code == "SMP_UNREACHABLE" and "certificate" in caught.value.message.lower()
        discovery.tls = client_tls(pki().node_dir / "trust")
        await discovery.close()  # a new session with the dev CA trusted
        assert (await discovery.lookup(RECEIVER, DOC, PROCESS)).endpoint.address == "https://localhost:9/as4"
    finally:
        await discovery.close()
        await smp_runner.cleanup()
