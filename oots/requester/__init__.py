"""Requester side: EDM requests built from the common services' answers (pure)."""
