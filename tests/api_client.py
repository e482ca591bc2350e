"""Drives the real handlers with API Gateway HTTP API events, as the deployed API would.

Every response is checked for leaked secrets before a test sees it.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from typing import Any

from tests.conftest import FakeContext, api_event, response_json
from tests.secret_guard import assert_no_secret

# (method, route, function): the routes of infra/template.yaml (tests/infra checks they agree).
ROUTES = [
    ("POST", "/connections", "add_connection"),
    ("PUT", "/connections/{id}/credentials", "add_connection"),
    ("PATCH", "/connections/{id}", "add_connection"),
    ("DELETE", "/connections/{id}", "add_connection"),
    ("POST", "/connections/{id}/test", "test_connection"),
    ("GET", "/connections", "get_status"),
    ("GET", "/connections/{id}", "get_status"),
    ("GET", "/connections/{id}/status", "get_status"),
    ("GET", "/egress-ips", "get_status"),
    ("GET", "/exchanges", "get_status"),
]


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


class ApiClient:
    def __init__(self, user: str | None = "user-a") -> None:
        self.user = user
        self.context = FakeContext()

    def as_user(self, user: str | None) -> ApiClient:
        return ApiClient(user)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        route, function, params = _match(method, path)
        event = api_event(
            method,
            path,
            route=route,
            user=self.user,
            body=body,
            raw_body=raw_body,
            headers=headers,
            path_parameters=params or None,
        )
        module = importlib.import_module(f"functions.{function}.app")
        raw = module.lambda_handler(event, self.context)
        assert_no_secret(json.dumps(raw), where=f"{method} {path} response")
        return ApiResponse(raw["statusCode"], response_json(raw), dict(raw.get("headers") or {}))

    def get(self, path: str) -> ApiResponse:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str) -> ApiResponse:
        return self.call("DELETE", path)


def _match(method: str, path: str) -> tuple[str, str, dict[str, str]]:
    for route_method, route, function in ROUTES:
        if route_method != method:
            continue
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route) + "$"
        found = re.match(pattern, path)
        if found:
            return route, function, found.groupdict()
    raise AssertionError(f"no route for {method} {path}")
