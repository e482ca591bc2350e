"""A handler's import loads only what every request needs; the rest waits for the first request.

The cold-start figure (``make bench``, docs/benchmarks.md) depends on it, and one eager import in a
handler or in a module it imports would undo it without failing anything else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cold_start import DEFERRED, FIRST_REQUESTS, HANDLERS

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import importlib, json, sys
importlib.import_module({module!r})
loaded = [name for name in {deferred!r} if name in sys.modules]
event = json.load(open({event!r}, encoding="utf-8"))
if {anonymous!r}:
    event["requestContext"].pop("authorizer", None)
class Context:
    function_name = "test-function"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id = "req-0000"
status = sys.modules[{module!r}].lambda_handler(event, Context())["statusCode"]
print(json.dumps([loaded, status, "pydantic" in sys.modules]))
"""


@pytest.mark.parametrize("module", HANDLERS)
def test_a_handler_imports_no_models_and_no_validation_until_its_first_request(module: str) -> None:
    event, anonymous, expected_status = FIRST_REQUESTS[module]
    script = _CHILD.format(
        module=module,
        deferred=DEFERRED,
        event=str(ROOT / "events" / f"{event}.json"),
        anonymous=anonymous,
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'common'}{os.pathsep}{ROOT}"}
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    loaded, status, pydantic_after_request = json.loads(completed.stdout.strip().splitlines()[-1])

    assert loaded == [], f"{module} loads at import: {loaded}"
    # The first request is still validated (the sample events pass validation), then answered.
    assert status == expected_status and pydantic_after_request
