"""The layer ships exactly the runtime dependencies the tests run with."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

from tools import layer_requirements
from tools.layer_requirements import RUNTIME_PROVIDED

ROOT = Path(__file__).parents[2]


def _pins(lines: list[str]) -> dict[str, str]:
    return {name: version for name, (version, _) in _requirements(lines).items()}


def _requirements(lines: list[str]) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (pinned version, sha256 hashes), from pip's requirements format with continuations."""
    # Environment markers (" ; platform_python_implementation != 'PyPy'") are pip's to evaluate.
    joined = " ".join(line.split(" #", 1)[0].split(" ;", 1)[0] for line in lines if not line.startswith("#"))
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


def _layer(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    return _requirements(layer_requirements.LAYERS[name].read_text().splitlines())


def test_layer_requirements_are_the_locked_runtime_closure() -> None:
    exported = _requirements(
        subprocess.run(
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
    )
    common, crypto = _layer("common"), _layer("crypto")
    assert {**common, **crypto} == exported and not common.keys() & crypto.keys(), (
        "layers/*/requirements.txt are stale (versions or hashes): make layer-requirements"
    )
    assert set(crypto) == set(layer_requirements.CRYPTO_PACKAGES), "the crypto layer holds cryptography alone"
    assert not RUNTIME_PROVIDED & (set(common) | set(crypto))


def test_the_layers_install_only_hash_checked_wheels() -> None:
    # Every pin carries the sha256 of its distributions, and the build refuses anything else.
    for name in layer_requirements.LAYERS:
        layer = _layer(name)
        assert layer and all(len(hashes) >= 1 for _, hashes in layer.values()), (
            f"a pin without --hash ({name})"
        )
        assert all(len(h) == 64 for _, hashes in layer.values() for h in hashes)
        build = (ROOT / f"layers/{name}/Makefile").read_text()
        install = build[build.index("pip install") : build.index("-r requirements.txt")]
        assert "--require-hashes" in install and "--no-deps" in install, "the layer install must check hashes"


def test_every_direct_dependency_is_in_a_layer_at_the_locked_version() -> None:
    project = _pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    layers = {name: version for name, (version, _) in {**_layer("common"), **_layer("crypto")}.items()}
    assert {k: v for k, v in project.items() if k not in RUNTIME_PROVIDED}.items() <= layers.items()


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    assert Path(found).exists(), "uv is needed (make install puts it in place)"
    return found
