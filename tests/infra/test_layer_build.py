"""The layer as layers/common/Makefile builds it (bytecode-only dependencies) runs every handler.

Built here for this machine's platform, since the arm64 wheels cannot load on it; the build steps
are the ones `sam build` runs for arm64.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def host_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layer")
    platform = f"manylinux2014_{os.uname().machine}"
    subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT / "layers/common"),
            "build-CommonLayer",
            f"ARTIFACTS_DIR={out}",
            f"PLATFORM={platform}",
        ],
        check=True,
        capture_output=True,
    )
    return out / "python"


def test_third_party_code_ships_as_bytecode_and_ours_with_sources(host_layer: Path) -> None:
    assert not [p for p in host_layer.rglob("*.py") if "backfuture" not in p.parts]
    assert (host_layer / "pydantic" / "main.pyc").exists()
    assert (host_layer / "backfuture" / "service.py").exists()
    assert list((host_layer / "backfuture" / "__pycache__").glob("service.cpython-313.pyc"))
    assert not (host_layer / "boto3").exists() and not (host_layer / "botocore").exists()


@pytest.mark.parametrize("function", ["add_connection", "test_connection", "get_status"])
def test_each_handler_imports_from_the_built_layer(host_layer: Path, function: str) -> None:
    # As in Lambda: the function's folder, the layer, then the runtime's boto3 (here: the venv's).
    runtime = sysconfig.get_paths()["purelib"]
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; sys.path.append(sys.argv[3]);"
        "import app, pydantic, aws_lambda_powertools, backfuture;"
        "assert pydantic.__file__.startswith(sys.argv[2]), pydantic.__file__;"
        "assert backfuture.__file__.startswith(sys.argv[2]);"
        "assert callable(app.lambda_handler)"
    )
    env = {"PATH": os.environ["PATH"], "TABLE_NAME": "t", "POWERTOOLS_TRACE_DISABLED": "true"}
    subprocess.run(
        [sys.executable, "-S", "-c", code, str(ROOT / "functions" / function), str(host_layer), runtime],
        check=True,
        env=env,
        cwd="/",
    )
