"""boto3 clients, made on first use (never at import, so moto can be active first) and reused.

Retries use botocore's standard mode: throttling and transient errors are retried with backoff
inside the call, so a caller sees a ClientError only once retrying has failed.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
)


# One session for every client: each new session loads botocore's endpoint and service data again,
# which cost a cold invocation about 17 ms per client (docs/benchmarks.md). A session is not
# thread-safe, so clients are made one at a time (the local stack serves requests from threads).
_SESSION_LOCK = threading.Lock()


@cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    with _SESSION_LOCK:
        return _session().client(service, config=_CONFIG)


def error_code(error: Exception) -> str:
    """An AWS error's code (``ClientError``), or the class name of a transport error (``BotoCoreError``)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "Unknown"))
    return type(error).__name__


# Codes that mean "busy or briefly down": anything else is a fault for people to look at.
TRANSIENT_ERRORS = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "TransactionCanceled",
        "TransactionInProgressException",
        "InternalServiceError",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    }
)


def reset_clients() -> None:
    """Forget cached clients and their session (tests switch moto on and off)."""
    client.cache_clear()
    _session.cache_clear()
