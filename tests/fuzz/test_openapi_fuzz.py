"""Property-based fuzzing of every operation in the committed OpenAPI document, through the real handlers.

schemathesis generates requests (valid and invalid) from ``docs/openapi.json``; each one becomes the
API Gateway HTTP API event the deployed API would send, goes to the operation's ``lambda_handler``
in-process (moto behind it, the exchange simulator for connection tests), and the answer must hold:

* never a 5xx;
* documented: the status code is in the spec, the body matches its schema, the content type too;
* invalid input is refused (schemathesis' ``negative_data_rejection``);
* no secret comes back: neither a value the request carried as ``api_key``/``api_secret``/``passphrase``
  nor any registered demo key.

``FUZZ_EXAMPLES`` (env) sets hypothesis' ``max_examples`` per operation and generation mode.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_client import FUNCTION_OF
from tests.conftest import InProcessAws, reset_function_services
from tests.secret_guard import assert_no_secret

SPEC = Path(__file__).parents[2] / "docs" / "openapi.json"
USERS = ("fuzz-user-0", "fuzz-user-1", "fuzz-user-2")
OTHER_USER = "fuzz-other"
SECRET_FIELDS = ("api_key", "api_secret", "passphrase")
# Fields the service legitimately returns; a generated "secret" equal to one of them is not an echo.
ECHOED_FIELDS = ("name", "exchange", "markets")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_path(SPEC)
schema.config.generation.update(max_examples=EXAMPLES)

STATS: Counter[str] = Counter()


# --------------------------------------------------------------------------------------------
# One moto account and a few seeded connections for the whole module
# --------------------------------------------------------------------------------------------


class Seeds:
    """Real connections of the fuzzing users and of another user, re-created when a fuzzed DELETE
    removes one, so generated paths keep reaching existing ids."""

    def __init__(self) -> None:
        self.mine: dict[str, list[str]] = {user: [] for user in USERS}
        self.others: list[str] = []
        self.exchange: dict[str, str] = {}
        self.counter = 0

    def add(self, user: str, demo_index: int) -> str:
        from simulator import all_demo_keys

        # The first demo key of each registered exchange, in turn.
        firsts = list({key.exchange: key for key in reversed(all_demo_keys())}.values())[::-1]
        demo = firsts[demo_index % len(firsts)]
        self.counter += 1
        body: dict[str, Any] = {
            "exchange": demo.exchange,
            "name": f"seed {self.counter}",
            # Distinct keys: a key can be connected once only; the simulator answers invalid_key
            # for unknown ones, a valid outcome all the same.
            "api_key": demo.api_key if self.counter <= 2 else f"{demo.api_key[:8]}seed{self.counter:08d}",
            "api_secret": demo.api_secret,
            "markets": ["spot"],
        }
        if demo.passphrase is not None:
            body["passphrase"] = demo.passphrase
        response = invoke("POST", "/connections", "/connections", user=user, body=json.dumps(body))
        assert response["statusCode"] == 201, response
        connection_id: str = json.loads(response["body"])["id"]
        self.exchange[connection_id] = demo.exchange
        return connection_id

    def ensure(self) -> None:
        for index, user in enumerate(USERS):
            while len(self.mine[user]) < 2:
                self.mine[user].append(self.add(user, index + len(self.mine[user])))
        while len(self.others) < 1:
            self.others.append(self.add(OTHER_USER, 0))

    def forget(self, connection_id: str) -> None:
        for ids in self.mine.values():
            if connection_id in ids:
                ids.remove(connection_id)


@pytest.fixture(scope="module")
def fuzz_aws(simulator: Any) -> Iterator[Seeds]:
    from moto import mock_aws

    from backfuture.aws import reset_clients
    from backfuture.config import settings as service_settings
    from local.aws import create_resources
    from local.moto_fidelity import serialize_dynamodb
    from local.template import ServiceTemplate

    serialize_dynamodb()
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        created = create_resources(InProcessAws(), ServiceTemplate.load())
        patch.setenv("TABLE_NAME", created.table_name)
        patch.setenv("KMS_KEY_ID", created.key_arn)
        patch.setenv("FINGERPRINT_SECRET_ARN", created.fingerprint_secret_arn)
        patch.setenv("SECRET_NAME_PREFIX", "backfuture/fuzz/connections/")
        patch.setenv("MAX_CONNECTIONS_PER_USER", "8")
        service_settings.cache_clear()
        reset_clients()
        reset_function_services()
        seeds = Seeds()
        seeds.ensure()
        yield seeds
        service_settings.cache_clear()
        reset_clients()
        reset_function_services()


def summary() -> list[str]:
    """The request count, printed at the end of the run by tests/fuzz/conftest.py."""
    total = sum(n for key, n in STATS.items() if key.startswith("op "))
    if not total:
        return []
    lines = [f"openapi fuzz: {total} generated requests through the handlers ({EXAMPLES} examples per phase)"]
    lines += [f"  {key}: {n}" for key, n in sorted(STATS.items())]
    return lines


# --------------------------------------------------------------------------------------------
# Driving a handler with a generated case
# --------------------------------------------------------------------------------------------


def invoke(
    method: str,
    route: str,
    path: str,
    *,
    user: str | None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    path_parameters: dict[str, str] | None = None,
    foreign_method: str | None = None,
) -> dict[str, Any]:
    """One request through the local stack's API Gateway stand-in (local/api_server.py, without a
    socket): route selection, the JWT authorizer's 401 and the gateway's 404 are what clients get,
    then the function's handler in this process, against the module's moto account.

    ``route`` and ``path_parameters`` are the caller's intent; the gateway works them out itself."""
    from local.events import HttpRequest

    sent = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
    if user is not None:
        sent["authorization"] = f"Bearer dev:{user}"
    if body is not None:
        sent.setdefault("content-type", "application/json")
    target = path + (f"?{query}" if query else "")
    request = HttpRequest(
        method=foreign_method or method,
        target=target,
        headers=list(sent.items()),
        body=(body or "").encode("utf-8", "surrogatepass"),
    )
    response = _gateway().handle(request)
    return {
        "statusCode": response.status,
        "headers": dict(response.headers),
        "body": response.body.decode("utf-8", "replace"),
        "isBase64Encoded": False,
    }


