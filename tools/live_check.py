"""Live check for operators: run the real probe with a real key against the real exchange.

    BACKFUTURE_LIVE_API_KEY=... BACKFUTURE_LIVE_API_SECRET=... [BACKFUTURE_LIVE_PASSPHRASE=...] \\
        python -m tools.live_check --exchange mexc [--markets spot,futures] [--shapes out.json]

Run it from where the platform's traffic leaves (a task in the deployed VPC behind the NAT), or from a
workstation whose IP the key whitelists. It prints the diagnosis the service would store (the status
document) and writes the *shapes* of every answer to ``--shapes``: field names, value types, and only
the values that carry no secret, balance or id (codes, permission names, flags). Drop the file into
``tests/exchanges/shapes/`` and ``tests/exchanges/test_recorded_shapes.py`` replays it against the
module's readers: that is how an UNCONFIRMED fact (docs/exchange-facts.md) becomes a confirmed one.

The key is read from the environment only, never from the command line (shell history, ``ps``).
The base URLs are the module's defaults unless its variables say otherwise (that is how the tests
run it against the simulator).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from backfuture.connection_test import diagnose
from backfuture.engine.http import ExchangeHttp, ExchangeResponse, new_http_client
from backfuture.engine.probe import current_call, probe
from backfuture.engine.report import ProbeReport
from backfuture.engine.spec import ExchangeSpec
from backfuture.exchanges import Credentials, Market, exchange, supported_ids
from backfuture.models import clean_secret

# Values kept in a shape: exchange codes, permission names and flags. Anything else is replaced by
# its type, so no secret, balance, address, id or user text (a key's label or note) reaches the file.
KEPT_FIELDS = frozenset(
    {
        "code", "retCode", "success", "status", "err-code", "err_code", "sCode",
        "permissions", "permission", "perm", "authorities", "permType", "apiAllowed", "accountType",
        "readOnly", "acctLv", "type", "state", "portfolio_type",
    }
)  # fmt: skip


def shape(value: Any, field: str | None = None) -> Any:
    """The answer's structure with its values replaced by their types (see KEPT_FIELDS)."""
    if isinstance(value, dict):
        return {key: shape(item, key) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0], field)] if value else []
    if isinstance(value, bool) or (field in KEPT_FIELDS and isinstance(value, str | int | float)):
        return value
    return {type(value).__name__: None} if value is not None else None


class RecordingHttp(ExchangeHttp):
    """The engine's HTTP client, keeping the shape of every answer under the name of its call."""

    def __init__(self, client: Any, spec: ExchangeSpec) -> None:
        super().__init__(client, spec.allowed_endpoints())
        self.shapes: list[dict[str, Any]] = []

    async def request(
        self, method: str, url: str, *, headers: Any = None, content: str | None = None
    ) -> ExchangeResponse:
        response = await super().request(method, url, headers=headers, content=content)
        call = current_call.get()  # the engine names the call it is sending
        self.shapes.append({"call": call, "status": response.status, "body": shape(response.body)})
        return response


async def check(
    exchange_id: str, credentials: Credentials, markets: frozenset[Market]
) -> tuple[ProbeReport, list[dict[str, Any]]]:
    spec = exchange(exchange_id)
    async with new_http_client() as client:
        http = RecordingHttp(client, spec)
        report = await probe(spec, http, credentials, markets)
    return report, http.shapes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.live_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchange", required=True, choices=supported_ids())
    parser.add_argument("--markets", default="spot", help="spot, futures or spot,futures")
    parser.add_argument("--shapes", type=Path, help="where to write the answers' shapes (JSON)")
    parser.add_argument("--egress-ips", default=os.environ.get("EGRESS_IPS", ""), help="the platform's IPs")
    args = parser.parse_args(argv)
    key, secret = os.environ.get("BACKFUTURE_LIVE_API_KEY"), os.environ.get("BACKFUTURE_LIVE_API_SECRET")
    if not key or not secret:
        parser.error("set BACKFUTURE_LIVE_API_KEY and BACKFUTURE_LIVE_API_SECRET (and _PASSPHRASE if needed)")
    # The add route's own cleaning: a PEM secret may come with "\n" escapes, as in its key file.
    secret = clean_secret(SecretStr(secret)).get_secret_value()
    credentials = Credentials(key.strip(), secret, os.environ.get("BACKFUTURE_LIVE_PASSPHRASE"))
    markets = frozenset(Market(m.strip()) for m in args.markets.split(",") if m.strip())
    report, shapes = asyncio.run(check(args.exchange, credentials, markets))
    egress_ips = [ip.strip() for ip in args.egress_ips.split(",") if ip.strip()]
    document = diagnose(report, markets, egress_ips, duration_ms=0).document
    print(json.dumps(document, indent=2, default=str))
    if args.shapes is not None:
        recorded = {"exchange": args.exchange, "markets": sorted(markets), "answers": shapes}
        args.shapes.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
        print(f"shapes of {len(shapes)} answers written to {args.shapes}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
