"""Recorded answer shapes (``python -m tools.live_check --shapes``) replayed against the readers.

Every file in ``tests/exchanges/shapes/`` holds the shapes of one live check: field names and value
types (codes, permission names and flags kept). Each successful answer is rebuilt with sample values
of the recorded types and must still be read by its call as a success: the exchange module's
parsers agree with what the exchange really sends. The committed files come from the simulator
(``test_live_check_records_shapes_without_secrets`` below shows how); an operator adds the live ones
after a deploy (docs/deploy.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backfuture.engine.http import ExchangeResponse
from backfuture.engine.probe import classify
from backfuture.exchanges import exchange, is_supported
from simulator.core import Simulator
from tests.secret_guard import assert_no_secret

SHAPES = Path(__file__).parent / "shapes"
# "1" for a string: it reads as text and as a number-in-a-string alike (timestamps, balances).
SAMPLES: dict[str, Any] = {"str": "1", "int": 1, "float": 1.0}


def sample(shape: Any) -> Any:
    """A body of the recorded shape: kept values as they were, types replaced by a sample."""
    if (
        isinstance(shape, dict)
        and len(shape) == 1
        and next(iter(shape)) in SAMPLES
        and None in shape.values()
    ):
        return SAMPLES[next(iter(shape))]
    if isinstance(shape, dict):
        return {key: sample(value) for key, value in shape.items()}
    if isinstance(shape, list):
        return [sample(item) for item in shape]
    return shape


RECORDED = [
    pytest.param(path, answer, id=f"{path.stem}-{answer['call']}-{index}")
    for path in sorted(SHAPES.glob("*.json"))
    for index, answer in enumerate(json.loads(path.read_text())["answers"])
    if 200 <= answer["status"] < 300
]


@pytest.mark.parametrize(("path", "answer"), RECORDED)
def test_recorded_successes_are_read_as_successes(path: Path, answer: dict[str, Any]) -> None:
    exchange_id = json.loads(path.read_text())["exchange"]
    assert is_supported(exchange_id)
    spec = exchange(exchange_id)
    call = next(c for c in spec.calls if c.name == answer["call"])
    response = ExchangeResponse(answer["status"], httpx.Headers(), sample(answer["body"]))
    result = classify(call, spec.host(call.host), response)
    assert result.ok, (answer["call"], result.failure)


@pytest.fixture(scope="module")
def every_venue() -> Iterator[Simulator]:
    from simulator import all_venues

    sim = Simulator(all_venues()).start()
    yield sim
    sim.stop()


def test_live_check_records_shapes_without_secrets(every_venue: Simulator, tmp_path: Path) -> None:
    """The operator's tool, run against the simulator: a diagnosis on stdout, shapes in a file, and no
    secret, balance or id in either."""
    from simulator import all_demo_keys, base_url_variables

    demo = next(d for d in all_demo_keys() if d.outcome == "connected" and not d.warnings)
    variables = base_url_variables().items()
    env = {**os.environ, **{var: every_venue.base_url(venue) for var, venue in variables}}
    env.update(BACKFUTURE_LIVE_API_KEY=demo.api_key, BACKFUTURE_LIVE_API_SECRET=demo.api_secret)
    if demo.passphrase:
        env["BACKFUTURE_LIVE_PASSPHRASE"] = demo.passphrase
    out = tmp_path / "shapes.json"
    done = subprocess.run(
        [sys.executable, "-m", "tools.live_check", "--exchange", demo.exchange, "--shapes", str(out)],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout)["status"] == "connected"
    recorded = out.read_text()
    for text in (done.stdout, done.stderr, recorded):
        assert_no_secret(text, where="live check output")
        assert demo.api_key not in text and demo.api_secret not in text
    answers = json.loads(recorded)["answers"]
    assert answers and all(a["call"] in {c.name for c in exchange(demo.exchange).calls} for a in answers)