_GATEWAY: list[Any] = []


def _gateway() -> Any:
    """The local stack's gateway over this process's handlers (made once; its socket never listens)."""
    if not _GATEWAY:
        from local.api_server import LocalApi
        from local.functions import FunctionRunner
        from local.template import ServiceTemplate

        template = ServiceTemplate.load()
        _GATEWAY.append(LocalApi(template.routes(), FunctionRunner(template.functions())))
    return _GATEWAY[0]


def _pick(case: Case[Any], salt: str, modulo: int) -> int:
    """A choice derived from the generated case, so hypothesis replays it exactly."""
    body = case.body if case.body is not NOT_SET else ""
    seed = f"{salt}|{case.path_parameters}|{body!r}|{case.headers}"
    return zlib.crc32(seed.encode("utf-8", "surrogatepass")) % modulo


def _plausible_add(body: dict[str, Any], salt: int) -> dict[str, Any]:
    """The generated add body at a supported exchange, with credentials that pass validation where
    the generated ones would not (the name, markets and unknown fields stay as generated)."""
    steered = {**body, "exchange": "kucoin" if "passphrase" in body else "mexc"}
    if not str(steered.get("name", "")).strip():
        steered["name"] = f"fuzz name {salt}"
    if isinstance(steered.get("markets"), list):
        steered["markets"] = list(dict.fromkeys(steered["markets"]))
    return _plausible_credentials(steered, salt)


def _plausible_credentials(body: dict[str, Any], salt: int) -> dict[str, Any]:
    steered = dict(body)
    for field, low, high in (("api_key", 8, 128), ("api_secret", 8, 256), ("passphrase", 1, 128)):
        value = steered.get(field)
        if field not in steered:
            continue
        text = value.strip() if isinstance(value, str) else ""
        if not (text.isascii() and text.isprintable() and low <= len(text) <= high and " " not in text):
            steered[field] = f"fuzz{field.replace('_', '')}{salt:010d}"
    return steered


def _serialise_body(case: Case[Any]) -> str | None:
    if case.body is NOT_SET:
        return None
    if isinstance(case.body, bytes):
        return case.body.decode("utf-8", "replace")
    media = (case.media_type or "application/json").split(";")[0].strip()
    if media.endswith("json"):
        return json.dumps(case.body)
    return str(case.body)


