"""OpenAPI 3.1 description of the AS4 backend API (served at ``/api/as4/openapi.json``; tests check that every
route of gateway.as4_backend_api is described and every described route exists)."""

from __future__ import annotations

from typing import Any


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


_ID = {"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"},
       "description": "ebMS MessageId"}
_LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
_COMMON_ERRORS = {"401": _problem("not authenticated"), "403": _problem("the client lacks the portal or register role")}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Gateway node: AS4 backend API",
        "version": "1.0.0",
        "description": (
            "National systems send and receive eDelivery AS4 messages through the node. Authenticate with a "
            "TLS client certificate or an OAuth2 client-credentials bearer token (POST /oauth2/token). A client "
            "sees only its own messages. Received messages are delivered by webhook push (signed with "
            "X-Gateway-Signature: t=<unix>,v1=HMAC-SHA256(secret, '<t>.' + JSON part)) or by pull + ack."),
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "mtls": {"type": "mutualTLS"},
        },
        "schemas": {
            "Problem": {"type": "object", "required": ["type", "title", "status", "code"], "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "code": {"type": "string"}, "detail": {"type": "string"}, "correlation_id": {"type": "string"}}},
            "Metadata": {"type": "object", "required": ["pmode_id"], "additionalProperties": False, "properties": {
                "pmode_id": {"type": "string"}, "action": {"type": "string"}, "service": {"type": "string"},
                "service_type": {"type": "string"}, "conversation_id": {"type": "string"},
                "ref_to_message_id": {"type": "string"},
                "properties": {"type": "array", "items": {"type": "object", "required": ["name", "value"],
                                                          "properties": {"name": {"type": "string"},
                                                                         "value": {"type": "string"},
                                                                         "type": {"type": "string"}}}}}},
            "SentStatus": {"type": "object", "properties": {
                "direction": {"const": "outbound"}, "message_id": {"type": "string"}, "pmode_id": {"type": "string"},
                "status": {"enum": ["pending", "sending", "delivered", "failed"]},
                "attempts": {"type": "integer"}, "next_attempt_at": {"type": "string"},
                "expires_at": {"type": "string"}, "last_error_code": {"type": ["string", "null"]},
                "last_error_text": {"type": ["string", "null"]}, "receipt": {"type": "boolean"}}},
            "Party": {"type": "object", "properties": {"ids": {"type": "array"}, "role": {"type": "string"}}},
            "ReceivedMessage": {"type": "object", "properties": {
                "message_id": {"type": "string"}, "timestamp": {"type": "string"},
                "ref_to_message_id": {"type": ["string", "null"]}, "from": {"$ref": "#/components/schemas/Party"},
                "to": {"$ref": "#/components/schemas/Party"}, "service": {"type": "object"},
                "action": {"type": "string"}, "conversation_id": {"type": "string"},
                "agreement_ref": {"type": ["string", "null"]}, "properties": {"type": "array"},
                "pmode_id": {"type": "string"}, "received_at": {"type": "string"},
                "status": {"enum": ["received", "delivered"]},
                "payloads": {"type": "array", "items": {"type": "object", "properties": {
                    "index": {"type": "integer"}, "content_id": {"type": "string"},
                    "content_type": {"type": "string"}, "size": {"type": "integer"},
                    "sha256": {"type": "string"}}}}}},
        },
    },
    "security": [{"bearer": []}, {"mtls": []}],
    "paths": {
        "/api/as4/messages": {
            "post": {
                "summary": "Submit a message: stored durably before the answer; sent by the node's sender",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"type": "object", "required": ["metadata", "payload"], "properties": {
                        "metadata": {"$ref": "#/components/schemas/Metadata"},
                        "payload": {"type": "array", "items": {"type": "string", "format": "binary"}}}},
                    "encoding": {"metadata": {"contentType": "application/json"}}}}},
                "responses": {
                    "202": {"description": "accepted", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"message_id": {"type": "string"},
                                                         "status": {"const": "pending"}}}}}},
                    "400": _problem("invalid metadata or parts (code invalid-request)"),
                    "404": _problem("unknown PMode, or one reserved for another client (code unknown-pmode)"),
                    "413": _problem("payloads over the PMode's limit (code payload-too-large)"),
                    **_COMMON_ERRORS},
            },
            "get": {"summary": "The caller's sent messages, newest first",
                    "parameters": [_LIMIT, {"name": "status", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "list", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"messages": {"type": "array", "items": {
                            "$ref": "#/components/schemas/SentStatus"}}}}}}}, **_COMMON_ERRORS}},
        },
        "/api/as4/messages/{message_id}": {
            "get": {"summary": "State of a sent message", "parameters": [_ID],
                    "responses": {"200": {"description": "state", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/SentStatus"}}}},
                        "404": _problem("unknown (or another client's) message"), **_COMMON_ERRORS}},
        },
        "/api/as4/inbox": {
            "get": {"summary": "Received messages waiting (status=received) or delivered",
                    "parameters": [_LIMIT, {"name": "status", "in": "query",
                                            "schema": {"enum": ["received", "delivered"]}}],
                    "responses": {"200": {"description": "list", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"messages": {"type": "array", "items": {
                            "$ref": "#/components/schemas/ReceivedMessage"}}}}}}}, **_COMMON_ERRORS}},
        },
        "/api/as4/inbox/{message_id}": {
            "get": {"summary": "One received message", "parameters": [_ID],
                    "responses": {"200": {"description": "message", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ReceivedMessage"}}}},
                        "404": _problem("unknown (or another client's) message"), **_COMMON_ERRORS}},
        },
        "/api/as4/inbox/{message_id}/payloads/{index}": {
            "get": {"summary": "Download a payload (streamed; X-Content-SHA256 names its digest)",
                    "parameters": [_ID, {"name": "index", "in": "path", "required": True,
                                         "schema": {"type": "integer", "minimum": 0}}],
                    "responses": {"200": {"description": "the payload bytes",
                                          "content": {"application/octet-stream": {}}},
                                  "404": _problem("no such message or payload"),
                                  "410": _problem("deleted after delivery (retention)"), **_COMMON_ERRORS}},
        },
        "/api/as4/inbox/{message_id}/ack": {
            "post": {"summary": "Acknowledge a pulled message: it becomes delivered (once)", "parameters": [_ID],
                     "responses": {"200": {"description": "delivered"},
                                   "404": _problem("unknown (or another client's) message"), **_COMMON_ERRORS}},
        },
        "/api/as4/webhook": {
            "get": {"summary": "The registered webhook", "responses": {
                "200": {"description": "url"}, "404": _problem("none registered"), **_COMMON_ERRORS}},
            "put": {"summary": "Register (or replace) the webhook; answers a new signing secret once",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}}}},
                    "responses": {"200": {"description": "registered (url, secret)"},
                                  "400": _problem("not an https URL (code invalid-webhook-url)"), **_COMMON_ERRORS}},
            "delete": {"summary": "Remove the webhook (messages then wait for pull)", "responses": {
                "204": {"description": "removed"}, "404": _problem("none registered"), **_COMMON_ERRORS}},
        },
        "/api/as4/openapi.json": {
            "get": {"summary": "This description", "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}}},
        },
    },
}
