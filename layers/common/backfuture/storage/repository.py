"""Connection metadata and status in one DynamoDB table.

Items (``PK`` / ``SK``):

* ``USER#<sub>`` / ``CONN#<id>``: the connection. Ids are ULIDs, so a descending query lists the
  newest first. Holds no secret: the secret's ARN, a key hint and a keyed key fingerprint.
* ``USER#<sub>`` / ``NAME#<casefolded name>``: the name lock (names are unique per user).
* ``KEY#<fingerprint>`` / ``KEY``: the key lock (one API key, one connection on the platform). It is
  taken when a test of the key passes or is refused, never when a key is merely added: knowing a
  key string without its secret must not let anyone block its owner (contract, "One key, one
  connection"). The connection that holds it has ``key_locked``.
* ``USER#<sub>`` / ``PROFILE``: the user's connection count (the per-user cap).
* ``USER#<sub>`` / ``QUOTA#<name>#<window>`` and ``PLATFORM#budget`` / ``<exchange>#<window>``:
  fixed-window counters of the abuse limits (backfuture.quotas), removed by the table's TTL.
  ``PLATFORM#errors`` / ``<exchange>#<endpoint>#<window>``: the error answers an exchange gave
  (its error budget), added after a test and checked by the next one's quota transaction.
* ``USER#<sub>`` / ``EVENT#<ULID>``: the audit trail (``backfuture.audit``), written in the same
  transaction as the change each event records; the ``ConnectionEvents`` index serves one
  connection's trail.

Every rule is a condition on a write, never a read before the write, so two concurrent requests
cannot both pass it. Multi-item changes are single transactions. The partition key always comes
from the caller's JWT ``sub``: a connection of another user is simply not found.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backfuture.audit import trail_key
from backfuture.aws import client, error_code
from backfuture.clock import iso_now
from backfuture.config import settings
from backfuture.errors import ApiError, ErrorCode, StorageUnavailable

EVENTS_INDEX = "ConnectionEvents"


def user_pk(owner: str) -> str:
    return f"USER#{owner}"


def conn_sk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def name_key(name: str) -> str:
    return name.casefold()


@dataclass
class ConnectionRecord:
    """A connection item, as the service uses it."""

    owner: str
    id: str
    name: str
    exchange: str
    markets: list[str]
    api_key_hint: str
    key_fingerprint: str
    secret_arn: str | None
    credentials_version: int
    version: int
    status: str
    trading_ready: bool
    created_at: str
    updated_at: str
    checked_at: str | None = None
    status_doc: str | None = None  # the last status document, as JSON text
    last_test_at_ms: int | None = None
    # Replaced secrets whose destruction failed; destroyed by the next replacement or the delete.
    retired_secret_arns: list[str] = field(default_factory=list)
    key_locked: bool = False  # this connection holds its key's lock (a test passed or refused it)
    # The user confirmed that the key cannot withdraw (cleared by any credential change).
    withdrawal_disabled_confirmed_at: str | None = None
    key_expires_at: str | None = None  # where the exchange reports it (last test)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "PK": user_pk(self.owner),
            "SK": conn_sk(self.id),
            "kind": "connection",
            "id": self.id,
            "name": self.name,
            "name_key": name_key(self.name),
            "exchange": self.exchange,
            "markets": list(self.markets),
            "api_key_hint": self.api_key_hint,
            "key_fingerprint": self.key_fingerprint,
            "credentials_version": self.credentials_version,
            "version": self.version,
            "status": self.status,
            "trading_ready": self.trading_ready,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "key_locked": self.key_locked,
        }
        optional = {
            "secret_arn": self.secret_arn,
            "checked_at": self.checked_at,
            "status_doc": self.status_doc,
            "last_test_at_ms": self.last_test_at_ms,
            "withdrawal_disabled_confirmed_at": self.withdrawal_disabled_confirmed_at,
            "key_expires_at": self.key_expires_at,
        }
        item.update({k: v for k, v in optional.items() if v is not None})
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ConnectionRecord:
        last_test = item.get("last_test_at_ms")
        return cls(
            owner=str(item["PK"]).removeprefix("USER#"),
            id=item["id"],
            name=item["name"],
            exchange=item["exchange"],
            markets=list(item["markets"]),
            api_key_hint=item["api_key_hint"],
            key_fingerprint=item["key_fingerprint"],
            secret_arn=item.get("secret_arn"),
            credentials_version=int(item["credentials_version"]),
            version=int(item["version"]),
            status=item["status"],
            trading_ready=bool(item.get("trading_ready", False)),
            created_at=item["created_at"],
            updated_at=item["updated_at"],
            checked_at=item.get("checked_at"),
            status_doc=item.get("status_doc"),
            last_test_at_ms=int(last_test) if last_test is not None else None,
            retired_secret_arns=sorted(item.get("retired_secret_arns") or ()),
            key_locked=bool(item.get("key_locked", False)),
            withdrawal_disabled_confirmed_at=item.get("withdrawal_disabled_confirmed_at"),
            key_expires_at=item.get("key_expires_at"),
        )


@dataclass(frozen=True)
class Counter:
    """One fixed-window counter of an abuse limit (ConnectionRepository.take_together)."""

    pk: str
    sk: str
    cost: int
    limit: int
    window_end_s: int


@dataclass(frozen=True)
class Ceiling:
    """A counter filled elsewhere (an exchange's error answers): a transaction only checks that it
    is under its limit (ConnectionRepository.take_together)."""

    pk: str
    sk: str
    limit: int


@dataclass(frozen=True)
class TestClaim:
    """The outcome of claiming a connection for a test."""

    record: ConnectionRecord | None = None
    retry_after_s: int | None = None  # set when a recent test blocks this one


class ConnectionRepository:
    def __init__(self, dynamodb: Any | None = None) -> None:
        self._db = dynamodb or client("dynamodb")
        self._table = settings().table_name
        self._serializer: Any = None
        self._deserializer: Any = None

    # -- serialization (boto3's low-level client: one client for reads, writes and transactions)

    def _ser(self, value: dict[str, Any]) -> dict[str, Any]:
        if self._serializer is None:
            from boto3.dynamodb.types import TypeSerializer

            self._serializer = TypeSerializer()
        return {k: self._serializer.serialize(v) for k, v in value.items()}

    def _des(self, item: dict[str, Any]) -> dict[str, Any]:
        if self._deserializer is None:
            from boto3.dynamodb.types import TypeDeserializer

            self._deserializer = TypeDeserializer()
        return {k: self._deserializer.deserialize(v) for k, v in item.items()}

    def _key(self, owner: str, connection_id: str) -> dict[str, Any]:
        return self._ser({"PK": user_pk(owner), "SK": conn_sk(connection_id)})

    # -- reads

    def get(self, owner: str, connection_id: str) -> ConnectionRecord:
        try:
            response = self._db.get_item(
                TableName=self._table, Key=self._key(owner, connection_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from None
        if "Item" not in response:
            raise ApiError(ErrorCode.NOT_FOUND)
        return ConnectionRecord.from_item(self._des(response["Item"]))

    def list_connections(self, owner: str) -> list[ConnectionRecord]:
        records: list[ConnectionRecord] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :conn)",
            "ExpressionAttributeValues": self._ser({":pk": user_pk(owner), ":conn": "CONN#"}),
            "ScanIndexForward": False,
        }
        try:
            while True:
                response = self._db.query(**query)
                records.extend(ConnectionRecord.from_item(self._des(i)) for i in response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    return records
                query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from None

    # -- writes

    def create(self, record: ConnectionRecord, now_s: int, events: Sequence[dict[str, Any]] = ()) -> None:
        """Store a new connection with its name lock, the user's counts and its audit events, atomically.

        The key is not locked here (a test does that); only a key that another connection holds
        locked is refused. Only a committed creation counts against the daily quota.
        """
        cap = settings().max_connections_per_user
        daily = settings().connections_created_per_user_per_day
        day = now_s // 86_400
        owner_pk = user_pk(record.owner)
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._ser(record.to_item()),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._ser(_name_lock(record.owner, record.name, record.id)),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            _key_not_locked(self._table, self._ser, record.key_fingerprint, record.id),
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._ser({"PK": owner_pk, "SK": "PROFILE"}),
                    "UpdateExpression": (
                        "SET connection_count = if_not_exists(connection_count, :zero) + :one"
                    ),
                    "ConditionExpression": (
                        "attribute_not_exists(connection_count) OR connection_count < :cap"
                    ),
                    "ExpressionAttributeValues": self._ser({":zero": 0, ":one": 1, ":cap": cap}),
                }
            },
            {"Update": self._counter(owner_pk, f"QUOTA#created#{day}", 1, daily, (day + 1) * 86_400)},
        ]
        self._transact(
            items + self._puts(events),
            [
                ErrorCode.CONFLICT,
                ErrorCode.NAME_TAKEN,
                ErrorCode.KEY_ALREADY_CONNECTED,
                ErrorCode.CONNECTION_LIMIT_REACHED,
                quota_exceeded("CONNECTIONS_CREATED_PER_USER_PER_DAY", daily, (day + 1) * 86_400 - now_s),
            ],
        )

    def replace_credentials(
        self,
        current: ConnectionRecord,
        *,
        secret_arn: str,
        fingerprint: str,
        api_key_hint: str,
        events: Sequence[dict[str, Any]] = (),
    ) -> ConnectionRecord:
        """Point the connection at a new secret; status back to untested. Optimistic on ``version``."""
        now = iso_now()
        new_version = current.credentials_version + 1
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(current.owner, current.id),
                    "UpdateExpression": (
                        "SET secret_arn = :arn, key_fingerprint = :fp, api_key_hint = :hint, "
                        "credentials_version = :cv, version = version + :one, #s = :untested, "
                        "trading_ready = :false, updated_at = :now "
                        "REMOVE status_doc, checked_at, last_test_at_ms, retired_secret_arns, "
                        "withdrawal_disabled_confirmed_at, key_expires_at"
                    ),
                    "ConditionExpression": "attribute_exists(PK) AND version = :v",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": self._ser(
                        {
                            ":arn": secret_arn,
                            ":fp": fingerprint,
                            ":hint": api_key_hint,
                            ":cv": new_version,
                            ":one": 1,
                            ":untested": "untested",
                            ":false": False,
                            ":now": now,
                            ":v": current.version,
                        }
                    ),
                }
            },
        ]
        reasons: list[ErrorCode | ApiError] = [ErrorCode.CONFLICT]
        key_changed = fingerprint != current.key_fingerprint
        if key_changed:
            # A new key: refused if another connection holds it locked; this connection's lock on
            # the old key (if it had one) is given up, and the new key waits for a test.
            items.append(_key_not_locked(self._table, self._ser, fingerprint, current.id))
            reasons.append(ErrorCode.KEY_ALREADY_CONNECTED)
            if current.key_locked:
                items.append(self._release_key_lock(current))
                reasons.append(ErrorCode.CONFLICT)
            items[0]["Update"]["UpdateExpression"] += ", key_locked"
        self._transact(items + self._puts(events), reasons)
        current.secret_arn = secret_arn
        current.key_fingerprint = fingerprint
        current.api_key_hint = api_key_hint
        current.credentials_version = new_version
        current.version += 1
        current.status = "untested"
        current.trading_ready = False
        current.updated_at = now
        current.status_doc = current.checked_at = current.last_test_at_ms = None
        current.withdrawal_disabled_confirmed_at = current.key_expires_at = None
        current.retired_secret_arns = []
        if key_changed:
            current.key_locked = False
        return current

    def remember_retired_secret(self, record: ConnectionRecord, arn: str) -> None:
        """Note a replaced secret that could not be destroyed (see ConnectionService._destroy_retired)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(record.owner, record.id),
                UpdateExpression="ADD retired_secret_arns :arn SET version = version + :one",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":arn": {"SS": [arn]}, ":one": {"N": "1"}},
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from None
        record.retired_secret_arns = sorted({*record.retired_secret_arns, arn})
        record.version += 1

    def update_details(
        self,
        current: ConnectionRecord,
        *,
        name: str | None,
        markets: list[str] | None,
        confirmed_at: str | None = None,
        clear_confirmation: bool = False,
        trading_ready: bool | None = None,
        events: Sequence[dict[str, Any]] = (),
    ) -> ConnectionRecord:
        """Rename, change markets, and record (or withdraw) the user's withdrawal confirmation.

        A market change resets the status: the last test did not cover it (see
        :func:`markets_change_resets_status`). ``trading_ready``, when given, is the value the
        service decided for a confirmation change.
        """
        now = iso_now()
        sets = ["version = version + :one", "updated_at = :now"]
        values: dict[str, Any] = {":one": 1, ":now": now, ":v": current.version}
        names: dict[str, str] = {}
        removes: list[str] = []
        items: list[dict[str, Any]] = []
        reasons: list[ErrorCode | ApiError] = [ErrorCode.CONFLICT]
        rename = name is not None and name != current.name
        if rename:
            assert name is not None
            sets += ["#n = :name", "name_key = :name_key"]
            names["#n"] = "name"
            values[":name"] = name
            values[":name_key"] = name_key(name)
        markets_changed = markets is not None and markets != current.markets
        reset_status = markets_changed and markets_change_resets_status(current.status)
        confirming = confirmed_at is not None and current.withdrawal_disabled_confirmed_at is None
        unconfirming = clear_confirmation and current.withdrawal_disabled_confirmed_at is not None
        if confirming:
            sets.append("withdrawal_disabled_confirmed_at = :confirmed_at")
            values[":confirmed_at"] = confirmed_at
        if unconfirming:
            removes.append("withdrawal_disabled_confirmed_at")
        if trading_ready is not None and not reset_status and (confirming or unconfirming):
            sets.append("trading_ready = :ready")
            values[":ready"] = trading_ready
        if markets_changed:
            sets.append("markets = :markets")
            values[":markets"] = markets
        if reset_status:
            sets += ["#s = :untested", "trading_ready = :false"]
            names["#s"] = "status"
            values |= {":untested": "untested", ":false": False}
            removes += ["status_doc", "checked_at"]
        if not rename and not markets_changed and not confirming and not unconfirming:
            return current
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(current.owner, current.id),
            "UpdateExpression": "SET "
            + ", ".join(sets)
            + (" REMOVE " + ", ".join(removes) if removes else ""),
            "ConditionExpression": "attribute_exists(PK) AND version = :v",
            "ExpressionAttributeValues": self._ser(values),
        }
        if names:
            update["ExpressionAttributeNames"] = names
        items.append({"Update": update})
        # A case-only rename keeps its lock: the name key is the same.
        if rename and name is not None and name_key(name) != name_key(current.name):
            old_lock = {"PK": user_pk(current.owner), "SK": f"NAME#{name_key(current.name)}"}
            items.append({"Delete": {"TableName": self._table, "Key": self._ser(old_lock)}})
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": self._ser(_name_lock(current.owner, name, current.id)),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
            reasons += [ErrorCode.CONFLICT, ErrorCode.NAME_TAKEN]
        self._transact(items + self._puts(events), reasons)
        if rename and name is not None:
            current.name = name
        if markets_changed and markets is not None:
            current.markets = markets
        if confirming:
            current.withdrawal_disabled_confirmed_at = confirmed_at
        if unconfirming:
            current.withdrawal_disabled_confirmed_at = None
        if trading_ready is not None and (confirming or unconfirming):
            current.trading_ready = trading_ready
        if reset_status:
            current.status = "untested"
            current.trading_ready = False
            current.status_doc = current.checked_at = None
        current.version += 1
        current.updated_at = now
        return current

    def delete(self, current: ConnectionRecord, events: Sequence[dict[str, Any]] = ()) -> None:
        """Remove the connection and its locks, and give back its slot under the cap.

        Optimistic on ``version``: a rotation or rename that lands between the caller's read and
        this write moved the secret or the locks, so the caller must read again (CONFLICT).
        """
        items = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": self._key(current.owner, current.id),
                    "ConditionExpression": "attribute_exists(PK) AND version = :v",
                    "ExpressionAttributeValues": self._ser({":v": current.version}),
                }
            },
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": self._ser({"PK": user_pk(current.owner), "SK": f"NAME#{name_key(current.name)}"}),
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._ser({"PK": user_pk(current.owner), "SK": "PROFILE"}),
                    "UpdateExpression": "SET connection_count = connection_count - :one",
                    "ConditionExpression": "connection_count > :zero",
                    "ExpressionAttributeValues": self._ser({":one": 1, ":zero": 0}),
                }
            },
        ]
        if current.key_locked:
            # Only the holder removes a key lock: untested connections may share the key string.
            items.append(self._release_key_lock(current))
        self._transact(items + self._puts(events), [ErrorCode.CONFLICT] * len(items))

    def claim_for_test(self, owner: str, connection_id: str, now_ms: int) -> TestClaim:
        """Start a test: stamp it, unless another test of this connection ran within the cooldown.

        One conditional write both reads the connection and enforces the cooldown, so two
        double-clicked tests cannot both reach the exchange.
        """
        cooldown_ms = settings().test_cooldown_s * 1000
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=self._key(owner, connection_id),
                UpdateExpression="SET last_test_at_ms = :now",
                ConditionExpression=(
                    "attribute_exists(PK) AND "
                    "(attribute_not_exists(last_test_at_ms) OR last_test_at_ms <= :limit)"
                ),
                ExpressionAttributeValues=self._ser({":now": now_ms, ":limit": now_ms - cooldown_ms}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except (ClientError, BotoCoreError) as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise _unavailable(error) from None
            old = error.response.get("Item")
            if not old:
                raise ApiError(ErrorCode.NOT_FOUND) from None
            last = int(self._des(old).get("last_test_at_ms", now_ms))
            wait_ms = max(0, last + cooldown_ms - now_ms)
            return TestClaim(retry_after_s=max(1, -(-wait_ms // 1000)))
        return TestClaim(record=ConnectionRecord.from_item(self._des(response["Attributes"])))

    def release_test_claim(self, record: ConnectionRecord, claimed_at_ms: int) -> None:
        """Undo a claim whose test could not finish (an AWS call failed), so a retry is not held off.

        Best effort: when the connection was tested or deleted since, the condition fails and nothing
        changes; when this write fails too, the cooldown only delays the retry.
        """
        with contextlib.suppress(ClientError):
            self._db.update_item(
                TableName=self._table,
                Key=self._key(record.owner, record.id),
                UpdateExpression="REMOVE last_test_at_ms",
                ConditionExpression="last_test_at_ms = :claimed",
                ExpressionAttributeValues=self._ser({":claimed": claimed_at_ms}),
            )

    def record_result(
        self,
        record: ConnectionRecord,
        *,
        status: str,
        trading_ready: bool,
        status_doc: str,
        checked_at: str,
        lock_key: bool = False,
        key_expires_at: str | None = None,
        events: Sequence[dict[str, Any]] = (),
    ) -> bool:
        """Store a test result and its audit events unless the connection changed (or went) since
        the test read it.

        ``lock_key`` (a test that passed or refused the key): the key lock is taken in the same
        transaction; when another connection holds it, nothing is stored and KEY_ALREADY_CONNECTED
        is raised.

        Optimistic on ``version`` (which the claim does not change): new credentials, other
        markets, a rename or another result in between make this result stale, and False is
        returned. A test of an old key must never overwrite the status of the new one, a spot-only
        result must not stand for a connection that now asks for futures, and a deleted connection
        must not come back.
        """
        update = (
            "SET #s = :status, trading_ready = :ready, status_doc = :doc, checked_at = :checked, "
            "updated_at = :checked, version = version + :one"
        )
        values: dict[str, Any] = {
            ":status": status,
            ":ready": trading_ready,
            ":doc": status_doc,
            ":checked": checked_at,
            ":one": 1,
            ":v": record.version,
        }
        if lock_key:
            update += ", key_locked = :true"
            values[":true"] = True
        if key_expires_at is not None:
            update += ", key_expires_at = :expires"
            values[":expires"] = key_expires_at
        else:
            update += " REMOVE key_expires_at"
        items = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(record.owner, record.id),
                    "UpdateExpression": update,
                    "ConditionExpression": "attribute_exists(PK) AND version = :v",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": self._ser(values),
                }
            },
        ]
        reasons: list[ErrorCode | ApiError] = [ErrorCode.CONFLICT]
        if lock_key:
            items.append({"Update": self._take_key_lock(record)})
            reasons.append(ErrorCode.KEY_ALREADY_CONNECTED)
        try:
            self._transact(items + self._puts(events), reasons)
        except ApiError as error:
            if error.code is ErrorCode.CONFLICT:
                return False
            raise
        if lock_key:
            record.key_locked = True
        return True

    # -- abuse limits: fixed-window counters

    def take_together(self, counters: list[Counter], ceilings: Sequence[Ceiling] = ()) -> set[int]:
        """Take from several counters in one transaction: all or none, and only while every ceiling
        is under its limit. Returns the indexes (ceilings after counters) of those that had no room
        left (empty: all taken)."""
        items = [{"Update": self._counter(c.pk, c.sk, c.cost, c.limit, c.window_end_s)} for c in counters]
        items += [{"ConditionCheck": self._under(c)} for c in ceilings]
        try:
            self._db.transact_write_items(TransactItems=items)
        except (ClientError, BotoCoreError) as error:
            if error_code(error) != "TransactionCanceledException":
                raise _unavailable(error) from None
            reasons = error.response.get("CancellationReasons", [])
            spent = {i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
            if not spent:
                # Cancelled by throttling or a concurrent transaction on the same counter: retryable.
                raise StorageUnavailable("TransactionCanceled") from None
            return spent
        return set()

    def _counter(self, pk: str, sk: str, cost: int, limit: int, window_end_s: int) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": self._ser({"PK": pk, "SK": sk}),
            # expires_at: the table's TTL attribute; an hour's grace keeps the window's item while
            # requests of the window may still arrive.
            "UpdateExpression": "SET spent = if_not_exists(spent, :zero) + :cost, expires_at = :expires",
            "ConditionExpression": "attribute_not_exists(spent) OR spent <= :room",
            "ExpressionAttributeValues": self._ser(
                {":zero": 0, ":cost": cost, ":room": limit - cost, ":expires": window_end_s + 3600}
            ),
        }

    def _under(self, ceiling: Ceiling) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": self._ser({"PK": ceiling.pk, "SK": ceiling.sk}),
            "ConditionExpression": "attribute_not_exists(spent) OR spent < :limit",
            "ExpressionAttributeValues": self._ser({":limit": ceiling.limit}),
        }

    def add_to_counter(self, pk: str, sk: str, amount: int, window_end_s: int) -> None:
        """Add what already happened to a counter, whatever its limit (an exchange's error answers).
        A plain update, not a transaction: concurrent additions to one item all count."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._ser({"PK": pk, "SK": sk}),
                UpdateExpression="SET spent = if_not_exists(spent, :zero) + :n, expires_at = :expires",
                ExpressionAttributeValues=self._ser(
                    {":zero": 0, ":n": amount, ":expires": window_end_s + 3600}
                ),
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from None

    # -- key locks

    def _take_key_lock(self, record: ConnectionRecord) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": self._ser({"PK": f"KEY#{record.key_fingerprint}", "SK": "KEY"}),
            "UpdateExpression": "SET kind = :kind, #o = :owner, connection_id = :id",
            "ConditionExpression": "attribute_not_exists(PK) OR connection_id = :id",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": self._ser(
                {":kind": "key_lock", ":owner": record.owner, ":id": record.id}
            ),
        }

    def _release_key_lock(self, record: ConnectionRecord) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": self._ser({"PK": f"KEY#{record.key_fingerprint}", "SK": "KEY"}),
                "ConditionExpression": "connection_id = :id",
                "ExpressionAttributeValues": self._ser({":id": record.id}),
            }
        }

    # -- audit trail

    def list_events(
        self, owner: str, *, connection_id: str | None, limit: int, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the user's events (or one connection's), newest first; the last SK for the next page."""
        query: dict[str, Any] = {"TableName": self._table, "ScanIndexForward": False, "Limit": limit}
        if connection_id is None:
            query["KeyConditionExpression"] = "PK = :pk AND begins_with(SK, :event)"
            query["ExpressionAttributeValues"] = self._ser({":pk": user_pk(owner), ":event": "EVENT#"})
            start = {"PK": user_pk(owner), "SK": after}
        else:
            trail = trail_key(owner, connection_id)
            query["IndexName"] = EVENTS_INDEX
            query["KeyConditionExpression"] = "trail = :trail"
            query["ExpressionAttributeValues"] = self._ser({":trail": trail})
            start = {"PK": user_pk(owner), "SK": after, "trail": trail}
        if after is not None:
            query["ExclusiveStartKey"] = self._ser(start)
        try:
            response = self._db.query(**query)
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from None
        items = [self._des(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (self._des(last)["SK"] if last else None)

    # -- re-validation

    def scan_connections(self, statuses: Sequence[str]) -> list[ConnectionRecord]:
        """Every connection (of every user) in one of ``statuses``: the re-validation's candidates.

        A paginated Scan: it reads the whole table once per run (at a few KB per connection, about
        0.5 read units per thousand items, eventually consistent). A sparse index keyed by the next
        due time would read only due items; worth it at hundreds of thousands of connections.
        """
        names = {"#s": "status", "#k": "kind"}
        placeholders = {f":s{i}": status for i, status in enumerate(statuses)}
        scan: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": f"#k = :connection AND #s IN ({', '.join(placeholders)})",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": self._ser({":connection": "connection", **placeholders}),
        }
        records: list[ConnectionRecord] = []
        try:
            while True:
                response = self._db.scan(**scan)
                records.extend(ConnectionRecord.from_item(self._des(i)) for i in response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    return records
                scan["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from None

    # -- transactions

    def _puts(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Unconditional puts of new items (audit events: their keys are fresh ULIDs)."""
        return [{"Put": {"TableName": self._table, "Item": self._ser(item)}} for item in items]

    def _transact(self, items: list[dict[str, Any]], reasons: list[ErrorCode | ApiError]) -> None:
        """Run a transaction; a failed condition becomes the ApiError listed for that item."""
        try:
            self._db.transact_write_items(TransactItems=items)
        except (ClientError, BotoCoreError) as error:
            if error_code(error) != "TransactionCanceledException":
                raise _unavailable(error) from None
            cancelled = error.response.get("CancellationReasons", [])
            for index, reason in enumerate(cancelled):
                if reason.get("Code") == "ConditionalCheckFailed" and index < len(reasons):
                    listed = reasons[index]
                    raise (listed if isinstance(listed, ApiError) else ApiError(listed)) from None
            if any(reason.get("Code") == "TransactionConflict" for reason in cancelled):
                # Another transaction was writing the same items at that moment.
                raise ApiError(ErrorCode.CONFLICT) from None
            # Cancelled for another reason (throttling, a service error).
            raise StorageUnavailable("TransactionCanceled") from None


def markets_change_resets_status(status: str) -> bool:
    """Only new credentials clear a refusal: the refused key's secret is gone."""
    return status != "refused"


def _name_lock(owner: str, name: str, connection_id: str) -> dict[str, Any]:
    return {
        "PK": user_pk(owner),
        "SK": f"NAME#{name_key(name)}",
        "kind": "name_lock",
        "connection_id": connection_id,
    }


def _key_not_locked(table: str, ser: Any, fingerprint: str, connection_id: str) -> dict[str, Any]:
    """A transaction item: no other connection holds this key locked."""
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": ser({"PK": f"KEY#{fingerprint}", "SK": "KEY"}),
            "ConditionExpression": "attribute_not_exists(PK) OR connection_id = :id",
            "ExpressionAttributeValues": ser({":id": connection_id}),
        }
    }


def quota_exceeded(setting: str, limit: int, retry_after_s: int) -> ApiError:
    """429 quota_exceeded, with the wait in details and in Retry-After."""
    wait = max(1, retry_after_s)
    return ApiError(
        ErrorCode.QUOTA_EXCEEDED,
        details={"quota": setting, "limit": limit, "retry_after_s": wait},
        headers={"Retry-After": str(wait)},
    )


def _unavailable(error: Exception) -> StorageUnavailable:
    return StorageUnavailable(error_code(error))
