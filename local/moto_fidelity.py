"""Make moto's DynamoDB as serialisable as the real one under concurrent requests.

moto runs a failed ``TransactWriteItems`` by restoring a deep copy of every table it touched, taken
before the transaction started; a write that another thread made meanwhile is silently undone. Real
DynamoDB never loses a committed write, so the concurrency tests and the load run would see lost
updates that production cannot have. One lock around the backend's operations removes the artefact.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_APPLIED = False


def serialize_dynamodb() -> None:
    global _APPLIED
    if _APPLIED:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name, member in list(vars(DynamoDBBackend).items()):
        if name.startswith("_") or not callable(member):
            continue
        setattr(DynamoDBBackend, name, _locked(member))
    _APPLIED = True


def _locked(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return wrapper
