"""The signed, tamper-evident audit log (``gateway/audit``).

Protocol packages never import this package. Each declares the port it needs as a ``typing.Protocol``
of this shape, and the node shell passes in the running :class:`~gateway.audit.log.AuditLog`, which
satisfies it structurally::

    class AuditSink(Protocol):
        async def append(self, event: str, actor: str, subject: str | None = None,
                         details: Mapping[str, Any] | None = None, *,
                         correlation_id: str | None = None) -> int: ...

Events are named ``<area>.<event>`` (``as4.message.received``); ``subject`` is a person identifier, stored
only as a keyed hash; ``details`` are facts (ids, codes, decisions), never evidence content.
"""
