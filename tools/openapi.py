"""The OpenAPI document of the whole API, built from the three functions' routes and models.

``python -m tools.openapi > docs/openapi.json`` (``make openapi``) writes it; a test fails when the
committed document and the code disagree.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

FUNCTIONS = ("add_connection", "test_connection", "get_status")
PUBLIC = {("/egress-ips", "get"), ("/exchanges", "get")}
GATEWAY_MESSAGE = {
    "title": "GatewayMessage",
    "description": (
        "API Gateway's own body, not the service's: 401 from the JWT authorizer (no valid access "
        'token: {"message": "Unauthorized"}) and 404 for a route or method that does not exist '
        '({"message": "Not Found"}, also for TRACE and other methods no route has).'
    ),
    "type": "object",
    "properties": {"message": {"type": "string", "title": "Message"}},
    "required": ["message"],
}


def build() -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name in FUNCTIONS:
        app = importlib.import_module(f"functions.{name}.app").app
        schema = json.loads(
            app.get_openapi_json_schema(
                title="BackFuture AI exchange connections",
                version="1.0.0",
                summary="Connect exchange API keys safely and test them from the platform's fixed IPs.",
            )
        )
        if not document:
            document = {key: value for key, value in schema.items() if key not in ("paths", "components")}
            document["paths"] = {}
            document["components"] = {"schemas": {}}
        for path, operations in schema.get("paths", {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    document["components"]["securitySchemes"] = {
        "jwt": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Cognito access token; API Gateway's JWT authorizer verifies it.",
        }
    }
    document["components"]["schemas"]["GatewayMessage"] = GATEWAY_MESSAGE
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (path, method) not in PUBLIC:
                operation["security"] = [{"jwt": []}]
                # API Gateway's JWT authorizer answers a missing or invalid token itself; the
                # function never sees the request (contract, "Error codes").
                operation["responses"]["401"] = {
                    "description": "No valid access token: API Gateway's own body",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/GatewayMessage"}}
                    },
                }
            if "{" in path:
                # A path whose parameter makes it match no route (an empty id, say) gets the
                # gateway's 404; an id that names nothing of the caller's gets the service's.
                service_404 = operation["responses"].get("404", {}).get("content", {})
                operation["responses"]["404"] = {
                    "description": "No such connection for this user (the service's body), or no such "
                    "route (API Gateway's body)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "anyOf": [
                                    service_404.get("application/json", {}).get(
                                        "schema", {"$ref": "#/components/schemas/ErrorBody"}
                                    ),
                                    {"$ref": "#/components/schemas/GatewayMessage"},
                                ]
                            }
                        }
                    },
                }
            if "requestBody" not in operation:
                # Powertools documents a 422 for every operation; without a body there is nothing to
                # be invalid but the path id, and backfuture.api answers that with 404.
                operation["responses"].pop("422", None)
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
