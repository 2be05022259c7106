"""Data-service adapters: how the provider obtains evidence from a national register (port + SQL adapter)."""
