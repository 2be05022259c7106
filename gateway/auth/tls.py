"""TLS for the API server: the server context (client certificates optional, verified against the
configured client CA) and reading the peer certificate of a request.

The TLS stack does the chain check: a certificate that does not chain to ``http.client_ca`` fails the
handshake, so a certificate that reaches the middleware is trusted and only needs to be registered.
Client certificates must reach the node directly; a TLS-terminating proxy in front would hide them (and
headers claiming a certificate are never trusted).
"""

from __future__ import annotations

import ssl

from aiohttp import web

from gateway.config import ConfigError, HttpSection


def server_ssl_context(http: HttpSection) -> ssl.SSLContext | None:
    """The server context for ``[http]``, or None when TLS is not configured (plain HTTP)."""
    if http.tls_cert is None:
        if http.tls_key is not None or http.client_ca is not None:
            raise ConfigError("http.tls_cert", "tls_key and client_ca need tls_cert as well")
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(http.tls_cert, http.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError("http.tls_cert", f"cannot load certificate/key: {exc}") from None
    if http.client_ca is not None:
        try:
            context.load_verify_locations(cafile=http.client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError("http.client_ca", f"cannot load CA certificates: {exc}") from None
        # Optional: clients that authenticate with bearer tokens need not have a certificate; a
        # certificate that is presented must still verify, or the handshake fails.
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


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
