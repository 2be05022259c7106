"""API clients, their credentials, and per-client isolation for the node's REST APIs.

Other packages' APIs use these helpers and never authenticate on their own:

- ``gateway.auth.access``: ``AuthenticatedClient``, ``current_client``, ``require_roles``, ``requires``
- ``gateway.auth.ownership``: ``load_owned``, ``owned_by`` (a client sees only its own things)
- ``gateway.auth.clients``: ``ClientStore`` and ``ROLES``
"""
