"""boto3 clients, made on first use (never at import, so moto can be active first) and reused.

Retries use botocore's standard mode: throttling and transient errors are retried with backoff
inside the call, so a caller sees a ClientError only once retrying has failed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests switch moto on and off)."""
    client.cache_clear()
