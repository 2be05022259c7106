"""Keys behind a port: protocol code asks for "the current AS4 signing key", never for a file."""
