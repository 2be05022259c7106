"""eIDAS connector: foreign eID login over eIDAS SAML, response checks, identity mapping."""
