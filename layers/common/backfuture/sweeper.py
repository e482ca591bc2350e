"""The orphan-secret sweeper: destroys connection secrets that no connection points at.

A secret can outlive every reference to it when a clean-up itself fails: an add whose transaction
failed and whose compensating DeleteSecret failed too (metric ``OrphanSecret``), or a write whose
outcome stayed unknown (``OrphanSecretSuspected``: the service keeps the secret rather than risk
destroying one an item points at). Run on a schedule, this finds every secret under the stack's
prefix older than ``min_age_s`` (an hour: anything younger may belong to a request still running)
and destroys it unless its connection's item points at it.

It never reads a secret's value: ListSecrets gives names, ARNs, tags and dates only. The item is
found from the secret's tags (``owner``, ``connection``), which IAM requires at creation. A secret
without them is not destroyed but counted (``UnattributedSecret``): only people can tell whose it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backfuture.aws import client, error_code
from backfuture.config import settings
from backfuture.errors import ApiError, StorageUnavailable
from backfuture.observability import logger, metrics
from backfuture.storage.repository import ConnectionRepository
from backfuture.storage.secrets import SecretVault

MIN_AGE_S = 3600


@dataclass
class SweepReport:
    checked: int = 0
    referenced: int = 0
    too_young: int = 0
    destroyed: int = 0
    unattributed: int = 0
    failures: int = 0
    destroyed_connections: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "referenced": self.referenced,
            "too_young": self.too_young,
            "destroyed": self.destroyed,
            "unattributed": self.unattributed,
            "failures": self.failures,
        }


class SecretSweeper:
    def __init__(
        self,
        secretsmanager: Any | None = None,
        repository: ConnectionRepository | None = None,
        vault: SecretVault | None = None,
    ) -> None:
        self._sm = secretsmanager or client("secretsmanager")
        self.repository = repository or ConnectionRepository()
        self.vault = vault or SecretVault(self._sm)

    def sweep(self, now: datetime | None = None, min_age_s: int = MIN_AGE_S) -> SweepReport:
        now = now or datetime.now(UTC)
        report = SweepReport()
        for secret in self._connection_secrets():
            report.checked += 1
            created = secret.get("CreatedDate")
            if not isinstance(created, datetime) or (now - created).total_seconds() < min_age_s:
                report.too_young += 1
                continue
            tags = {t.get("Key"): t.get("Value") for t in secret.get("Tags") or ()}
            owner, connection_id = tags.get("owner"), tags.get("connection")
            if not owner or not connection_id:
                report.unattributed += 1
                metrics.add_metric(name="UnattributedSecret", unit="Count", value=1)
                logger.error(
                    "connection secret without owner or connection tag", extra={"arn": secret["ARN"]}
                )
                continue
            try:
                if self._referenced(owner, connection_id, secret["ARN"]):
                    report.referenced += 1
                    continue
                self.vault.destroy(secret["ARN"])
            except StorageUnavailable as error:
                report.failures += 1
                metrics.add_metric(name="DependencyFailures", unit="Count", value=1)
                logger.error("sweep step failed", extra={"aws_error": str(error)})
                continue
            report.destroyed += 1
            report.destroyed_connections.append(connection_id)
            metrics.add_metric(name="OrphanSecretsDestroyed", unit="Count", value=1)
            logger.warning("orphan secret destroyed", extra={"connection_id": connection_id})
        return report

    def _referenced(self, owner: str, connection_id: str, arn: str) -> bool:
        """Whether the connection's item points at this secret (a remembered retired one does not count:
        it is waiting to be destroyed)."""
        try:
            record = self.repository.get(owner, connection_id)
        except ApiError:
            return False  # no such connection
        return record.secret_arn == arn

    def _connection_secrets(self) -> list[dict[str, Any]]:
        prefix = settings().secret_name_prefix
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {"Filters": [{"Key": "name", "Values": [prefix]}], "MaxResults": 100}
        try:
            while True:
                page = self._sm.list_secrets(**request)
                # The name filter matches prefixes; the check here keeps it exact whatever it matches.
                found += [s for s in page.get("SecretList", []) if str(s.get("Name", "")).startswith(prefix)]
                if not page.get("NextToken"):
                    return found
                request["NextToken"] = page["NextToken"]
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(error_code(error)) from None
