"""``[[oots.data_services]]``: which data-service adapter answers which evidence type on the provider side.

Every evidence type not named here is answered by the SQL register of ``oots.registers_url`` (the sample
Latvian registers). An entry routes one evidence type to

* ``adapter = "sql"``: a register database with the sample schema (``url``, default ``oots.registers_url``);
* ``adapter = "rest"``: a JSON REST register (``url`` = its base URL; oots/dataservice/rest_adapter.py);
* ``adapter = "soap"``: a SOAP register described by ``wsdl`` (URL or file; default the bundled
  oots/dataservice/wsdl/register-evidence.wsdl), ``url`` overriding the WSDL's endpoint address.

REST and SOAP registers do not send what the response's sdg:Evidence needs about the evidence type (title,
issuing authority, the LoA the user must have): for the sample evidence types it comes from the sample
registers, for others from ``title`` / ``authority_id`` / ``authority_name`` / ``level_of_assurance``.
Problems are reported with a code at configuration load (``OOTS_DATA_SERVICE_*``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

ADAPTERS = ("sql", "rest", "soap")


class OotsDataService(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    evidence_type: str = Field(min_length=1)  # EvidenceTypeClassification
    adapter: Literal["sql", "rest", "soap"]
    url: str = ""
    wsdl: str = ""
    timeout_s: float | None = Field(default=None, gt=0)  # default: oots.register_timeout_s
    ca_file: Path | None = None  # TLS trust for an https register (default: the system's)
    bearer_token_file: Path | None = None  # REST: a file holding the bearer token (never in the config itself)
    title: str = ""
    authority_id: str = ""
    authority_name: str = ""
    # The LoA the user must have; default: the sample type's, else Substantial.
    level_of_assurance: Literal["Low", "Substantial", "High"] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.adapter == "rest" and not self.url.startswith(("http://", "https://")):
            raise ValueError("OOTS_DATA_SERVICE_URL: adapter 'rest' needs url = the register's http(s) base URL")
        if self.adapter == "soap" and self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("OOTS_DATA_SERVICE_URL: the SOAP endpoint url must be http(s)")
        if self.wsdl and self.adapter != "soap":
            raise ValueError(f"OOTS_DATA_SERVICE_WSDL: wsdl is for adapter 'soap', not {self.adapter!r}")
        if self.bearer_token_file is not None and self.adapter != "rest":
            raise ValueError("OOTS_DATA_SERVICE_TOKEN: bearer_token_file is for adapter 'rest'")
        if (self.authority_id or self.authority_name or self.title) and not (
                self.authority_id and self.authority_name and self.title):
            raise ValueError("OOTS_DATA_SERVICE_METADATA: give title, authority_id and authority_name together")
        return self


def check_unique(services: list[OotsDataService]) -> list[OotsDataService]:
    seen: set[str] = set()
    for service in services:
        if service.evidence_type in seen:
            raise ValueError(f"OOTS_DATA_SERVICE_DUPLICATE: evidence type {service.evidence_type} is routed twice")
        seen.add(service.evidence_type)
    return services
