"""Injected AWS failures: a boto3 client wrapper that fails chosen calls with a real ClientError.

moto cannot throttle or fail on demand, so a test wraps the real (moto-backed) client and makes
the N-th call of an operation raise exactly what botocore would raise after its retries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

THROTTLED = "ThrottlingException"


class FaultyClient:
    def __init__(self, client: Any, service: str) -> None:
        self._client = client
        self._service = service
        self.calls: Counter[str] = Counter()
        self.log: list[str] = []
        self._faults: dict[str, tuple[int, str, bool]] = {}

    def fail(
        self, operation: str, *, nth: int = 1, code: str = THROTTLED, after_commit: bool = False
    ) -> None:
        """Make the ``nth`` call (counted from now) of ``operation`` fail with ``code``.

        ``after_commit``: the call is made, then the error raised, as when a timeout or a 5xx hits
        a request AWS has already carried out (the caller cannot know which happened).
        """
        self._faults[operation] = (self.calls[operation] + nth, code, after_commit)

    def heal(self) -> None:
        self._faults.clear()

    def __getattr__(self, operation: str) -> Any:
        target = getattr(self._client, operation)
        if not callable(target) or operation.startswith("_") or operation in {"meta", "exceptions"}:
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[operation] += 1
            self.log.append(f"{self._service}.{operation}")
            fault = self._faults.get(operation)
            if fault is not None and self.calls[operation] == fault[0]:
                if fault[2]:
                    target(*args, **kwargs)
                raise ClientError({"Error": {"Code": fault[1], "Message": "injected"}}, operation)
            return target(*args, **kwargs)

        return call


@contextmanager
def faulty_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FaultyClient]]:
    """Every AWS client the service makes is a FaultyClient over moto; yields them by service."""
    import boto3

    from backfuture.aws import reset_clients
    from tests.conftest import reset_function_services

    clients: dict[str, FaultyClient] = {}

    def make(service: str) -> FaultyClient:
        if service not in clients:
            clients[service] = FaultyClient(boto3.client(service, region_name="us-east-1"), service)
        return clients[service]

    monkeypatch.setattr("backfuture.storage.repository.client", make)
    monkeypatch.setattr("backfuture.storage.secrets.client", make)
    reset_clients()
    reset_function_services()
    make("dynamodb")
    make("secretsmanager")
    yield clients
    reset_function_services()
