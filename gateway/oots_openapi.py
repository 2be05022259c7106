"""OpenAPI 3.1 description of the OOTS requester API for portals (served at ``/api/oots/openapi.json``; a test
checks every route of gateway.oots_requester_api is described and every described route exists)."""

from __future__ import annotations

from typing import Any


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


_ID = {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ERRORS = {"401": _problem("not authenticated"), "403": _problem("the client lacks the portal role"),
           "404": _problem("no such request (or another portal's)")}
_SECURITY = [{"bearer": []}, {"mtls": []}]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Gateway node: OOTS evidence requests for procedure portals",
        "version": "1.0.0",
        "description": (
            "A portal asks for evidence about its authenticated user (MDS + LoA from its eIDAS session). The node "
            "queries the Evidence Broker and the Data Service Directory, sends EDM requests over AS4 and collects "
            "the evidence. States: discovering → input-required (answer the DSD's questions) → exchanging → "
            "preview-required (redirect the user to each exchange's redirect_url) → completed | failed. Changes "
            "are pushed to notify_url (X-OOTS-Signature: t=<unix>,v1=HMAC-SHA256(notify_secret, '<t>.' + body)) "
            "and can be polled."),
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "mtls": {"type": "mutualTLS"}},
        "schemas": {
            "Problem": {"type": "object", "required": ["title", "status", "code"], "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "code": {"type": "string"}, "detail": {"type": "string"}}},
            "Person": {"type": "object", "required": ["family_name", "given_name", "date_of_birth", "identifier",
                                                      "level_of_assurance"], "properties": {
                "family_name": {"type": "string"}, "given_name": {"type": "string"},
                "date_of_birth": {"type": "string", "format": "date"},
                "identifier": {"type": "string", "description": "eIDAS PersonIdentifier XX/YY/…"},
                "level_of_assurance": {"enum": ["Low", "Substantial", "High"]}}},
            "NewRequest": {"type": "object", "required": ["procedure", "country", "person"], "properties": {
                "procedure": {"type": "string", "examples": ["T2"]},
                "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "requirements": {"type": "array", "items": {"type": "string"},
                                 "description": "a subset of the procedure's requirements (default: all)"},
                "person": {"$ref": "#/components/schemas/Person"},
                "preview_allowed": {"type": "boolean", "default": True},
                "return_url": {"type": "string", "format": "uri"},
                "notify_url": {"type": "string", "format": "uri"}}},
            "Exchange": {"type": "object", "properties": {
                "id": {"type": "string"}, "state": {"enum": ["sent", "preview", "evidence", "no-evidence", "failed"]},
                "evidence_type": {"type": "string"}, "provider": {"type": "string"},
                "access_service": {"type": "string"}, "edm_version": {"type": "string"},
                "message_id": {"type": "string"}, "edm_request_id": {"type": "string"},
                "second_request": {"type": "boolean"}, "preview_location": {"type": ["string", "null"]},
                "redirect_url": {"type": ["string", "null"]}, "deadline": {"type": "string"},
                "error": {"type": ["object", "null"]}}},
            "Request": {"type": "object", "properties": {
                "id": {"type": "string"},
                "state": {"enum": ["discovering", "input-required", "exchanging", "preview-required", "completed",
                                   "failed"]},
                "procedure": {"type": "string"}, "country": {"type": "string"},
                "error": {"type": ["object", "null"]}, "input_required": {"type": ["array", "null"]},
                "exchanges": {"type": "array", "items": {"$ref": "#/components/schemas/Exchange"}},
                "evidence": {"type": "array", "items": {"type": "object"}},
                "notify_secret": {"type": "string", "description": "only in the answer to the creation"}}},
        },
    },
    "paths": {
        "/api/oots/openapi.json": {"get": {"summary": "This description", "security": _SECURITY,
                                           "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        "/api/oots/requests": {
            "post": {"summary": "Create an evidence request", "security": _SECURITY,
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/NewRequest"}}}},
                     "responses": {"201": _json("#/components/schemas/Request", "created"),
                                   "400": _problem("invalid request (code names the field)"), **_ERRORS}},
            "get": {"summary": "The caller's requests", "security": _SECURITY,
                    "responses": {"200": {"description": "list"}, **_ERRORS}},
        },
        "/api/oots/requests/{request_id}": {"get": {
            "summary": "One request", "security": _SECURITY, "parameters": [_ID],
            "responses": {"200": _json("#/components/schemas/Request", "the request"), **_ERRORS}}},
        "/api/oots/requests/{request_id}/input": {"post": {
            "summary": "Answer the DSD's questions (DSD:ERR:0005)", "security": _SECURITY, "parameters": [_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"answers": {"type": "object",
                                                             "additionalProperties": {"type": "string"}}}}}}},
            "responses": {"200": _json("#/components/schemas/Request", "the request"),
                          "409": _problem("the request does not wait for input"), **_ERRORS}}},
        "/api/oots/requests/{request_id}/evidence/{evidence_id}": {"get": {
            "summary": "Download one evidence", "security": _SECURITY,
            "parameters": [_ID, {"name": "evidence_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the bytes; X-Content-SHA256 header"}, **_ERRORS}}},
    },
}
