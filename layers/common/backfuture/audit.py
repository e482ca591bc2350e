"""The audit trail: what happened to a user's connections, when, and by whom.

Each event is an item in the connections table, written in the same transaction as the change it
records (``storage.repository``), so a change is never without its record nor a record without
its change. Items (``PK`` / ``SK``): ``USER#<sub>`` / ``EVENT#<ULID>`` (newest first across all
connections, deleted ones included), and the ``ConnectionEvents`` index on ``trail``
(``USER#<sub>#CONN#<id>``) for one connection's trail. DynamoDB's TTL removes them after 400 days.

An event never holds a secret, a full API key (only its hint) or an exchange's answer: ``details``
carry statuses, codes and names chosen by the service.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

from backfuture.clock import now_ms

RETENTION_DAYS = 400
EVENT_TYPES = (
    "created",
    "credentials_replaced",
    "renamed",
    "markets_changed",
    "tested",
    "status_changed",
    "refused",
    "withdrawal_confirmed",
    "deleted",
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# A browser's User-Agent is a few hundred characters at most; longer values are cut.
_USER_AGENT_MAX = 256


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: the user (with the request's source IP and user agent) or the platform."""

    kind: Literal["user", "system"]
    source_ip: str | None = None
    user_agent: str | None = None


SYSTEM = Actor("system")
USER = Actor("user")


def ulid(ms: int, random_bits: int) -> str:
    """48 bits of milliseconds and 80 random bits in Crockford base32: sorts by time."""
    value = (ms & (2**48 - 1)) << 80 | (random_bits & (2**80 - 1))
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def trail_key(owner: str, connection_id: str) -> str:
    return f"USER#{owner}#CONN#{connection_id}"


def event_items(
    owner: str,
    connection_id: str,
    exchange: str,
    actor: Actor,
    events: list[tuple[str, dict[str, Any]]],
    at: str,
) -> list[dict[str, Any]]:
    """Table items for ``events`` (type, details) that happened together, in that order."""
    ms = now_ms()
    base = secrets.randbits(79)  # room to count up without wrapping: ids in one change stay ordered
    expires_at = ms // 1000 + RETENTION_DAYS * 86_400
    items = []
    for index, (kind, details) in enumerate(events):
        if kind not in EVENT_TYPES:
            raise ValueError(f"unknown audit event type {kind}")
        item: dict[str, Any] = {
            "PK": f"USER#{owner}",
            "SK": f"EVENT#{ulid(ms, base + index)}",
            "kind": "event",
            "trail": trail_key(owner, connection_id),
            "at": at,
            "type": kind,
            "connection_id": connection_id,
            "exchange": exchange,
            "actor": actor.kind,
            "details": details,
            "expires_at": expires_at,
        }
        if actor.source_ip:
            item["source_ip"] = actor.source_ip[:64]
        if actor.user_agent:
            item["user_agent"] = "".join(ch for ch in actor.user_agent if ch.isprintable())[:_USER_AGENT_MAX]
        items.append(item)
    return items


def public_event(item: dict[str, Any]) -> dict[str, Any]:
    """An event item as the API shows it."""
    event = {
        "at": item["at"],
        "type": item["type"],
        "connection_id": item["connection_id"],
        "exchange": item["exchange"],
        "actor": item["actor"],
        "details": _plain(item.get("details") or {}),
    }
    for optional in ("source_ip", "user_agent"):
        if item.get(optional):
            event[optional] = item[optional]
    return event


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the API answers plain JSON numbers."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
