"""AWS faults at every step of every operation: a clean 503, nothing half-written, a retry that succeeds.

The matrix is operations x steps x error kinds. ``SEQUENCES`` is each operation's exact AWS call
sequence on a happy run (``test_happy_run_makes_exactly_these_calls`` records it, so a change in the
service's calls fails here first); every cell fails exactly one of those calls with one error kind,
as botocore raises it once its own retries are spent.

Every kind is injected at every step, also where AWS would not return it (a KMS error on a DynamoDB
call): the service must not depend on which code comes from where.

A few states are left on purpose by the design and are asserted exactly (``LEFT_AFTER_FAILURE``):

* rotation whose DeleteSecret of the retired secret fails: the new key is in place (200), the old
  secret stays stored, unreachable, remembered on the connection and reported by the
  ``RetiredSecretNotDestroyed`` metric; the next replacement (the retry) or the delete destroys it;
* delete whose table transaction fails after the secret was destroyed, and a refusal whose status
  write fails after the key was destroyed (security first): the connection item points at a
  destroyed secret until the client's retry finishes the operation;
* refusal whose DeleteSecret fails after the status was written: the refused key is still stored
  until the retry destroys it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from benchmarks.load import count_orphans as orphans_in
from simulator.demo_keys import DemoKey
from tests.api_client import ApiClient, ApiResponse
from tests.faults import FaultyClient
from tests.integration.test_connection_test import add, all_demo_keys
from tests.integration.test_connections_api import mexc_body
from tests.secret_guard import register

ROTATED = {"api_key": "mx0vglRotatedKey0009", "api_secret": "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}
register(*ROTATED.values())

CANCELLED_BY_THROTTLING = "TransactionCanceledException[ThrottlingError]"
ERROR_KINDS = [
    # throttling
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    CANCELLED_BY_THROTTLING,
    # service errors
    "InternalServiceError",
    "InternalFailure",
    "ServiceUnavailable",
    # KMS errors, as Secrets Manager passes them on
    "KMSAccessDeniedException",
    "KMSDisabledException",
    "KMSInvalidStateException",
]

SM, DB = "secretsmanager", "dynamodb"
SEQUENCES: dict[str, list[str]] = {
    # a cold add_connection container: the fingerprint pepper is read once, then cached
    "add": [f"{SM}.get_secret_value", f"{SM}.create_secret", f"{DB}.transact_write_items"],
    "replace_credentials": [
        f"{DB}.get_item",
        f"{SM}.create_secret",
        f"{DB}.transact_write_items",
        f"{SM}.delete_secret",
    ],
    "rename": [f"{DB}.get_item", f"{DB}.transact_write_items"],
    "delete": [f"{DB}.get_item", f"{SM}.delete_secret", f"{DB}.transact_write_items"],
    # the result and its audit events are one transaction
    "test_connected": [f"{DB}.update_item", f"{SM}.get_secret_value", f"{DB}.transact_write_items"],
    "test_refused": [
        f"{DB}.update_item",
        f"{SM}.get_secret_value",
        f"{DB}.transact_write_items",
        f"{SM}.delete_secret",
    ],
    "get": [f"{DB}.get_item"],
    "list": [f"{DB}.query"],
    "status": [f"{DB}.get_item"],
}

# (operation, failed step) -> what the design leaves until the client retries; see the docstring.
LEFT_AFTER_FAILURE: dict[tuple[str, int], dict[str, int]] = {
    ("replace_credentials", 3): {"retired_secret_pending": 1},
    ("delete", 2): {"connection_without_secret": 1},
    ("test_refused", 2): {"connection_without_secret": 1},
    ("test_refused", 3): {"refused_with_secret": 1},
}
# ... and what stays after a successful retry: nothing (a retried replacement destroys the
# remembered secret first).
LEFT_AFTER_RETRY: dict[tuple[str, int], dict[str, int]] = {}
# Cells where the failed call is not the client's problem: the operation itself succeeded.
SUCCEEDS_DESPITE_FAILURE = {("replace_credentials", 3)}


def demo(outcome: str) -> DemoKey:
    return next(
        d for d in all_demo_keys() if d.outcome == outcome and d.exchange == "mexc" and not d.warnings
    )


# -- injection --------------------------------------------------------------------------------


class InjectedClient(FaultyClient):
    """A FaultyClient whose injected transaction cancellation carries CancellationReasons, as AWS's does."""

    def __getattr__(self, operation: str) -> Any:
        target = super().__getattr__(operation)
        if operation != "transact_write_items":
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return target(*args, **kwargs)
            except ClientError as error:
                if error.response["Error"].get("Message") != "injected":
                    raise
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                items = len(kwargs.get("TransactItems", [])) or 1
                reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}]
                reasons += [{"Code": "None"}] * (items - 1)
                codes = ", ".join(r["Code"] for r in reasons)
                response: Any = {
                    "Error": {
                        "Code": "TransactionCanceledException",
                        "Message": f"Transaction cancelled, please refer cancellation reasons for specific "
                        f"reasons [{codes}]",
                    },
                    "CancellationReasons": reasons,
                }
                raise ClientError(response, "TransactWriteItems") from None

        return call


