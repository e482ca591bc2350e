"""Each benchmark runs and reports well-formed figures (never a timing assertion: see benchmarks/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.aws_calls import GOALS, count_aws_calls
from benchmarks.cold_start import BASELINE, HANDLERS, measure_cold_starts, parse_importtime
from benchmarks.connection_speed import all_cases, measure_connection_tests
from benchmarks.layer_size import measure_layer_size
from benchmarks.report import Results, render_markdown, render_text


def test_connection_speed_measures_every_case_warm_and_cold() -> None:
    report = measure_connection_tests(repetitions=1, latency_ms=0)

    assert [(row.case, row.mode) for row in report.rows] == [
        (case, mode) for case in all_cases() for mode in ("warm", "cold")
    ]
    for row in report.rows:
        assert len(row.samples_ms) == 1 and row.median_ms > 0 and row.p90_ms > 0
        assert row.exchange_calls >= 2
        assert row.ratio is None and row.passed is None  # no latency simulated: no verdict
    cold = {row.case: row.exchange_calls for row in report.rows if row.mode == "cold"}
    warm = {row.case: row.exchange_calls for row in report.rows if row.mode == "warm"}
    assert all(cold[case] > warm[case] for case in all_cases())  # cold runs fetch the server time


def test_cold_start_times_boto3_and_each_handler() -> None:
    source, rows = measure_cold_starts(repetitions=1, breakdown=False)

    assert source
    assert [row.module for row in rows] == [BASELINE, *HANDLERS]
    for row in rows:
        assert row.median_wall_ms > 0 and row.median_cpu_ms > 0 and row.cpu_ratio > 0
    assert rows[0].passed is None and all(row.passed is not None for row in rows[1:])
    # Each handler also served its first request (its status was checked), timed on its own.
    assert not rows[0].first_cpu_ms
    for row in rows[1:]:
        assert row.first_request and len(row.first_cpu_ms) == 1 and row.median_first_cpu_ms > 0
        assert row.median_cold_cpu_ms > row.median_cpu_ms


def test_importtime_lines_are_parsed() -> None:
    text = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:      1500 |       2000 |   backfuture.models\n"
        "import time:       250 |        250 | json\n"
    )
    assert parse_importtime(text) == {"backfuture.models": 1.5, "json": 0.25}


def test_aws_calls_are_counted_for_every_operation() -> None:
    rows = {row.operation: row for row in count_aws_calls()}

    assert set(GOALS) <= set(rows)
    assert {"status", "rename", "replace credentials", "delete"} <= set(rows)
    assert all(row.count >= 1 for row in rows.values())
    assert all("." in call for row in rows.values() for call in row.calls)


def test_layer_size_sums_files_per_package(tmp_path: Path) -> None:
    package = tmp_path / "python" / "somepkg"
    package.mkdir(parents=True)
    (package / "a.py").write_bytes(b"x" * 300)
    (tmp_path / "python" / "somepkg-1.0.dist-info").mkdir()
    (tmp_path / "python" / "somepkg-1.0.dist-info" / "METADATA").write_bytes(b"y" * 100)
    (tmp_path / "python" / "six.py").write_bytes(b"z" * 50)

    size = measure_layer_size(tmp_path)

    assert size.total_bytes == 450
    assert size.packages == (("somepkg", 400), ("six", 50))
    assert size.passed


def test_report_renders_every_row(tmp_path: Path) -> None:
    results = Results(
        speed=measure_connection_tests(repetitions=1, latency_ms=0, cases=all_cases()[:1]),
        layer=measure_layer_size(_tiny_layer(tmp_path)),
    )
    text = render_text(results)
    markdown = render_markdown(results, command="make bench", date="today", method="how")

    assert f"{all_cases()[0].exchange} spot, warm" in text and "layer size" in text
    assert markdown.count("| connection test |") == 2 and "- Command: `make bench`" in markdown


def _tiny_layer(root: Path) -> Any:
    (root / "python").mkdir()
    (root / "python" / "mod.py").write_text("x = 1\n")
    return root
