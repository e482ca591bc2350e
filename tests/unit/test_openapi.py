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
        ("/egress-ips", "get"),
        ("/exchanges", "get"),
    }
    for path, ops in spec["paths"].items():
        for method, operation in ops.items():
            public = (path, method) in {("/egress-ips", "get"), ("/exchanges", "get")}
            assert ("security" in operation) is not public, (path, method)
