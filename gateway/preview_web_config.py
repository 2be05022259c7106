"""The ``[preview_space]`` configuration section: the provider-side pages where a person previews evidence.

The pages answer under the path of ``oots.preview_base_url`` (the PreviewLocation base, which must be https:
the EDM rules OOTS-REQ-006 / OOTS-ERR-010 refuse anything else). Its origin is where browsers reach them:
the node's own listener behind an https front, or ``port`` with ``tls_cert``/``tls_key`` for a listener of
its own (development: a self-signed loopback certificate, see gateway/preview_web_dev.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PreviewSpaceSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    enabled: bool = False
    # A listener of its own (0: served by the node's main listener), on http.host, with TLS.
    port: int = Field(default=0, ge=0, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Return URLs the pages send the user back to: allowed origins per requester id ("*": any requester).
    return_origins: dict[str, list[str]] = {}
    # Logins offered: the foreign eID through the node's eIDAS connector (needs eidas.enabled), and the
    # national login. national_idp = "simulated" runs the development Latvian IdP inside the node.
    foreign_login: bool = True
    national_idp: str = Field(default="", pattern=r"^(|simulated)$")
    session_ttl_s: int = Field(default=1800, ge=60, le=86_400)

    @field_validator("return_origins", mode="before")
    @classmethod
    def _json_from_text(cls, value: object) -> object:
        if isinstance(value, str):  # GATEWAY_PREVIEW_SPACE__RETURN_ORIGINS='{"*": ["https://portal.gov.lv"]}'
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("expected JSON") from None
        return value

    def origins_for(self, requester: str) -> list[str]:
        return [*self.return_origins.get(requester, []), *self.return_origins.get("*", [])]
