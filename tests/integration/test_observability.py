"""Logs, metrics and traces carry what operations need, and nothing a key holder would mind."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backfuture.observability import user_hash
from tests.api_client import ApiClient
from tests.integration.test_connection_test import add, all_demo_keys


def log_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for raw in text.splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


@pytest.fixture
def api(aws: dict[str, str], sim: Any) -> ApiClient:
    return ApiClient("user-obs")


def test_every_log_line_names_request_user_hash_and_connection(
    api: ApiClient, capfd: pytest.CaptureFixture[str]
) -> None:
    demo = next(d for d in all_demo_keys() if d.outcome == "withdrawal_enabled")
    connection = add(api, demo)
    api.post(f"/connections/{connection['id']}/test")
    api.get(f"/connections/{connection['id']}")
    out, _ = capfd.readouterr()
    entries = log_lines(out)
    logs = [e for e in entries if "level" in e]
    assert len(logs) >= 2
    for line in logs:
        assert line["function_request_id"] and line["correlation_id"]
        assert line["user"] == user_hash("user-obs")
        assert "user-obs" not in json.dumps(line)  # the user appears only as the hash
        assert line["connection_id"] == connection["id"]
    # metrics: the add, the test by outcome, and the refusal
    metrics = [e for e in entries if "_aws" in e]
    names = {m["Name"] for e in metrics for d in e["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"ConnectionsAdded", "ConnectionTests", "KeysRefused"} <= names
    tested = next(e for e in metrics if "ConnectionTests" in e)
    assert tested["outcome"] == "withdrawal_enabled"


def test_log_event_is_off_and_bodies_never_logged(api: ApiClient, capfd: pytest.CaptureFixture[str]) -> None:
    api.post(
        "/connections",
        {"exchange": "mexc", "name": "Canary name 7f3a", "api_key": "x" * 20, "api_secret": "y" * 32},
    )
    out, _ = capfd.readouterr()
    assert "Canary name 7f3a" not in out
