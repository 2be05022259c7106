"""Namespace URIs of the XML-security layer."""

DS = "http://www.w3.org/2000/09/xmldsig#"
DS11 = "http://www.w3.org/2009/xmldsig11#"
DSIG_MORE = "http://www.w3.org/2007/05/xmldsig-more#"
EC = "http://www.w3.org/2001/10/xml-exc-c14n#"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

X509V3_TOKEN = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
SKI_KEY_IDENTIFIER = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier"
BASE64_ENCODING = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

# Attributes that carry element IDs for same-document references, in the order we look for them.
ID_ATTRIBUTES: tuple[str, ...] = (f"{{{WSU}}}Id", "ID", "Id")


def q(ns: str, local: str) -> str:
    """Clark notation {ns}local."""
    return f"{{{ns}}}{local}"
