"""The layer ships exactly the runtime dependencies the tests run with."""

from __future__ import annotations

import shutil
import subprocess
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


# The runtime's boto3 stack: in the project (tests run with it), not in the layer.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six"}


def test_layer_requirements_are_the_locked_runtime_closure() -> None:
    exported = subprocess.run(
        [
            _uv(),
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--no-annotate",
            *[arg for name in sorted(RUNTIME_PROVIDED) for arg in ("--no-emit-package", name)],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    layer = (ROOT / "layers/common/requirements.txt").read_text().splitlines()
    assert _pins(layer) == _pins(exported), "layers/common/requirements.txt is stale: make layer-requirements"
    assert not RUNTIME_PROVIDED & set(_pins(layer))


def test_every_direct_dependency_is_in_the_layer_at_the_locked_version() -> None:
    project = _pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    layer = _pins((ROOT / "layers/common/requirements.txt").read_text().splitlines())
    assert {k: v for k, v in project.items() if k not in RUNTIME_PROVIDED}.items() <= layer.items()


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    assert Path(found).exists(), "uv is needed (make install puts it in place)"
    return found
