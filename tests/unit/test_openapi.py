"""The committed OpenAPI document is the code's: regenerate with `make openapi` when this fails."""

from __future__ import annotations

import json
from pathlib import Path

from tools.openapi import build, render

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_committed_spec_matches_the_code() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), "docs/openapi.json is stale: run `make openapi`"


def test_secrets_are_write_only_and_never_in_a_response_schema() -> None:
    spec = build()
    schemas = spec["components"]["schemas"]
    for model in ("AddConnectionRequest", "ReplaceCredentialsRequest"):
        for field in ("api_key", "api_secret"):
            assert schemas[model]["properties"][field]["writeOnly"] is True
            assert schemas[model]["properties"][field]["format"] == "password"
    response_models = {"ConnectionResource", "ConnectionList", "StatusDocument", "ErrorBody", "Problem"}
    rendered = json.dumps({name: schemas[name] for name in response_models})
    for field in ("api_secret", "passphrase", '"api_key"'):
        assert field not in rendered


def test_every_contract_route_is_documented_and_private_ones_need_a_token() -> None:
    spec = build()
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert documented == {
        ("/connections", "post"),
        ("/connections", "get"),
        ("/connections/{id}", "get"),
        ("/connections/{id}", "patch"),
        ("/connections/{id}", "delete"),
        ("/connections/{id}/credentials", "put"),
        ("/connections/{id}/test", "post"),
        ("/connections/{id}/status", "get"),
        ("/connections/{id}/events", "get"),
        ("/events", "get"),
        ("/egress-ips", "get"),
        ("/exchanges", "get"),
    }
    for path, ops in spec["paths"].items():
        for method, operation in ops.items():
            public = (path, method) in {("/egress-ips", "get"), ("/exchanges", "get")}
            assert ("security" in operation) is not public, (path, method)


def test_every_operation_and_field_is_described() -> None:
    spec = build()
    for path, ops in spec["paths"].items():
        for method, operation in ops.items():
            assert operation.get("summary") and operation.get("description"), (path, method)
            for status, response in operation["responses"].items():
                assert response.get("description"), (path, method, status)
    for name, schema in spec["components"]["schemas"].items():
        if name in {"HTTPValidationError", "ValidationError", "ResponseValidationError"}:
            continue  # Powertools' own, never answered (backfuture.api maps validation to ErrorBody)
        for field, prop in schema.get("properties", {}).items():
            assert prop.get("description") or "$ref" in prop or "allOf" in prop, (name, field)


def test_every_error_code_and_outcome_has_an_example() -> None:
    from backfuture.errors import REQUEST_ERRORS, Outcome

    spec = build()
    shown: set[str] = set()
    for ops in spec["paths"].values():
        for operation in ops.values():
            for response in operation["responses"].values():
                shown |= set(response.get("content", {}).get("application/json", {}).get("examples", {}))
    # 401 from the service itself, 500, and 503 examples appear wherever documented.
    documented = {code.value for code, (status, _) in REQUEST_ERRORS.items() if status != 500}
    assert documented - {"unauthorized"} <= shown
    assert {o.value for o in Outcome} <= shown
