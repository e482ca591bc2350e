"""Prints the fuzzing run's request count (the figure docs/evidence.md records)."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # pytest imports the module under a rootdir-relative name; find it by its own.
    for name, module in list(sys.modules.items()):
        if name.endswith("test_openapi_fuzz") and hasattr(module, "summary"):
            for line in module.summary():
                terminalreporter.write_line(line)
