"""Settings from the environment, read once per container (tests call ``settings.cache_clear()``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    kms_key_id: str
    secret_name_prefix: str
    fingerprint_secret_arn: str
    egress_ips: tuple[str, ...]
    max_connections_per_user: int
    test_cooldown_s: int
    tests_per_user_per_hour: int
    connections_created_per_user_per_day: int
    # Multiplies every exchange's platform budget (backfuture.quotas). 1 in AWS; the test suites,
    # whose exchange is the local simulator, raise it.
    platform_budget_factor: float
    # Re-validation (backfuture.revalidation): a connection is due when its last test is older than
    # the interval; the schedule runs every run_minutes; at most max_per_exchange tests per exchange
    # per run (the platform's share of each exchange's rate limit for background work).
    revalidation_interval_hours: int = 24
    revalidation_run_minutes: int = 60
    revalidation_max_per_exchange: int = 100


def _ips(raw: str) -> tuple[str, ...]:
    return tuple(ip.strip() for ip in raw.split(",") if ip.strip())


@cache
def settings() -> Settings:
    env = os.environ
    return Settings(
        table_name=env.get("TABLE_NAME", "backfuture-connections"),
        kms_key_id=env.get("KMS_KEY_ID", "alias/backfuture-connections"),
        secret_name_prefix=env.get("SECRET_NAME_PREFIX", "backfuture/local/connections/"),
        fingerprint_secret_arn=env.get("FINGERPRINT_SECRET_ARN", "backfuture/local/fingerprint-pepper"),
        egress_ips=_ips(env.get("EGRESS_IPS", "203.0.113.10,203.0.113.11")),
        max_connections_per_user=int(env.get("MAX_CONNECTIONS_PER_USER", "20")),
        test_cooldown_s=int(env.get("TEST_COOLDOWN_S", "10")),
        tests_per_user_per_hour=int(env.get("TESTS_PER_USER_PER_HOUR", "60")),
        connections_created_per_user_per_day=int(env.get("CONNECTIONS_CREATED_PER_USER_PER_DAY", "50")),
        platform_budget_factor=float(env.get("PLATFORM_BUDGET_FACTOR", "1")),
        revalidation_interval_hours=int(env.get("REVALIDATION_INTERVAL_HOURS", "24")),
        revalidation_run_minutes=int(env.get("REVALIDATION_RUN_MINUTES", "60")),
        revalidation_max_per_exchange=int(env.get("REVALIDATION_MAX_PER_EXCHANGE", "100")),
    )
