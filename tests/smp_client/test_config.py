"""``[smp]`` configuration: one default network plus ``[smp.networks.<name>]`` overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_settings
from gateway.smp_network import network_from_settings
from smp_client.hashing import HashMode
from tests.smp_client.smpfixtures import smp_keys


def _settings(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ={}, default_file=False)


def test_networks_inherit_and_override(tmp_path: Path) -> None:
    trust = smp_keys().pki.node_dir / "trust"
    settings = _settings(tmp_path, f"""
[smp]
network = "oots"
sml_zone = "acc.edelivery.tech.ec.europa.eu"
trust_dir = "{trust}"
receiver_party_id_type = "urn:oasis:names:tc:ebcore:partyid-type:unregistered:oots"

[smp.networks.peppol]
sml_zone = "edelivery.tech.ec.europa.eu"
hash_mode = "peppol-naptr"
receiver_party_id_type = "urn:fdc:peppol.eu:2017:identifiers:ap"
""")
    peppol = settings.smp.for_network("peppol")
    assert (peppol.network, peppol.hash_mode, peppol.trust_dir) == ("peppol", "peppol-naptr", trust)
    assert settings.smp.for_network(None) is settings.smp
    network = network_from_settings(peppol)
    assert network.name == "peppol" and network.sml.mode is HashMode.PEPPOL_NAPTR
    assert network.trust.name == "smp:peppol"
    with pytest.raises(ConfigError) as caught:
        settings.smp.for_network("nope")
    assert "peppol" in str(caught.value)


def test_bad_network_override_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, "[smp.networks.x]\nhash_mode = 'md5'\n")
    assert "smp.networks" in str(caught.value)


def test_trust_store_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        network_from_settings(_settings(tmp_path, "[smp]\n").smp)
    assert caught.value.key == "smp.trust_dir"


def test_ttl_bounds_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, "[smp]\nmin_ttl_s = 100\nmax_ttl_s = 10\n")
    assert "min_ttl_s" in str(caught.value)
