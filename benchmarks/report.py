"""One table of figures, printed as text and written as Markdown, with notes on what dominates."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.aws_calls import CallRow
from benchmarks.cold_start import BASELINE, TARGET_RATIO, ImportRow
from benchmarks.connection_speed import SpeedReport
from benchmarks.layer_size import GOAL_BYTES, RUNTIME_PROVIDED, LayerSize

HEADER = ("Benchmark", "Case", "Measured", "Goal", "Verdict")


@dataclass
class Results:
    speed: SpeedReport | None = None
    imports: list[ImportRow] = field(default_factory=list)
    import_packages: str = ""
    aws_calls: list[CallRow] = field(default_factory=list)
    layer: LayerSize | None = None


def _verdict(passed: bool | None) -> str:
    return "" if passed is None else ("PASS" if passed else "MISS")


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def table_rows(results: Results) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    if results.speed is not None:
        for row in results.speed.rows:
            ratio = f" = {row.ratio:.2f}x RTT" if row.ratio is not None else ""
            rows.append(
                (
                    "connection test",
                    f"{row.case.exchange} {row.case.label}, {row.mode}",
                    f"median {row.median_ms:.0f} ms, p90 {row.p90_ms:.0f} ms{ratio}"
                    f" ({row.exchange_calls} calls)",
                    f"<= {row.target}x",
                    _verdict(row.passed),
                )
            )
    for imp in results.imports:
        if imp.module == BASELINE:
            measured = f"CPU {imp.median_cpu_ms:.0f} ms, wall {imp.median_wall_ms:.0f} ms (baseline)"
            rows.append(("cold start", f"import {imp.module}", measured, "", ""))
            continue
        measured = (
            f"CPU {imp.median_cpu_ms:.0f} ms = {imp.cpu_ratio:.2f}x, "
            f"wall {imp.median_wall_ms:.0f} ms = {imp.wall_ratio:.2f}x"
        )
        rows.append(
            ("cold start", f"import {imp.module}", measured, f"<= {TARGET_RATIO}x", _verdict(imp.passed))
        )
        if imp.first_cpu_ms:
            measured = (
                f"CPU {imp.median_cold_cpu_ms:.0f} ms = {imp.cold_cpu_ratio:.2f}x"
                f" (the request: {imp.median_first_cpu_ms:.0f} ms)"
            )
            case = f"{imp.module} import + first request ({imp.first_request})"
            rows.append(("cold start", case, measured, "", ""))
    for call in results.aws_calls:
        listed = ", ".join(call.calls) or "none"
        goal = "" if call.goal is None else str(call.goal)
        rows.append(("AWS calls", call.operation, f"{call.count}: {listed}", goal, _verdict(call.passed)))
    if results.layer is not None:
        layer = results.layer
        rows.append(
            (
                "layer size",
                layer.source,
                _mb(layer.total_bytes),
                f"< {_mb(GOAL_BYTES)}",
                _verdict(layer.passed),
            )
        )
    return rows


def notes(results: Results) -> list[str]:
    lines: list[str] = []
    if results.speed is not None and results.speed.rows:
        latency = results.speed.rows[0].latency_ms
        lines.append(
            f"Connection test: simulator latency {latency} ms per response (the RTT), "
            f"{len(results.speed.rows[0].samples_ms)} runs per row; calls = exchange requests per test."
        )
        lines.append(
            "The simulator answers with TCP_NODELAY (simulator/core.py): http.server writes headers and"
            " body separately, and Nagle + delayed ACK would add ~40 ms to each simulated response."
        )
    if results.imports:
        lines.append(
            f"Cold start: packages from {results.import_packages}; Lambda variables set, bytecode cached."
        )
    for imp in results.imports:
        if imp.heavy_packages:
            heavy = ", ".join(f"{name} {ms:.0f} ms" for name, ms in imp.heavy_packages)
            lines.append(f"{imp.module} adds beyond boto3 (-X importtime, own time): {heavy}.")
        if imp.deferred_loaded:
            lines.append(f"{imp.module} loads at import: {', '.join(imp.deferred_loaded)} (should be lazy).")
    if results.layer is not None:
        layer = results.layer
        biggest = ", ".join(f"{name} {_mb(size)}" for name, size in layer.packages[:8])
        lines.append(f"Layer, biggest packages: {biggest}.")
        if not layer.passed:
            without_stack = _mb(layer.without(RUNTIME_PROVIDED))
            trimmed = _mb(layer.total_bytes - layer.botocore_unused_models_bytes)
            lines.append(
                "Without the boto3 stack the python3.13 runtime already ships"
                f" ({', '.join(RUNTIME_PROVIDED)}): {without_stack}; keeping it but dropping"
                f" botocore's models of services never called: {trimmed}."
            )
    return lines


def render_text(results: Results) -> str:
    rows = [HEADER, *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join([*lines, "", *notes(results)])


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.machine()}, "
        f"Python {sys.version.split()[0]}"
    )


def render_markdown(results: Results, *, command: str, date: str, method: str, history: str = "") -> str:
    def md_row(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    lines = [
        "# Benchmarks",
        "",
        "Speed and cost figures of the service (issue 3 item 7, issue 6 item 5). Regenerate with the",
        "command below; the file is overwritten by each run.",
        "",
        f"- Command: `{command}`",
        f"- Date: {date}",
        f"- Machine: {machine()}",
        "",
        md_row(HEADER),
        md_row(tuple("---" for _ in HEADER)),
        *(md_row(row) for row in table_rows(results)),
        "",
        "## Notes",
        "",
        *(f"- {line}" for line in notes(results)),
        "",
        *([history.strip(), ""] if history else []),
        "## Method",
        "",
        method.strip(),
        "",
    ]
    return "\n".join(lines)
