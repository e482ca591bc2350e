"""Every secret a test hands the service, and the check that none of them comes back out.

Tests register the key material they use (demo keys register themselves); responses, captured
log output and DynamoDB items are searched for each registered value.
"""

from __future__ import annotations

_SECRETS: set[str] = set()


def register(*values: str | None) -> None:
    for value in values:
        # Short values (a 4-character passphrase) would match innocent text; tests use long ones.
        if value and len(value) >= 8:
            _SECRETS.add(value)


def leaks(text: str) -> list[str]:
    return sorted(s for s in _SECRETS if s in text)


def assert_no_secret(text: str, *, where: str) -> None:
    found = leaks(text)
    # The message names how many leaked, never the values themselves.
    assert not found, f"{len(found)} secret value(s) leaked in {where}"


def registered() -> frozenset[str]:
    return frozenset(_SECRETS)
