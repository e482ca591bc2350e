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


@pytest.fixture(scope="module")
def host_crypto_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("crypto-layer")
    platform = f"manylinux2014_{os.uname().machine}"
    subprocess.run(
        ["make", "-s", "-C", str(ROOT / "layers/crypto"), "build-CryptoLayer", f"ARTIFACTS_DIR={out}",
         f"PLATFORM={platform}"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return out / "python"


def test_the_crypto_layer_signs_a_coinbase_jwt(host_layer: Path, host_crypto_layer: Path) -> None:
    """test_connection with both layers, as the template attaches them, signs with an EC key; the
    common layer alone has no cryptography (the functions that never sign stay small)."""
    assert not (host_layer / "cryptography").exists()
    assert not [p for p in host_crypto_layer.rglob("*.py")] and (host_crypto_layer / "cryptography").is_dir()
    runtime = sysconfig.get_paths()["purelib"]
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2], sys.argv[3]]; sys.path.append(sys.argv[4]);"
        "import app, cryptography; from backfuture.exchanges import coinbase;"
        "assert cryptography.__file__.startswith(sys.argv[3]), cryptography.__file__;"
        "from cryptography.hazmat.primitives.asymmetric import ec;"
        "from cryptography.hazmat.primitives import serialization as s;"
        "k = ec.generate_private_key(ec.SECP256R1());"
        "f = s.PrivateFormat.TraditionalOpenSSL;"
        "pem = k.private_bytes(s.Encoding.PEM, f, s.NoEncryption()).decode();"
        "t = coinbase.build_jwt('organizations/o/apiKeys/k', pem, 'GET api.coinbase.com/x', 1, 'n');"
        "assert t.count('.') == 2"
    )
    env = {"PATH": os.environ["PATH"], "TABLE_NAME": "t", "POWERTOOLS_TRACE_DISABLED": "true"}
    subprocess.run(
        [sys.executable, "-S", "-c", code, str(ROOT / "functions" / "test_connection"), str(host_layer),
         str(host_crypto_layer), runtime],
        check=True,
        env=env,
        cwd="/",
    )  # fmt: skip