@dataclass
class Injected:
    clients: dict[str, InjectedClient]
    log: list[str]

    def reset(self) -> None:
        self.log.clear()
        for injected in self.clients.values():
            injected.heal()
            injected.calls.clear()

    def fail_step(self, sequence: list[str], step: int, kind: str) -> None:
        service, operation = sequence[step].split(".")
        nth = sequence[: step + 1].count(sequence[step])
        code = "TransactionCanceledException" if kind == CANCELLED_BY_THROTTLING else kind
        self.clients[service].fail(operation, nth=nth, code=code)

    def heal(self) -> None:
        for injected in self.clients.values():
            injected.heal()


# -- the stores, inspected directly ---------------------------------------------------------------


def count_orphans() -> Counter[str]:
    """Everything half-written in the account, by kind (the load run's check, benchmarks/load.py)."""
    return orphans_in(
        boto3.client("dynamodb"),
        boto3.client("secretsmanager"),
        os.environ["TABLE_NAME"],
        os.environ["SECRET_NAME_PREFIX"],
    )


def empty_the_stores() -> None:
    db, sm = boto3.client("dynamodb"), boto3.client("secretsmanager")
    table, prefix = os.environ["TABLE_NAME"], os.environ["SECRET_NAME_PREFIX"]
    for item in db.scan(TableName=table, ProjectionExpression="PK, SK")["Items"]:
        db.delete_item(TableName=table, Key=item)
    for secret in sm.list_secrets()["SecretList"]:
        if secret["Name"].startswith(prefix):
            sm.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def account() -> Iterator[dict[str, str]]:
    """One moto account for the whole matrix (emptied between cells), with the production cooldown:
    a failed test must not leave the cooldown behind, or the client's retry would get a 429."""
    from tests.conftest import moto_account

    with moto_account(TEST_COOLDOWN_S="10") as env:
        yield env


@pytest.fixture(scope="module")
def injected_clients(account: dict[str, str]) -> dict[str, InjectedClient]:
    return {name: InjectedClient(boto3.client(name, region_name="us-east-1"), name) for name in (SM, DB)}


@pytest.fixture
def injected(
    account: dict[str, str], injected_clients: dict[str, InjectedClient], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Injected]:
    """Empty stores, cold functions, and every AWS call of the service through one shared call log."""
    from backfuture.aws import reset_clients
    from tests.conftest import reset_function_services

    empty_the_stores()
    log: list[str] = []
    for injected_client in injected_clients.values():
        injected_client.log = log
    state = Injected(injected_clients, log)
    state.reset()
    monkeypatch.setattr("backfuture.storage.repository.client", injected_clients.__getitem__)
    monkeypatch.setattr("backfuture.storage.secrets.client", injected_clients.__getitem__)
    reset_clients()
    reset_function_services()
    yield state
    state.reset()
    reset_function_services()


# -- the operations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    setup: Callable[[ApiClient], str]  # returns the connection id ("" when there is none)
    run: Callable[[ApiClient, str], ApiResponse]
    succeeded: Callable[[ApiClient, str, ApiResponse], None]  # asserts a successful outcome
    needs_simulator: bool = False


def _nothing(api: ApiClient) -> str:
    return ""


def _added(api: ApiClient) -> str:
    return str(api.post("/connections", mexc_body()).body["id"])


def _added_demo(outcome: str) -> Callable[[ApiClient], str]:
    return lambda api: str(add(api, demo(outcome))["id"])


def _added_and_connected(api: ApiClient) -> str:
    return _added_demo("connected")(api)


def _expect(status: int) -> Callable[[ApiClient, str, ApiResponse], None]:
    def check(api: ApiClient, cid: str, response: ApiResponse) -> None:
        assert response.status == status, (response.status, response.body)

    return check


def _added_ok(api: ApiClient, cid: str, response: ApiResponse) -> None:
    assert response.status == 201, response.body
    listed = api.get("/connections").body["connections"]
    assert [c["id"] for c in listed] == [response.body["id"]]


def _replaced_ok(api: ApiClient, cid: str, response: ApiResponse) -> None:
    assert response.status == 200, response.body
    assert response.body["id"] == cid and response.body["status"] == "untested"
    assert response.body["api_key_hint"] == f"{ROTATED['api_key'][:4]}…{ROTATED['api_key'][-4:]}"


