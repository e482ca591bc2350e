"""Demo keys: one per outcome per exchange, known to the simulator and listed in the README."""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DemoKey:
    exchange: str  # "mexc" | "kucoin"
    api_key: str
    api_secret: str  # the value a user pastes; a "wrong secret" key is known to the venue with another one
    passphrase: str | None
    outcome: str  # the contract's outcome code, or "connected"
    markets: str  # which markets to connect to see the outcome, e.g. "spot", "futures", "spot or futures"
    description: str
    # The simulator settings (``SimConfig`` fields) under which the outcome holds, e.g. MEXC futures
    # open to the API; empty: the defaults, which answer as the live exchange does.
    sim_config: Mapping[str, Any] = field(default_factory=dict)
    # Permission names the key lists that the platform does not know (reported, and the reason for
    # withdraw_unverifiable).
    unknown_permissions: tuple[str, ...] = ()
    # A spot-only connection also warns unneeded_permission, which the description does not promise:
    # the key may also trade futures, a right of its own that the service reads (connection_test).
    unneeded_on_spot: bool = False

    @property
    def warnings(self) -> frozenset[str]:
        """The warning codes the description promises (the README shows the same text)."""
        return frozenset(code for code in WARNING_CODES if code in self.description)

    def warnings_on(self, markets: Collection[str]) -> frozenset[str]:
        """The warning codes a connection to ``markets`` gives: the description's, and
        unneeded_permission for a futures right a spot-only connection does not need."""
        spot_only = "futures" not in markets
        return self.warnings | ({"unneeded_permission"} if spot_only and self.unneeded_on_spot else set())

    @property
    def trading_ready(self) -> bool:
        """Online and known not to withdraw: the contract's "Trading readiness" (api.md) is false
        while withdrawal rights are unverifiable, until the user confirms."""
        return self.outcome == "connected" and "withdraw_unverifiable" not in self.warnings


WARNING_CODES = (
    "ip_restriction_missing",
    "ip_whitelist_mismatch",
    "withdraw_unverifiable",
    "unneeded_permission",
    "key_expires_soon",
)


def platform_ips() -> list[str]:
    """The platform's egress IPs as the local stack configures them (EGRESS_IPS)."""
    raw = os.environ.get("EGRESS_IPS") or "203.0.113.10,203.0.113.11"
    return [ip.strip() for ip in raw.split(",") if ip.strip()]


def markdown_table() -> str:
    """The README's demo-key table (tests/unit/test_readme.py keeps the README in step)."""
    from simulator import demo_key_modules

    lines = [
        "| exchange | api_key | api_secret | passphrase | markets | outcome | what happens |",
        "|---|---|---|---|---|---|---|",
    ]
    for module in demo_key_modules():
        for key in module.DEMO_KEYS:
            setting = f" Simulator setting: `{json.dumps(dict(key.sim_config))}`." if key.sim_config else ""
            lines.append(
                f"| {key.exchange} | `{key.api_key}` | `{key.api_secret}` | "
                f"{f'`{key.passphrase}`' if key.passphrase else '-'} | {key.markets} | `{key.outcome}` | "
                f"{key.description}{setting} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
