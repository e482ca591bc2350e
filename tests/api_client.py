"""Drives the real handlers with API Gateway HTTP API events, as the deployed API would.

Every response is checked for leaked secrets before a test sees it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from local.routes import match_route
from local.template import ServiceTemplate
from tests.conftest import FakeContext, api_event, response_json
from tests.secret_guard import assert_no_secret

# (method, route) -> function folder: the routes of infra/template.yaml, read from it.
FUNCTION_OF: dict[tuple[str, str], str] = ServiceTemplate.load().route_functions()
_ROUTES = ServiceTemplate.load().routes()
_FOLDER_OF = {route: FUNCTION_OF[(route.method, route.path)] for route in _ROUTES}


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


class ApiClient:
    """Calls the handlers as one user. ``container`` picks a separate copy of each function module,
    like a second warm Lambda container: concurrent tests need one each, because a Powertools
    resolver serves one request at a time (it keeps the current event on the app object)."""

    def __init__(self, user: str | None = "user-a", container: int = 0) -> None:
        self.user = user
        self.container = container
        self.context = FakeContext()

    def as_user(self, user: str | None) -> ApiClient:
        return ApiClient(user, self.container)

    def in_container(self, container: int) -> ApiClient:
        return ApiClient(self.user, container)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        route, function, params = _match(method, path.partition("?")[0])
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
        raw = function_module(function, self.container).lambda_handler(event, self.context)
        assert_no_secret(json.dumps(raw), where=f"{method} {path} response")
        return ApiResponse(raw["statusCode"], response_json(raw), dict(raw.get("headers") or {}))

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str) -> ApiResponse:
        return self.call("DELETE", path)


_CONTAINERS: dict[tuple[str, int], ModuleType] = {}


def function_module(function: str, container: int = 0) -> ModuleType:
    """The function's handler module; container 0 is the imported one, others are fresh copies."""
    if container == 0:
        return importlib.import_module(f"functions.{function}.app")
    key = (function, container)
    if key not in _CONTAINERS:
        name = f"functions.{function}.app_container{container}"
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).parents[1] / "functions" / function / "app.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _CONTAINERS[key] = module
    return _CONTAINERS[key]


def reset_containers() -> None:
    for module in _CONTAINERS.values():
        module.service.cache_clear()


def _match(method: str, path: str) -> tuple[str, str, dict[str, str]]:
    """The route API Gateway would pick (local.routes implements its matching rules)."""
    found = match_route(_ROUTES, method, path)
    assert found is not None, f"no route for {method} {path}"
    return found.route.path, _FOLDER_OF[found.route], found.path_parameters
