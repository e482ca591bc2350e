"""Which connections a re-validation run re-tests: due ones, spread over the interval, capped per exchange."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backfuture.revalidation import select_due
from backfuture.storage.repository import ConnectionRecord

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY, HOUR = timedelta(hours=24), timedelta(hours=1)


def record(
    i: int, *, exchange: str = "mexc", status: str = "connected", age: timedelta = 2 * DAY
) -> ConnectionRecord:
    checked = (NOW - age).isoformat().replace("+00:00", "Z")
    return ConnectionRecord(
        owner=f"user-{i}",
        id=f"{i:026d}",
        name=f"c{i}",
        exchange=exchange,
        markets=["spot"],
        api_key_hint="abcd…wxyz",
        key_fingerprint=f"fp{i}",
        secret_arn=f"arn:secret:{i}",
        credentials_version=1,
        version=1,
        status=status,
        trading_ready=status == "connected",
        created_at=checked,
        updated_at=checked,
        checked_at=checked,
    )


def select(records: list[ConnectionRecord], *, cap: int = 100, all_due: bool = False) -> list[str]:
    chosen = select_due(
        records, now=NOW, interval=DAY, run_period=HOUR, max_per_exchange=cap, all_due=all_due
    )
    return [r.id for r in chosen]


def test_only_old_enough_online_or_unavailable_connections_are_due() -> None:
    records = [
        record(1),
        record(2, status="unavailable"),
        record(3, age=23 * HOUR),  # tested within the interval
        record(4, status="failed"),
        record(5, status="untested"),
        record(6, status="refused"),
    ]
    # (enough recently tested ones that this run's share, ceil(eligible / 24 x 1.25), is 2)
    records += [record(10 + i, age=HOUR) for i in range(24)]
    assert sorted(select(records)) == [record(1).id, record(2).id]


def test_a_burst_is_spread_over_the_interval_oldest_first() -> None:
    # 240 connections added the same day: each hourly run takes a 24th (plus a quarter to catch up)
    records = [record(i, age=2 * DAY + timedelta(seconds=i)) for i in range(240)]
    chosen = select(records)
    assert len(chosen) == 13  # ceil(240 / 24 * 1.25)
    assert chosen == [record(i).id for i in range(239, 226, -1)]  # the oldest tests first


def test_the_cap_applies_per_exchange() -> None:
    records = [record(i, exchange="mexc") for i in range(50)] + [
        record(100 + i, exchange="kucoin") for i in range(50)
    ]
    chosen = select(records, cap=5, all_due=True)
    assert len(chosen) == 10
    assert sum(c.startswith("0" * 23 + "1") for c in chosen) == 5  # five of kucoin's ids (100-149)


def test_all_due_ignores_age_and_share_but_not_the_cap() -> None:
    records = [record(i, age=HOUR) for i in range(30)]
    assert select(records) == []
    assert len(select(records, all_due=True)) == 30
    assert len(select(records, all_due=True, cap=7)) == 7


def test_a_connection_without_a_secret_is_never_tested() -> None:
    broken = record(1)
    broken.secret_arn = None
    assert select([broken], all_due=True) == []