def _renamed_ok(api: ApiClient, cid: str, response: ApiResponse) -> None:
    assert response.status == 200, response.body
    assert api.get(f"/connections/{cid}").body["name"] == "Renamed"


def _deleted_ok(api: ApiClient, cid: str, response: ApiResponse) -> None:
    assert response.status == 204, response.body
    assert api.get(f"/connections/{cid}").status == 404
    assert api.get("/connections").body["connections"] == []


def _tested(status: str) -> Callable[[ApiClient, str, ApiResponse], None]:
    def check(api: ApiClient, cid: str, response: ApiResponse) -> None:
        assert response.status == 200, response.body
        assert response.body["status"] == status
        assert api.get(f"/connections/{cid}/status").body["status"] == status

    return check


OPERATIONS: dict[str, Operation] = {
    "add": Operation(_nothing, lambda api, _: api.post("/connections", mexc_body()), _added_ok),
    "replace_credentials": Operation(
        _added, lambda api, cid: api.put(f"/connections/{cid}/credentials", ROTATED), _replaced_ok
    ),
    "rename": Operation(
        _added, lambda api, cid: api.patch(f"/connections/{cid}", {"name": "Renamed"}), _renamed_ok
    ),
    "delete": Operation(_added, lambda api, cid: api.delete(f"/connections/{cid}"), _deleted_ok),
    "test_connected": Operation(
        _added_and_connected,
        lambda api, cid: api.post(f"/connections/{cid}/test"),
        _tested("connected"),
        True,
    ),
    "test_refused": Operation(
        _added_demo("withdrawal_enabled"),
        lambda api, cid: api.post(f"/connections/{cid}/test"),
        _tested("refused"),
        True,
    ),
    "get": Operation(_added, lambda api, cid: api.get(f"/connections/{cid}"), _expect(200)),
    "list": Operation(_added, lambda api, _: api.get("/connections"), _expect(200)),
    "status": Operation(_added, lambda api, cid: api.get(f"/connections/{cid}/status"), _expect(200)),
}

CELLS = [
    pytest.param(name, step, kind, id=f"{name}-{step}:{SEQUENCES[name][step].split('.')[1]}-{kind}")
    for name in OPERATIONS
    for step in range(len(SEQUENCES[name]))
    for kind in ERROR_KINDS
]


def assert_clean_unavailable(response: ApiResponse) -> None:
    assert response.status == 503, (response.status, response.body)
    assert set(response.body) == {"error"}
    error = response.body["error"]
    assert set(error) == {"code", "message", "remedy"} and error["code"] == "service_unavailable"
    assert isinstance(error["message"], str) and isinstance(error["remedy"], str)
    assert int(response.headers["Retry-After"]) > 0


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_happy_run_makes_exactly_these_calls(
    name: str, injected: Injected, request: pytest.FixtureRequest
) -> None:
    operation = OPERATIONS[name]
    if operation.needs_simulator:
        request.getfixturevalue("sim")
    api = ApiClient("user-a")
    cid = operation.setup(api)
    injected.log.clear()
    response = operation.run(api, cid)
    assert injected.log == SEQUENCES[name]
    injected.log.clear()
    operation.succeeded(api, cid, response)
    assert count_orphans() == Counter()


@pytest.mark.parametrize(("name", "step", "kind"), CELLS)
def test_a_failure_at_any_step_is_clean_and_a_retry_succeeds(
    name: str,
    step: int,
    kind: str,
    injected: Injected,
    request: pytest.FixtureRequest,
    capfd: pytest.CaptureFixture[str],
) -> None:
    operation = OPERATIONS[name]
    if operation.needs_simulator:
        request.getfixturevalue("sim")
    api = ApiClient("user-a")
    cid = operation.setup(api)
    before = count_orphans()
    assert before == Counter()

    injected.log.clear()
    injected.fail_step(SEQUENCES[name], step, kind)
    failed = operation.run(api, cid)
    # The failure hit exactly the intended call, after the same calls as a happy run.
    assert injected.log[: step + 1] == SEQUENCES[name][: step + 1], injected.log
    injected.heal()
    if (name, step) in SUCCEEDS_DESPITE_FAILURE:
        operation.succeeded(api, cid, failed)
        assert "RetiredSecretNotDestroyed" in capfd.readouterr().out
    else:
        assert_clean_unavailable(failed)
    assert count_orphans() == Counter(LEFT_AFTER_FAILURE.get((name, step), {}))

    retry = operation.run(api, cid)
    operation.succeeded(api, cid, retry)
    assert count_orphans() == Counter(LEFT_AFTER_RETRY.get((name, step), {}))
