"""``python -m benchmarks``: run every benchmark, print the table, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import aws_calls, cold_start, connection_speed, layer_size
from benchmarks.report import Results, render_markdown, render_text

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

METHOD = """
- **Connection test** (`benchmarks/connection_speed.py`): end to end through
  `backfuture.connection_test.run_connection_test` against the exchange simulator in the same
  process, with `Simulator.config.latency_ms` added to every response, using each exchange's plain
  connecting demo key (MEXC `mx0demoConnectedFutures`, KuCoin `connected`). Rows: spot; "futures
  (spot+futures)" asks for both markets (both hosts, both clocks, the most calls); "futures only".
  *Warm*: one thread (so one event loop and one HTTP client with keep-alive connections, as in a warm
  container), one unmeasured run first, then N runs with the cached clock offset. *Cold*: each run in
  a new thread (new event loop, new HTTP client and connections) after `server_clock.forget()`.
  Median and nearest-rank p90 of N runs, ratio = median / latency. Loopback has no TLS: in
  production a cold container also pays TCP and TLS handshakes to the exchange's edge.
- **Cold start** (`benchmarks/cold_start.py`): `import <handler module>` timed inside a fresh
  interpreter (same executable and PYTHONPATH, tracing on as in Lambda), interleaved with `import
  boto3` round by round, median of N. Verdict on the ratio of CPU time (immune to other load on the
  machine), wall time shown too. The same interpreter then handles one first request (a sample
  event from `events/`, without identity where it would reach AWS: validated, then 401; boto3
  clients made), timed alike: import + first request is what a cold invocation costs in all. The
  heaviest packages beyond boto3's own imports come from `python -X importtime` (own time per
  module, summed per package).
- **AWS calls** (`benchmarks/aws_calls.py`): each operation through its real Lambda handler with an
  API Gateway HTTP API event, under `moto.mock_aws` with the template's table, KMS key and pepper
  secret (`local.aws.create_resources`), the simulator answering the connection test. Counted with
  botocore's `before-call` event on the service's clients (one per API operation; retries would
  not add to it). The whole lifecycle runs once unmeasured first (warm container: clients, service
  objects and the fingerprint pepper cached), then once measured on a new connection.
- **Layer size** (`benchmarks/layer_size.py`): the bytes of every file in
  `.aws-sam/build/CommonLayer` (run `sam build` first for a current figure), or, without it,
  `layers/common/requirements.txt` installed for manylinux2014_aarch64 / Python 3.13 plus
  `backfuture`. Per package, `*.dist-info` counted with its package.
"""


# Figures of past runs that the table above cannot show: kept here, so each run writes them again.
HISTORY = """
## Cold start before and after issue 9 (item 7)

Measured with `benchmarks/cold_start.py` as it is now (layer build, Lambda variables, bytecode
cached; 11 fresh interpreters per row, interleaved, medians of CPU time) on the commit before
(`a154c65`) and after, back to back on 2026-11-29 06:08-06:11 UTC, load average 2-3 (other
engineers' jobs; CPU time is what they cannot inflate). `import boto3` alone: 100-101 ms both times.

| handler | import, before | import, after | import + first request, before | import + first request, after |
| --- | --- | --- | --- | --- |
| add_connection | 193 ms = 1.91x | 140 ms = 1.40x | 283 ms | 247 ms |
| test_connection | 195 ms = 1.93x | 141 ms = 1.41x | 286 ms | 243 ms |
| get_status | 190 ms = 1.88x | 144 ms = 1.44x | 194 ms | 193 ms |

- What moved from import to the first request: pydantic and pydantic-core, the models, and
  Powertools' validation middlewares and OpenAPI parameter code. The resolver is made with
  validation off and switched on at once (`backfuture.api.make_app`), which Powertools honours by
  building its middlewares on a route's first call; handlers name their models and `Path` through
  `backfuture.lazy.LazyModule` in annotations, which Powertools reads at that first call.
- What got cheaper in all: models are built on first use (`defer_build`), so a function builds only
  those its routes use; the error answers document `ErrorBody` by reference (`tools/openapi.py`
  adds its schema), so no route builds it at run time; and one boto3 session makes every client,
  which saves a cold add or test about 35 ms of botocore data loaded twice.
- What is left at import beyond boto3, about 40 ms (`-X importtime`, see the notes above): the
  Powertools event-handler package, whose `__init__` imports every resolver it has (AppSync's
  asyncio included) and runs whenever any of its modules is imported, the resolver module
  `api_gateway` included, about 10-15 ms; the data-classes package root the resolver imports;
  the X-Ray SDK and wrapt, loaded when the tracer patches botocore at import (about 7 ms); and the
  service's own modules (about 5 ms). Skipping the event-handler `__init__` would need a stand-in
  package module: measured at about 5 ms, not worth the fragility.

## make test before and after (issue 9, item 8)

`make test` on this machine (2 CPUs, shared with four other engineers' jobs), `/usr/bin/time -v`:

| | before (`a154c65`) | after |
| --- | --- | --- |
| how | lint, types, pytest, infra checks in turn | all at once, pytest in 2 xdist workers |
| load average at start / end | 0.6 / 1.9 | 1.5 / 3.5 |
| wall | 4 min 35 s | 3 min 24 s (a second run: 3 min 55 s, load 1.6 / 3.9) |
| CPU (user + system) | 240 s | 201 s |
| pytest suites | 930 tests, 221 s | 933 tests, 202 s (beside the infra checks) |
| infra checks | 41 s | 90 s (beside the pytest suites) |

- The CPU saved is mostly bytecode: the environment sets `PYTHONDONTWRITEBYTECODE`, so every
  interpreter compiled its modules again and pytest rewrote the asserts of its plugins' packages
  (schemathesis, hypothesis, anyio: 350 modules, about 1.5 s) in every process; the Makefile now
  lets Python write bytecode into the ignored `__pycache__` directories.
- The wall time depends on the other jobs: the same `make test` took 6 min 38 s (without the
  bytecode change) while the load average was 3-6.5. `make check` (lint, types, unit tests):
  24 s, or 35 s with no mypy cache, at load average 2.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="connection tests per row (default 15)")
    parser.add_argument("--latency-ms", type=int, default=100, help="simulated latency per response")
    parser.add_argument(
        "--import-runs", type=int, default=7, help="fresh interpreters per import (default 7)"
    )
    parser.add_argument("--no-docs", action="store_true", help="print only; do not write docs/benchmarks.md")
    args = parser.parse_args(argv)

    started = time.monotonic()
    results = Results()
    _step("connection tests")
    results.speed = connection_speed.measure_connection_tests(args.runs, args.latency_ms)
    _step("cold starts")
    results.import_packages, results.imports = cold_start.measure_cold_starts(args.import_runs)
    _step("AWS calls")
    results.aws_calls = aws_calls.count_aws_calls()
    _step("layer size")
    results.layer = layer_size.measure_layer_size()

    print(render_text(results))
    print(f"\n({time.monotonic() - started:.0f} s)")
    if not args.no_docs:
        command = "make bench  # = python -m benchmarks" + (f" {' '.join(argv)}" if argv else "")
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        DOCS.write_text(render_markdown(results, command=command, date=date, method=METHOD, history=HISTORY))
        print(f"written to {DOCS.relative_to(Path.cwd()) if DOCS.is_relative_to(Path.cwd()) else DOCS}")
    return 0


def _step(name: str) -> None:
    print(f"... {name}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
