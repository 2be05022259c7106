"""TLS for the API listener: TLS 1.2+, optional client certificates against the configured client CA."""

from __future__ import annotations

import ssl

from gateway.config import ConfigError, HttpSection


def server_context(http: HttpSection) -> ssl.SSLContext | None:
    if http.tls_cert is None and http.tls_key is None:
        if http.client_ca is not None:
            raise ConfigError("http.client_ca", "client certificates need TLS: set http.tls_cert and http.tls_key")
        return None
    if http.tls_cert is None or http.tls_key is None:
        raise ConfigError("http.tls_cert", "set both http.tls_cert and http.tls_key, or neither")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(http.tls_cert, http.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError("http.tls_cert", f"cannot load certificate/key: {exc}") from None
    if http.client_ca is not None:
        try:
            context.load_verify_locations(cafile=str(http.client_ca))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError("http.client_ca", f"cannot load client CA: {exc}") from None
        # Optional: bearer-token clients connect without a certificate; a certificate that is sent must verify.
        context.verify_mode = ssl.CERT_OPTIONAL
    return context
