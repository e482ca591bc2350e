"""events/ holds one API Gateway HTTP API (payload 2.0) event per route, one scheduled event per
scheduled function, and env.json fits the template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra import checks
from tests.infra.sam_stack import REPO_ROOT

EVENTS_DIR = REPO_ROOT / "events"
FOLDERS = {
    "AddConnectionFunction": "add_connection",
    "TestConnectionFunction": "test_connection",
    "GetStatusFunction": "get_status",
}


# Events of re-validation's EventBridge Scheduler schedule (the schedule's Input in the template), and
# the operator's "every connection due" run: not CloudWatch scheduled events.
SCHEDULED = {"revalidate.scheduled.json": {}, "revalidate.all_due.json": {"all_due": True}}


def _all_events() -> list[Path]:
    """Every event but re-validation's and env.json."""
    return sorted(p for p in EVENTS_DIR.glob("*.json") if p.name != "env.json" and p.name not in SCHEDULED)


def test_scheduled_events_are_what_the_handler_reads() -> None:
    for name, expected in SCHEDULED.items():
        assert _load(EVENTS_DIR / name) == expected


def _events() -> list[Path]:
    """The API Gateway events."""
    return [p for p in _all_events() if "routeKey" in _load(p)]


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def test_every_scheduled_function_has_its_scheduled_event(sam: dict[str, Any]) -> None:
    scheduled = {
        Path(props["Properties"]["CodeUri"].rstrip("/")).name
        for props in sam["Resources"].values()
        if props["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "Schedule" for e in props["Properties"].get("Events", {}).values())
    }
    others = [_load(p) | {"file": p.name} for p in _all_events() if "routeKey" not in _load(p)]
    assert {e["file"].split(".")[0] for e in others} == scheduled
    assert all(e["source"] == "aws.events" and e["detail-type"] == "Scheduled Event" for e in others)


def test_every_route_has_exactly_one_event() -> None:
    route_keys = [_load(path)["routeKey"] for path in _events()]
    assert sorted(route_keys) == sorted(checks.EXPECTED_ROUTES)


@pytest.mark.parametrize("path", _events(), ids=lambda p: p.name)
def test_event_matches_its_route(path: Path) -> None:
    event = _load(path)
    function, public = checks.EXPECTED_ROUTES[event["routeKey"]]
    method, template = event["routeKey"].split(" ", 1)

    # Named after the function that serves it, so `sam local invoke <Function> -e <file>` pairs up
    assert path.name.startswith(FOLDERS[function] + ".")
    assert event["version"] == "2.0"
    context = event["requestContext"]
    assert context["routeKey"] == event["routeKey"] and context["http"]["method"] == method
    expected_path = template.replace("{id}", event.get("pathParameters", {}).get("id", "{id}"))
    assert event["rawPath"] == context["http"]["path"] == expected_path
    assert ("{id}" in template) == ("pathParameters" in event)
    if public:
        assert "authorizer" not in context, "public routes reach the function without a token"
    else:
        assert context["authorizer"]["jwt"]["claims"]["sub"], "the user is the JWT's sub claim"
    if "body" in event:
        json.loads(event["body"])
        assert event["isBase64Encoded"] is False


def test_env_json_sets_only_variables_the_template_declares(sam: dict[str, Any]) -> None:
    # `sam local invoke --env-vars` ignores variables the template does not declare.
    env = _load(EVENTS_DIR / "env.json")
    declared_globally = set(sam["Globals"]["Function"]["Environment"]["Variables"])
    assert set(env["Parameters"]) <= declared_globally
    for function, variables in env.items():
        if function == "Parameters":
            continue
        declared = declared_globally | set(
            sam["Resources"][function]["Properties"]["Environment"]["Variables"]
        )
        assert set(variables) <= declared, function
