"""The leak guard itself can fail: a test that prints a registered secret is caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.secret_guard import assert_no_secret, leaks, register

CANARY = "canary-secret-value-0123456789"


def test_guard_finds_a_registered_secret() -> None:
    register(CANARY)
    assert leaks(f"log line with {CANARY} inside") == [CANARY]
    with pytest.raises(AssertionError, match="1 secret value"):
        assert_no_secret(f"...{CANARY}...", where="test")
    assert_no_secret("nothing here", where="test")


@pytest.mark.prints_secrets
def test_guard_fails_a_test_that_prints_a_secret(pytester: pytest.Pytester) -> None:
    # The suite's own conftest, with its autouse output guard, around a test that leaks.
    pytester.makeconftest((Path(__file__).parents[1] / "conftest.py").read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    prints_secrets: canary\n")
    pytester.makepyfile(
        f"""
from tests.secret_guard import register

def test_leaks():
    register("{CANARY}")
    print("oops {CANARY}")
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    assert "1 secret value(s) leaked in output of test_leaks" in result.stdout.str()
