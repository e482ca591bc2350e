"""The OpenAPI document of the whole API, built from the three functions' routes and models.

``python -m tools.openapi > docs/openapi.json`` (``make openapi``) writes it; a test fails when the
committed document and the code disagree.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

# The API's functions (revalidate has no route: it runs on a schedule).
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
    "properties": {
        "message": {
            "type": "string",
            "title": "Message",
            "description": "Unauthorized or Not Found, as API Gateway words it",
            "examples": ["Unauthorized", "Not Found"],
        }
    },
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
    document["components"]["schemas"]["ErrorBody"] = _error_body_schema(document["components"]["schemas"])
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
            queries = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
            if "requestBody" not in operation and not queries:
                # Powertools documents a 422 for every operation; without a body or a query there is
                # nothing to be invalid but the path id, and backfuture.api answers that with 404.
                operation["responses"].pop("422", None)
            _document_languages(operation)
            _error_examples(operation)
            if (path, method) in STATUS_DOCUMENT_ROUTES:
                _outcome_examples(operation)
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


STATUS_DOCUMENT_ROUTES = {("/connections/{id}/test", "post"), ("/connections/{id}/status", "get")}


def _document_languages(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(
        {
            "name": "Accept-Language",
            "in": "header",
            "required": False,
            "description": (
                "The language of every message, remedy and status_label: en (default) or hu. "
                "Codes never change."
            ),
            "schema": {"type": "string", "examples": ["hu", "hu-HU,hu;q=0.9,en;q=0.8"]},
        }
    )
    for status, response in operation["responses"].items():
        if status.startswith(("2", "4", "5")):
            response.setdefault("headers", {})["Content-Language"] = {
                "description": "The language chosen from Accept-Language: en or hu",
                "schema": {"type": "string", "enum": ["en", "hu"]},
            }


def _error_examples(operation: dict[str, Any]) -> None:
    """An example body for every error code each documented error status can carry."""
    from backfuture.errors import REQUEST_ERRORS, ApiError

    for status, response in operation["responses"].items():
        content = response.get("content", {}).get("application/json")
        if not status.isdigit() or int(status) < 400 or content is None:
            continue
        examples = {
            code.value: {"summary": text.message, "value": ApiError(code).body()}
            for code, (code_status, text) in REQUEST_ERRORS.items()
            if str(code_status) == status
        }
        if examples:
            content["examples"] = examples


def _outcome_examples(operation: dict[str, Any]) -> None:
    """The status document of every test outcome (and of an Online key), in English."""
    from backfuture.errors import Outcome, explain, status_label

    outcome_status = {
        Outcome.WITHDRAWAL_ENABLED: "refused",
        Outcome.RATE_LIMITED: "unavailable",
        Outcome.EXCHANGE_UNAVAILABLE: "unavailable",
    }
    ips = ["3.120.1.1", "3.120.1.2"]
    examples: dict[str, Any] = {
        "connected": {
            "summary": "Online and trading-ready",
            "value": _status_example("connected", status_label("connected", "en"), None),
        }
    }
    for outcome in Outcome:
        status = outcome_status.get(outcome, "failed")
        error = explain(outcome, ips, "en")
        examples[outcome.value] = {
            "summary": error["message"],
            "value": _status_example(status, status_label(status, "en"), error),
        }
    operation["responses"]["200"]["content"]["application/json"]["examples"] = examples


def _status_example(status: str, label: str, error: dict[str, str] | None) -> dict[str, Any]:
    ok = error is None
    return {
        "connection_id": "01JDQ7ZK3V8W5X2Y9T4R6P0M1N",
        "status": status,
        "status_label": label,
        "checked_at": "2026-11-25T10:00:00.000Z",
        "duration_ms": 412,
        "error": error,
        "warnings": [],
        "checks": {
            "credentials": "ok" if ok else "failed",
            "read": "ok" if ok else "skipped",
            "trade": "ok" if ok else "skipped",
            "withdraw_disabled": "ok" if ok else "skipped",
            "futures": "not_requested",
            "ip_whitelist": "ok" if ok else "skipped",
            "balance_access": "ok" if ok else "skipped",
        },
        "permissions": {"read": True, "trade": True, "withdraw": False, "futures": False},
        "account": {"is_master": True},
        "clock_offset_ms": -38,
    }


def _error_body_schema(schemas: dict[str, Any]) -> dict[str, Any]:
    """The contract's error body, which the routes' error answers reference (backfuture.api.error_responses).

    The routes name it by reference so that no function loads pydantic at import for it. Its schema
    comes from the model, written as Powertools writes every schema of the document (its OpenAPI
    ``Schema`` model, dumped without nulls); the models it nests must be the document's own.
    """
    from aws_lambda_powertools.event_handler.openapi.models import Schema

    from backfuture.models import ErrorBody

    def normalised(schema: dict[str, Any]) -> dict[str, Any]:
        return Schema.model_validate(schema).model_dump(by_alias=True, exclude_none=True)

    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in schema.pop("$defs", {}).items():
        if schemas.get(name) != normalised(nested):
            raise ValueError(f"ErrorBody's {name} differs from the document's")
    return normalised(schema)


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