def _secret_values(case: Case[Any]) -> set[str]:
    """Secret-field strings of the request body that could only come back as an echo."""
    body = case.body
    if not isinstance(body, dict):
        return set()
    echoable = json.dumps([body.get(field) for field in ECHOED_FIELDS], ensure_ascii=False)
    values: set[str] = set()
    for field in SECRET_FIELDS:
        value = body.get(field)
        if not isinstance(value, str):
            continue
        for candidate in (value, value.strip()):
            if len(candidate) >= 8 and candidate not in echoable:
                values.add(candidate)
    return values


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_survives_generated_requests(case: Case[Any], fuzz_aws: Seeds) -> None:
    seeds = fuzz_aws
    method, route = case.method.upper(), case.path
    if (method, route) not in FUNCTION_OF:
        # schemathesis probes methods the spec does not declare; API Gateway answers those itself
        # (no route), so the handler is asked with the route it does serve for that path.
        foreign = method
        method = case.operation.method.upper()
    else:
        foreign = None
    public = (method, route) in {("GET", "/egress-ips"), ("GET", "/exchanges")}
    positive = case.meta is None or not case.meta.generation.mode.is_negative

    headers = {k.lower(): str(v) for k, v in (case.headers or {}).items()}
    # API Gateway's JWT authorizer turns a token into claims; a missing token means no identity.
    authenticated = "authorization" in headers or (positive and _pick(case, "auth", 10) != 0)
    user = USERS[_pick(case, "user", len(USERS))] if authenticated else None

    path_parameters = {k: str(v) for k, v in (case.path_parameters or {}).items()}
    if "id" in path_parameters and positive and user is not None:
        # Most generated ids name nothing (404); steer some at real connections, the caller's own
        # and another user's (which must be 404 all the same).
        choice = _pick(case, "id", 10)
        if choice < 4:
            seeds.ensure()
            own = seeds.mine[user]
            path_parameters["id"] = own[choice % len(own)]
        elif choice == 4:
            seeds.ensure()
            path_parameters["id"] = seeds.others[0]
        if choice <= 4:
            case.path_parameters = dict(path_parameters)
        if choice < 4 and route == "/connections/{id}/credentials" and isinstance(case.body, dict):
            # As for adds: some replacements with credentials that pass, to reach the store.
            steered = _plausible_credentials(case.body, _pick(case, "key", 1 << 30))
            if seeds.exchange[path_parameters["id"]] == "mexc":
                steered.pop("passphrase", None)
            elif "passphrase" not in steered:
                steered["passphrase"] = "fuzz-passphrase"
            case.body = steered
    adding = (method, route) == ("POST", "/connections") and positive
    if adding and isinstance(case.body, dict) and _pick(case, "exchange", 2) == 0:
        # Random exchange names are all refused as unsupported; steer half the valid bodies at a
        # supported exchange (still schema-valid) so they reach the store and its 201/409 answers.
        case.body = _plausible_add(case.body, _pick(case, "key", 1 << 30))
    path = case.formatted_path
    body = _serialise_body(case)
    if body is not None:
        headers.setdefault("content-type", case.media_type or "application/json")
    query = urlencode(case.query or {}, doseq=True)

    secrets = _secret_values(case)
    raw = invoke(
        method,
        route,
        path,
        foreign_method=foreign,
        user=user,
        body=body,
        headers=headers,
        query=query,
        path_parameters=path_parameters or None,
    )
    STATS[f"op {method} {route}"] += 1
    STATS[f"status {raw['statusCode']} {method} {route}"] += 1

    text = raw.get("body") or ""
    if raw.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    dumped = json.dumps(raw, ensure_ascii=False) + text
    echoed = [value for value in secrets if value in dumped]
    assert not echoed, f"{len(echoed)} request secret value(s) echoed by {method} {route}"
    assert_no_secret(dumped, where=f"{method} {route} response")

    status = raw["statusCode"]
    assert status < 500, f"{method} {route} answered {status}: {text[:300]}"
    if foreign is not None:
        assert status in (404, 405), status
        return
    if user is None and not public:
        # Refused for lack of identity, unless the request was refused even before that.
        assert status in (401, 404, 413, 415, 422), status
    if (method, route) == ("POST", "/connections") and raw["statusCode"] == 201:
        # Keep the per-user cap from filling up so valid adds keep reaching the store.
        created = json.loads(text)["id"]
        deleted = invoke(
            "DELETE",
            "/connections/{id}",
            f"/connections/{created}",
            user=user,
            path_parameters={"id": created},
        )
        assert deleted["statusCode"] == 204, deleted
    if (method, route) == ("DELETE", "/connections/{id}") and raw["statusCode"] == 204:
        seeds.forget(path_parameters["id"])

    request = httpx.Request(
        method,
        f"http://fuzz.invalid{path}" + (f"?{query}" if query else ""),
        headers=headers,
        content=(body or "").encode("utf-8", "surrogatepass"),
    )
    response = httpx.Response(
        raw["statusCode"], headers=raw.get("headers") or {}, content=text.encode(), request=request
    )
    response.elapsed = timedelta(milliseconds=1)
    checks = CHECKS
    if not positive and any(not isinstance(value, str) for value in (case.query or {}).values()):
        # A query carries strings only: a generated number, or a list (repeated parameters, which API
        # Gateway joins into one comma-separated value), reaches the service as a string the schema
        # accepts, so such a case is not invalid on the wire and its acceptance proves nothing.
        checks = [check for check in CHECKS if check is not negative_data_rejection]
    case.validate_response(response, checks=checks)
