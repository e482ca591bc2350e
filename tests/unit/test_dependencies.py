"""The layer ships exactly the runtime dependencies the tests run with."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _pins(lines: list[str]) -> dict[str, str]:
    return {name: version for name, (version, _) in _requirements(lines).items()}


def _requirements(lines: list[str]) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (pinned version, sha256 hashes), from pip's requirements format with continuations."""
    joined = " ".join(line.split(" #", 1)[0] for line in lines if not line.startswith("#"))
    found: dict[str, tuple[str, frozenset[str]]] = {}
    name = ""
    for entry in joined.replace("\\", " ").split():
        if entry.startswith("--hash=sha256:"):
            version, hashes = found[name]
            found[name] = (version, hashes | {entry.removeprefix("--hash=sha256:")})
        elif "==" in entry:
            name, _, version = entry.partition("==")
            name = name.split("[")[0].lower()
            found[name] = (version, frozenset())
        else:
            raise AssertionError(f"unexpected requirement entry {entry!r}")
    return found


# The runtime's boto3 stack: in the project (tests run with it), not in the layer.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six"}


def test_layer_requirements_are_the_locked_runtime_closure() -> None:
    exported = subprocess.run(
        [
            _uv(),
            "export",
            "--frozen",
            "--no-dev",
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
    assert _requirements(layer) == _requirements(exported), (
        "layers/common/requirements.txt is stale (versions or hashes): make layer-requirements"
    )
    assert not RUNTIME_PROVIDED & set(_pins(layer))


def test_the_layer_installs_only_hash_checked_wheels() -> None:
    # Every pin carries the sha256 of its distributions, and the build refuses anything else.
    layer = _requirements((ROOT / "layers/common/requirements.txt").read_text().splitlines())
    assert layer and all(len(hashes) >= 1 for _, hashes in layer.values()), "a pin without --hash"
    assert all(len(h) == 64 for _, hashes in layer.values() for h in hashes)
    build = (ROOT / "layers/common/Makefile").read_text()
    install = build[build.index("pip install") : build.index("-r requirements.txt")]
    assert "--require-hashes" in install and "--no-deps" in install, "the layer install must check hashes"


def test_every_direct_dependency_is_in_the_layer_at_the_locked_version() -> None:
    project = _pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    layer = _pins((ROOT / "layers/common/requirements.txt").read_text().splitlines())
    assert {k: v for k, v in project.items() if k not in RUNTIME_PROVIDED}.items() <= layer.items()


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    assert Path(found).exists(), "uv is needed (make install puts it in place)"
    return found
