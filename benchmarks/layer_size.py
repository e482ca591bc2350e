"""The built layer's unpacked size: what Lambda extracts under /opt (the quota is 250 MB for a
function and its layers together; the project's goal is under 15 MB).

Measured on ``sam build``'s output (``.aws-sam/build/CommonLayer``) when it exists; otherwise the
layer's requirements are installed for the Lambda platform (python3.13, arm64 manylinux wheels)
into a temporary directory, plus the ``backfuture`` package, and that is measured instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAM_LAYER = ROOT / ".aws-sam" / "build" / "CommonLayer"
REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"
PACKAGE = ROOT / "layers" / "common" / "backfuture"
GOAL_BYTES = 15 * 1000 * 1000

# The python3.13 runtime ships boto3 and its dependencies; a layer that leaves them out uses those.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
# botocore service models the service uses (sts for credentials, xray for the tracer's sampler).
USED_MODELS = ("dynamodb", "secretsmanager", "kms", "sts", "xray")


@dataclass(frozen=True)
class LayerSize:
    source: str  # what was measured
    total_bytes: int
    packages: tuple[tuple[str, int], ...]  # (distribution, bytes), biggest first
    botocore_unused_models_bytes: int  # botocore/data for services the layer never calls

    @property
    def passed(self) -> bool:
        return self.total_bytes < GOAL_BYTES

    def without(self, names: tuple[str, ...]) -> int:
        return self.total_bytes - sum(size for name, size in self.packages if name in names)


def measure_layer_size(layer_dir: Path | None = None) -> LayerSize:
    if layer_dir is not None:
        return _measure(layer_dir, str(layer_dir))
    if SAM_LAYER.is_dir():
        return _measure(SAM_LAYER, f"{SAM_LAYER.relative_to(ROOT)} (sam build output)")
    with tempfile.TemporaryDirectory(prefix="layer-") as tmp:
        target = Path(tmp) / "python"
        _install(target)
        shutil.copytree(PACKAGE, target / "backfuture", ignore=shutil.ignore_patterns("__pycache__"))
        return _measure(Path(tmp), "requirements.txt installed for manylinux2014_aarch64 / 3.13 + backfuture")


def _install(target: Path) -> None:
    uv = shutil.which("uv")
    if uv is not None:
        command = [
            uv, "pip", "install", "--quiet", "--target", str(target),
            "--python-platform", "aarch64-manylinux2014", "--python-version", "3.13",
            "--only-binary", ":all:", "-r", str(REQUIREMENTS),
        ]  # fmt: skip
    else:
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
            "--platform", "manylinux2014_aarch64", "--python-version", "3.13",
            "--only-binary=:all:", "-r", str(REQUIREMENTS),
        ]  # fmt: skip
    subprocess.run(command, check=True)  # noqa: S603 - fixed arguments, our own requirements file


def _measure(root: Path, source: str) -> LayerSize:
    sizes: dict[str, int] = {}
    total = 0
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        size = path.stat().st_size
        total += size
        name = _distribution(path.relative_to(root))
        sizes[name] = sizes.get(name, 0) + size
    ranked = tuple(sorted(sizes.items(), key=lambda item: item[1], reverse=True))
    return LayerSize(source, total, ranked, _unused_models(root))


def _distribution(relative: Path) -> str:
    """The top-level package a file belongs to, with its ``*.dist-info`` counted alongside it."""
    parts = relative.parts
    top = parts[1] if parts[0] == "python" and len(parts) > 1 else parts[0]
    top = re.sub(r"-[^-]+\.(dist-info|data)$", "", top).removesuffix(".py")
    aliases = {"python_dateutil": "dateutil", "wrapt-stubs": "wrapt"}
    return aliases.get(top, top).lower().replace("-", "_")


def _unused_models(root: Path) -> int:
    data = next(iter(root.glob("**/botocore/data")), None)
    if data is None:
        return 0
    return sum(
        path.stat().st_size
        for service in data.iterdir()
        if service.is_dir() and service.name not in USED_MODELS
        for path in service.rglob("*")
        if path.is_file()
    )
