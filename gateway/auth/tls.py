"""The TLS client certificate of an API request.

The server context (gateway/web/tls.py) asks for an optional client certificate and the TLS stack checks
it against ``http.client_ca``: a certificate that does not chain to it fails the handshake, so one that
reaches the middleware is trusted and only needs to be registered.
Client certificates must reach the node directly; a TLS-terminating proxy in front would hide them (and
headers claiming a certificate are never trusted).
"""

from __future__ import annotations

from aiohttp import web


def peer_certificate_der(request: web.Request) -> bytes | None:
    """The verified client certificate (DER) of the request's TLS connection, if any."""
    transport = request.transport
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return der or None
