"""The XML-security layer every protocol package uses: hardened parsing, c14n, XML-DSig (and XML-Enc next)."""
