"""The load run (benchmarks/load.py) at a small size: its correctness invariants, never its timing."""

from __future__ import annotations

from collections import Counter

from benchmarks.load import SMOKE, run_load, summary
from tests.secret_guard import register


def test_concurrent_adds_races_tests_and_reads_keep_every_invariant() -> None:
    report = run_load(SMOKE, quiet=True)
    # The handlers' captured output is searched for these by the secret guard after the test.
    register(*report.secrets)

    failed = {name: detail for name, (ok, detail) in report.verification.checks.items() if not ok}
    assert not failed, summary(report)
    assert set(report.verification.checks) == {
        "every response well-formed and expected",
        "no 5xx",
        "no secret echoed",
        "each race has exactly one winner",
        "no lost update",
        "no duplicate name per user (ignoring case)",
        "no key connected twice",
        "no orphan (stores consistent, PROFILE counts match)",
    }

    # The run did what it claims: both kinds of race, each lost as the contract says; tests and reads.
    statuses = {op: Counter(s.status for s in samples) for op, samples in report.by_op().items()}
    assert report.skipped == 0 and len(report.samples) >= 60
    assert statuses["add (same name)"] == {201: SMOKE.users, 409: SMOKE.users * (SMOKE.same_name_racers - 1)}
    assert statuses["add (same key)"] == {201: SMOKE.key_races * SMOKE.key_racers}
    assert statuses["test (same key)"] == {
        200: SMOKE.key_races,
        409: SMOKE.key_races * (SMOKE.key_racers - 1),
    }
    assert statuses["add"] == {201: SMOKE.users * (SMOKE.adds_per_user + 1)}
    for op in ("test", "get", "list", "status"):
        assert statuses[op][200] > 0, op
