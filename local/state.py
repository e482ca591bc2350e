"""Where a running ``python -m local`` tells ``python -m local.invoke`` how to reach it.

The file holds URLs and the functions' environment (resource names, dummy AWS credentials): no
secret. ``LOCAL_STACK_STATE`` moves it.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.stack import LocalStack


def state_path() -> Path:
    return Path(
        os.environ.get("LOCAL_STACK_STATE") or Path(tempfile.gettempdir()) / "backfuture-local-stack.json"
    )


def write_state(stack: LocalStack) -> Path:
    path = state_path()
    state = {
        "pid": os.getpid(),
        "api_url": stack.api_url,
        "simulator_url": stack.simulator_url,
        "moto_url": stack.moto_url,
        "environment": stack.environment,
    }
    path.write_text(json.dumps(state, indent=2), encoding="utf-8")
    return path


def clear_state(path: Path) -> None:
    """Remove the file if it is still this process's (another stack may have started since)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def running_stack() -> dict[str, Any] | None:
    """The state of a running local stack, or None when none answers."""
    try:
        state: dict[str, Any] = json.loads(state_path().read_text(encoding="utf-8"))
        moto = urlsplit(state["moto_url"])
        with socket.create_connection((moto.hostname or "127.0.0.1", moto.port or 80), timeout=1):
            return state
    except (OSError, ValueError, KeyError, TypeError):
        return None
