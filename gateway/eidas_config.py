"""The ``[eidas]`` configuration section: the connector's own URLs, countries offered, policies."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_LOAS = Literal["low", "substantial", "high"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class EidasCountry(_Section):
    # Where the proxy service's metadata is fetched, and the certificates that may sign it (PEM files).
    metadata_url: str
    trust_anchors: list[Path] = []
    name_lv: str = ""
    name_en: str = ""


class EidasPortal(_Section):
    # A Latvian portal (national SAML SP), registered by its metadata file and the certificate that signs it.
    metadata: Path
    trust_anchor: Path


class EidasSection(_Section):
    enabled: bool = False
    # Base URL under which the node is reached by browsers: our entity id is <public_url>/eidas/metadata, the
    # ACS <public_url>/eidas/acs (both published in our metadata and expected in every response).
    public_url: str = "http://127.0.0.1:8480"
    sp_type: Literal["public", "private"] = "public"
    default_loa: _LOAS = "substantial"
    signing_family: Literal["ec", "rsa"] = "ec"
    # Also ask (optionally, isRequired="false") for the legal person minimum data set (representatives).
    request_legal_person: bool = True
    clock_skew_s: int = Field(default=60, ge=0, le=600)
    response_max_age_s: int = Field(default=300, ge=30, le=3600)
    request_ttl_s: int = Field(default=600, ge=60, le=3600)
    metadata_refresh_s: int = Field(default=3600, ge=60)
    metadata_valid_s: int = Field(default=86_400, ge=3600)
    # What identity mapping does when no register record matches: create a foreign person record, or refuse.
    unmatched: Literal["register", "refuse"] = "register"
    countries: dict[str, EidasCountry] = {}
    portals: dict[str, EidasPortal] = {}
    # Development: run the foreign proxy-service simulator inside the node for these country codes.
    simulator_countries: list[str] = []
    # Development: run the demo portal inside the node too (its URL is logged at start).
    demo_portal: bool = False

    @field_validator("simulator_countries", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # From the environment: GATEWAY_EIDAS__SIMULATOR_COUNTRIES=DE,EE,LT
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @property
    def entity_id(self) -> str:
        return self.public_url.rstrip("/") + "/eidas/metadata"

    @property
    def acs_url(self) -> str:
        return self.public_url.rstrip("/") + "/eidas/acs"
