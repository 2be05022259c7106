"""A foreign eIDAS proxy service on loopback, for tests and ``make run``: real SAML, deliberate faults."""
