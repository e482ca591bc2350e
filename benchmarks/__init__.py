"""Speed and cost benchmarks: ``python -m benchmarks`` (``make bench``) prints one table and writes
``docs/benchmarks.md``.

* :mod:`benchmarks.connection_speed`: connection-test time per exchange and market, warm and cold,
  against the simulator with a fixed latency per response;
* :mod:`benchmarks.cold_start`: each handler's import time as a ratio to importing boto3 alone, and
  its first request after it;
* :mod:`benchmarks.aws_calls`: AWS API calls per operation on a warm container (moto);
* :mod:`benchmarks.layer_size`: the built layer's unpacked size.

Figures are printed against their goals; nothing here is a timed test (timings depend on the
machine), ``tests/unit/test_benchmarks.py`` only checks that each benchmark runs.
"""
