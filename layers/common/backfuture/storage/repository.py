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

Every rule is a condition on a write, never a read before the write, so two concurrent requests
cannot both pass it. Multi-item changes are single transactions. The partition key always comes
from the caller's JWT ``sub``: a connection of another user is simply not found.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backfuture.aws import client, error_code
from backfuture.clock import iso_now
from backfuture.config import settings
from backfuture.errors import ApiError, ErrorCode, StorageUnavailable


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

    def create(self, record: ConnectionRecord, now_s: int) -> None:
        """Store a new connection with its name lock and the user's counts, atomically.

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
            items,
            [
                ErrorCode.CONFLICT,
                ErrorCode.NAME_TAKEN,
                ErrorCode.KEY_ALREADY_CONNECTED,
                ErrorCode.CONNECTION_LIMIT_REACHED,
                quota_exceeded("CONNECTIONS_CREATED_PER_USER_PER_DAY", daily, (day + 1) * 86_400 - now_s),
            ],
        )

    def replace_credentials(
        self, current: ConnectionRecord, *, secret_arn: str, fingerprint: str, api_key_hint: str
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
                        "REMOVE status_doc, checked_at, last_test_at_ms, retired_secret_arns"
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
        self._transact(items, reasons)
        current.secret_arn = secret_arn
        current.key_fingerprint = fingerprint
        current.api_key_hint = api_key_hint
        current.credentials_version = new_version
        current.version += 1
        current.status = "untested"
        current.trading_ready = False
        current.updated_at = now
        current.status_doc = current.checked_at = current.last_test_at_ms = None
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
        self, current: ConnectionRecord, *, name: str | None, markets: list[str] | None
    ) -> ConnectionRecord:
        """Rename and/or change markets. A market change resets the status: the last test did not cover it."""
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
        # Only new credentials clear a refusal: the refused key's secret is gone.
        reset_status = markets_changed and current.status != "refused"
        if markets_changed:
            sets.append("markets = :markets")
            values[":markets"] = markets
        if reset_status:
            sets += ["#s = :untested", "trading_ready = :false"]
            names["#s"] = "status"
            values |= {":untested": "untested", ":false": False}
            removes += ["status_doc", "checked_at"]
        if not rename and not markets_changed:
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
        self._transact(items, reasons)
        if rename and name is not None:
            current.name = name
        if markets_changed and markets is not None:
            current.markets = markets
        if reset_status:
            current.status = "untested"
            current.trading_ready = False
            current.status_doc = current.checked_at = None
        current.version += 1
        current.updated_at = now
        return current

    def delete(self, current: ConnectionRecord) -> None:
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
        self._transact(items, [ErrorCode.CONFLICT] * len(items))

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
    ) -> bool:
        """Store a test result unless the connection changed (or went) since the test claimed it.

        ``lock_key`` (a test that passed or refused the key): the key lock is taken in the same
        transaction; when another connection holds it, nothing is stored and KEY_ALREADY_CONNECTED
        is raised.

        Optimistic on ``version`` (which the claim does not change): new credentials, other
        markets, a rename or another result in between make this result stale, and False is
        returned. A test of an old key must never overwrite the status of the new one, a spot-only
        result must not stand for a connection that now asks for futures, and a deleted connection
        must not come back.
        """
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(record.owner, record.id),
            "UpdateExpression": (
                "SET #s = :status, trading_ready = :ready, status_doc = :doc, checked_at = :checked, "
                "updated_at = :checked, version = version + :one"
                + (", key_locked = :true" if lock_key else "")
            ),
            "ConditionExpression": "attribute_exists(PK) AND version = :v",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": self._ser(
                {
                    ":status": status,
                    ":ready": trading_ready,
                    ":doc": status_doc,
                    ":checked": checked_at,
                    ":one": 1,
                    ":v": record.version,
                    **({":true": True} if lock_key else {}),
                }
            ),
        }
        if lock_key:
            try:
                self._transact(
                    [{"Update": update}, {"Update": self._take_key_lock(record)}],
                    [ErrorCode.CONFLICT, ErrorCode.KEY_ALREADY_CONNECTED],
                )
            except ApiError as error:
                if error.code is ErrorCode.CONFLICT:
                    return False
                raise
            record.key_locked = True
            return True
        try:
            self._db.update_item(**update)
        except (ClientError, BotoCoreError) as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise _unavailable(error) from None
        return True

    # -- abuse limits: fixed-window counters

    def take_together(self, counters: list[Counter]) -> set[int]:
        """Take from several counters in one transaction: all or none. Returns the indexes of the
        counters that had no room left (empty: all taken)."""
        items = [{"Update": self._counter(c.pk, c.sk, c.cost, c.limit, c.window_end_s)} for c in counters]
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

    # -- transactions

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
