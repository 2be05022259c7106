"""OOTS common services: Evidence Broker and Data Service Directory over the RegRep 4 REST query binding.

Pure parts (query parameters, response codec, detached JWS) and a thin aiohttp client; plus a simulator that
serves a YAML catalogue with signed answers, for tests and demos.
"""
