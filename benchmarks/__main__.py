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
        DOCS.write_text(render_markdown(results, command=command, date=date, method=METHOD))
        print(f"written to {DOCS.relative_to(Path.cwd()) if DOCS.is_relative_to(Path.cwd()) else DOCS}")
    return 0


def _step(name: str) -> None:
    print(f"... {name}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
