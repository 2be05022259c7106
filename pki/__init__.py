"""Keys, certificates, trust stores and the one XML-security layer every protocol package uses.

Filled in by the pki issues; other packages depend on it, never the reverse.
"""
