"""Writes the layers' requirements from uv.lock: `make layer-requirements`.

The locked runtime closure (``uv export --no-dev``) minus the boto3 stack the python3.13 Lambda runtime
ships is split in two: the crypto packages (OpenSSL through ``cryptography``: about 16 MB, needed only
by the functions that sign Coinbase JWTs) go to ``layers/crypto``, everything else to
``layers/common``. Each file keeps its own header comment; every pin carries its sha256 hashes.
tests/unit/test_dependencies.py checks that both files are what this writes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]
# The Lambda runtime's boto3 stack: in the project (tests run with it), never in a layer.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six"})
# cryptography and what it needs at run time.
CRYPTO_PACKAGES = frozenset({"cryptography", "cffi", "pycparser"})
LAYERS = {
    "common": ROOT / "layers/common/requirements.txt",
    "crypto": ROOT / "layers/crypto/requirements.txt",
}


def exported() -> list[str]:
    """The locked runtime closure in pip's requirements format, one entry per package."""
    uv = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    text = subprocess.run(  # noqa: S603 - uv itself, with fixed arguments
        [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-header", "--no-annotate",
         *[arg for name in sorted(RUNTIME_PROVIDED) for arg in ("--no-emit-package", name)]],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    entries: list[str] = []
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and entries:
            entries[-1] += "\n" + line
        elif line.strip():
            entries.append(line)
    return entries


def package_name(entry: str) -> str:
    return entry.split("==", 1)[0].split("[", 1)[0].strip().lower()


def split() -> dict[str, list[str]]:
    layers: dict[str, list[str]] = {"common": [], "crypto": []}
    for entry in exported():
        layers["crypto" if package_name(entry) in CRYPTO_PACKAGES else "common"].append(entry)
    return layers


def main() -> None:
    for layer, entries in split().items():
        path = LAYERS[layer]
        header = (
            [line for line in path.read_text().splitlines() if line.startswith("#")] if path.exists() else []
        )
        path.write_text("\n".join([*header, *entries]) + "\n")


if __name__ == "__main__":
    main()
