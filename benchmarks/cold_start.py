"""Cold-start import time of each handler, as a ratio to importing boto3 alone.

Each import runs in a fresh interpreter (the same executable), which times exactly the module-level
work a Lambda init does for the handler, under the conditions of the Lambda runtime:

* the packages are the layer's, built by ``layers/common/Makefile`` (bytecode included) into a temporary
  directory, run with ``-S`` and PYTHONPATH = that directory, ``layers/common`` and the repository.
  (The dev virtualenv holds more: with click and rich installed, ``import httpx`` also loads its CLI
  and costs three times as much. Without uv the virtualenv is used, and the report says so.)
* the Lambda variables are set (``LAMBDA_TASK_ROOT``...), so Powertools' Tracer is active and the
  X-Ray SDK takes its Lambda path, as deployed; outside Lambda both behave differently.
* bytecode is cached (in a private PYTHONPYCACHEPREFIX, filled by one unmeasured run), as for the
  runtime's own boto3.

The runs of all targets are interleaved round by round, so a burst of load on the machine hits
every target alike, and the median is taken.

Two clocks are read inside the child around the ``import`` statement: wall time, and the process's
CPU time. On an idle machine they agree within a few per cent (imports are CPU-bound once the files
are in the page cache); on a shared machine the CPU time is the one other processes cannot inflate,
so the verdict uses the CPU-time ratio and both are reported.

After the import, the same interpreter handles one first request (``FIRST_REQUESTS``: a sample event
from ``events/`` that needs no AWS call), timed the same way. Handlers load their models and the
validation machinery with the first request rather than at import, so this figure shows where that
work went: import plus first request is what a cold invocation costs in all.

``python -X importtime`` then shows which packages a handler adds beyond boto3's own imports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import median

BASELINE = "boto3"
HANDLERS = (
    "functions.add_connection.app",
    "functions.test_connection.app",
    "functions.get_status.app",
)
TARGET_RATIO = 1.5

# The first request of each handler: a sample event (events/<name>.json), whether its identity is
# taken out, and the status it must get. Without identity, a request that would reach AWS is still
# validated (body, path), then answered 401 before any AWS call (its boto3 clients are made all the same).
FIRST_REQUESTS: dict[str, tuple[str, bool, int]] = {
    "functions.add_connection.app": ("add_connection.create_connection", True, 401),
    "functions.test_connection.app": ("test_connection.test_connection", True, 401),
    "functions.get_status.app": ("get_status.list_exchanges", False, 200),
}

_CHILD = """
import json, time
wall, cpu = time.perf_counter(), time.process_time()
import {module}
timings = [(time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000]
{request}
print(json.dumps(timings))
"""

_TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"

_REQUEST = """
class Context:
    function_name = "cold-start-benchmark"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cold-start-benchmark"
    aws_request_id = "cold-start-benchmark"

with open({event_path!r}, encoding="utf-8") as file:
    event = json.load(file)
if {anonymous!r}:
    event["requestContext"].pop("authorizer", None)
wall, cpu = time.perf_counter(), time.process_time()
status = {module}.lambda_handler(event, Context())["statusCode"]
timings += [(time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, status]
"""

# Modules a handler must not load at import time: the connection test's (on use), and pydantic, the
# models and Powertools' validation code (with the first request; tests/unit/test_handler_imports.py).
DEFERRED = (
    "httpx",
    "httpcore",
    "anyio",
    "backfuture.connection_test",
    "backfuture.exchanges.mexc",
    "pydantic",
    "backfuture.models",
    "backfuture.service",
    "aws_lambda_powertools.event_handler.openapi.params",
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
)


@dataclass(frozen=True)
class ImportRow:
    module: str
    wall_ms: tuple[float, ...]
    cpu_ms: tuple[float, ...]
    baseline_wall_ms: float
    baseline_cpu_ms: float
    heavy_packages: tuple[tuple[str, float], ...] = ()  # (package, ms of own import time) beyond boto3's
    deferred_loaded: tuple[str, ...] = ()  # DEFERRED modules this handler loads at import
    first_request: str = ""  # the sample event of FIRST_REQUESTS, empty for the baseline
    first_wall_ms: tuple[float, ...] = ()
    first_cpu_ms: tuple[float, ...] = ()

    @property
    def median_wall_ms(self) -> float:
        return median(self.wall_ms)

    @property
    def median_cpu_ms(self) -> float:
        return median(self.cpu_ms)

    @property
    def wall_ratio(self) -> float:
        return self.median_wall_ms / self.baseline_wall_ms

    @property
    def cpu_ratio(self) -> float:
        return self.median_cpu_ms / self.baseline_cpu_ms

    @property
    def median_first_cpu_ms(self) -> float:
        return median(self.first_cpu_ms) if self.first_cpu_ms else 0.0

    @property
    def median_cold_cpu_ms(self) -> float:
        """Import and first request, median of the per-run sums."""
        if not self.first_cpu_ms:
            return self.median_cpu_ms
        return median(a + b for a, b in zip(self.cpu_ms, self.first_cpu_ms, strict=True))

    @property
    def cold_cpu_ratio(self) -> float:
        return self.median_cold_cpu_ms / self.baseline_cpu_ms

    @property
    def passed(self) -> bool | None:
        return None if self.module == BASELINE else self.cpu_ratio <= TARGET_RATIO


ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


@dataclass(frozen=True)
class _Runtime:
    flags: tuple[str, ...]
    env: dict[str, str]
    packages: str  # what the report says about where the packages came from


def measure_cold_starts(
    repetitions: int = 7, handlers: tuple[str, ...] = HANDLERS, breakdown: bool = True
) -> tuple[str, list[ImportRow]]:
    """(where the packages came from, one row per target, boto3 first)."""
    with _lambda_like_runtime() as runtime:
        return runtime.packages, _measure(runtime, repetitions, handlers, breakdown)


def _measure(
    runtime: _Runtime, repetitions: int, handlers: tuple[str, ...], breakdown: bool
) -> list[ImportRow]:
    targets = (BASELINE, *handlers)
    for module in targets:
        _time_import(runtime, module)  # compiles and caches the bytecode
    samples: dict[str, list[list[float]]] = {module: [] for module in targets}
    for _ in range(repetitions):
        for module in targets:
            samples[module].append(_time_import(runtime, module))
    base_wall = median(run[0] for run in samples[BASELINE])
    base_cpu = median(run[1] for run in samples[BASELINE])
    baseline_modules = _import_profile(runtime, BASELINE) if breakdown else {}
    rows = []
    for module in targets:
        heavy: tuple[tuple[str, float], ...] = ()
        deferred: tuple[str, ...] = ()
        if breakdown and module != BASELINE:
            profile = _import_profile(runtime, module)
            heavy = _heaviest_packages(profile, baseline_modules)
            deferred = tuple(name for name in DEFERRED if name in profile)
        runs = samples[module]
        rows.append(
            ImportRow(
                module,
                tuple(run[0] for run in runs),
                tuple(run[1] for run in runs),
                base_wall,
                base_cpu,
                heavy,
                deferred,
                FIRST_REQUESTS[module][0] if module in FIRST_REQUESTS else "",
                tuple(run[2] for run in runs if len(run) > 2),
                tuple(run[3] for run in runs if len(run) > 2),
            )
        )
    return rows


@contextmanager
def _lambda_like_runtime() -> Iterator[_Runtime]:
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        env = dict(os.environ)
        for name in (
            "POWERTOOLS_TRACE_DISABLED",
            "PYTHONDONTWRITEBYTECODE",
            "AWS_SAM_LOCAL",
            "CHALICE_LOCAL",
        ):
            env.pop(name, None)
        env.update(
            {
                "LAMBDA_TASK_ROOT": str(ROOT),
                "AWS_LAMBDA_FUNCTION_NAME": "cold-start-benchmark",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
                "AWS_REGION": env.get("AWS_REGION", "us-east-1"),
                "AWS_DEFAULT_REGION": env.get("AWS_REGION", "us-east-1"),  # Lambda sets both
                "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache"),
                # As Lambda sets it for a traced invocation (not sampled: nothing is sent).
                "_X_AMZN_TRACE_ID": _TRACE_HEADER,
            }
        )
        layer, runtime = Path(tmp) / "layer", Path(tmp) / "runtime"
        if _build_layer(layer) and _install_runtime_boto3(runtime):
            # Lambda's order: the function code (here the repository root), the layer, the runtime.
            env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(layer / "python"), str(runtime)])
            yield _Runtime(("-S",), env, "the layer as layers/common/Makefile builds it, plus boto3")
        else:
            env["PYTHONPATH"] = f"{ROOT / 'layers' / 'common'}{os.pathsep}{ROOT}"
            yield _Runtime((), env, "the dev virtualenv (layer build failed): more packages than the layer")


def _build_layer(target: Path) -> bool:
    """The layer exactly as ``sam build`` makes it (bytecode included), for this machine's platform."""
    completed = subprocess.run(  # noqa: S603 - fixed arguments, our own Makefile
        [  # noqa: S607 - make from PATH, like the Makefile that calls this
            "make",
            "-s",
            "-C",
            str(ROOT / "layers" / "common"),
            "build-CommonLayer",
            f"ARTIFACTS_DIR={target}",
            f"PLATFORM=manylinux2014_{os.uname().machine}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.returncode == 0


def _install_runtime_boto3(target: Path) -> bool:
    """boto3 as the Lambda runtime provides it (outside the layer), at the locked version."""
    uv = os.environ.get("UV") or shutil.which("uv")  # the Makefile passes its own
    if uv is None:
        return False
    import boto3

    command = [uv, "pip", "install", "--quiet", "--target", str(target), "--python", sys.executable]
    completed = subprocess.run(  # noqa: S603 - fixed arguments
        [*command, f"boto3=={boto3.__version__}"], capture_output=True, text=True, check=False
    )
    return completed.returncode == 0


def _time_import(runtime: _Runtime, module: str) -> list[float]:
    """[import wall, import CPU] and, for a handler, [first request wall, first request CPU] (ms)."""
    request = ""
    if module in FIRST_REQUESTS:
        name, anonymous, _ = FIRST_REQUESTS[module]
        request = _REQUEST.format(module=module, event_path=str(EVENTS / f"{name}.json"), anonymous=anonymous)
    completed = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
        [sys.executable, *runtime.flags, "-c", _CHILD.format(module=module, request=request)],
        capture_output=True,
        text=True,
        check=True,
        env=runtime.env,
    )
    timings = [float(value) for value in json.loads(completed.stdout.strip().splitlines()[-1])]
    if module in FIRST_REQUESTS:
        status, expected = int(timings.pop()), FIRST_REQUESTS[module][2]
        if status != expected:
            raise RuntimeError(f"first request of {module}: status {status}, expected {expected}")
    return timings


def _import_profile(runtime: _Runtime, module: str) -> dict[str, float]:
    """Module -> its own import time in ms, from ``-X importtime``."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
        [sys.executable, *runtime.flags, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=runtime.env,
    )
    return parse_importtime(completed.stderr)


def parse_importtime(text: str) -> dict[str, float]:
    profile: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|", 2)
        profile[name.strip()] = int(self_us) / 1000
    return profile


def _heaviest_packages(
    profile: dict[str, float], baseline: dict[str, float], top: int = 6
) -> tuple[tuple[str, float], ...]:
    """Own import time by top-level package (``backfuture.models`` kept apart), beyond boto3's modules."""
    totals: dict[str, float] = {}
    for name, ms in profile.items():
        if name in baseline:
            continue
        parts = name.split(".")
        package = ".".join(parts[:2]) if parts[0] in ("backfuture", "functions") else parts[0]
        totals[package] = totals.get(package, 0.0) + ms
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return tuple((name, round(ms, 1)) for name, ms in ranked[:top])
