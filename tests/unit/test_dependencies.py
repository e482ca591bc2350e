"""The layer ships exactly the runtime dependencies the tests run with."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.split("[")[0].lower()] = version
    return pins


def test_layer_requirements_match_project_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = (ROOT / "layers/common/requirements.txt").read_text().splitlines()
    assert _pins(layer) == _pins(project)
    assert all(version for version in _pins(layer).values()), "every layer dependency is pinned"
