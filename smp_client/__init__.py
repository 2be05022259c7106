"""SML/SMP dynamic discovery: participant identifiers, SML DNS names and lookups, SMP 1.0 / Peppol / 2.0
documents (parse, verify, select), the discovery cache, and OOTS common-services discovery.

Pure cores (identifiers, hashing, naptr, parse, verify, select, publish, cache) and thin I/O shells (sml:
dnspython, http: aiohttp, lookup). Depends only on pki/; the node wiring is in gateway/smp_*.py.
"""
