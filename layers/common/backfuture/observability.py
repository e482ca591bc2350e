"""Logger, tracer and metrics: one of each for the whole service.

Nothing here ever receives a secret: events are not logged (``log_event`` stays off), tracing does
not capture responses or errors of handlers (``POWERTOOLS_TRACER_CAPTURE_RESPONSE/ERROR=false`` in
the template, and ``capture_response=False`` in code), and users appear only as a hash of their id.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer


# Defaults for local runs; the template sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE.
class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is now (Lambda's stdout, or a test's or dev server's capture)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


logger = Logger(service="connections", logger_handler=logging.StreamHandler(_CurrentStdout()))
# Only botocore is patched at import. Powertools' default (patch_all) imports every library X-Ray can
# trace, httpx and sqlite3 included, in every function's cold start (measured: docs/benchmarks.md);
# connection_test patches httpx itself, so only test_connection loads it, and only when it runs a test.
tracer = Tracer(service="connections", patch_modules=("botocore",))
metrics = Metrics(namespace="BackFuture", service="connections")


# Reads publish no metric by design; Powertools would warn on every one of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def user_hash(user_id: str) -> str:
    """A short, stable pseudonym for log lines: correlates a user's requests without naming them."""
    return hashlib.sha256(f"backfuture-user:{user_id}".encode()).hexdigest()[:16]
