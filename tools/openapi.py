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
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (path, method) not in PUBLIC:
                operation["security"] = [{"jwt": []}]
            if "requestBody" not in operation:
                # Powertools documents a 422 for every operation; without a body there is nothing to
                # be invalid but the path id, and backfuture.api answers that with 404.
                operation["responses"].pop("422", None)
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


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
