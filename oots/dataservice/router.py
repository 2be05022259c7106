"""A data-service adapter that dispatches by evidence type (pure): each configured type to its own adapter
(SQL, REST, SOAP), every other type the default adapter serves to the default (the SQL register)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from oots.dataservice.port import DataServiceAdapter, DataServiceError, EvidenceDocument, EvidenceQuery


class RegisterAdapter(DataServiceAdapter, Protocol):
    @property
    def required_loa(self) -> dict[str, str]: ...


class DataServiceRouter:
    def __init__(self, routes: Mapping[str, RegisterAdapter], default: RegisterAdapter | None = None) -> None:
        for evidence_type, adapter in routes.items():
            if evidence_type not in adapter.evidence_types:
                raise ValueError(f"the adapter routed {evidence_type} to does not serve it")
        self._routes = dict(routes)
        self._default = default

    def adapter_for(self, evidence_type: str) -> RegisterAdapter | None:
        routed = self._routes.get(evidence_type)
        if routed is not None:
            return routed
        if self._default is not None and evidence_type in self._default.evidence_types:
            return self._default
        return None

    @property
    def evidence_types(self) -> frozenset[str]:
        default = self._default.evidence_types if self._default is not None else frozenset()
        return frozenset(self._routes) | default

    @property
    def required_loa(self) -> dict[str, str]:
        """Per type, the LoA of the adapter that answers it (a routed type overrides the default's)."""
        loa = dict(self._default.required_loa) if self._default is not None else {}
        loa.update({t: a.required_loa[t] for t, a in self._routes.items()})
        return loa

    async def fetch(self, query: EvidenceQuery) -> list[EvidenceDocument]:
        adapter = self.adapter_for(query.evidence_type)
        if adapter is None:
            raise DataServiceError("EVIDENCE_TYPE_UNKNOWN", f"no data service provides {query.evidence_type}")
        return await adapter.fetch(query)
