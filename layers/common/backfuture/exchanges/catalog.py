"""Which exchanges exist for the platform, and which module tests each one.

Deliberately free of HTTP and crypto imports: ``get_status`` lists exchanges on every dashboard
load, and its cold start should not pay for code it never runs. Probe modules load on demand.

Adding an exchange (see docs/adding-an-exchange.md): write ``backfuture/exchanges/<id>.py`` with an
``EXCHANGE`` probe and ``ALLOWED_CALLS``, then move its entry from ``PLANNED`` to ``SUPPORTED``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backfuture.exchanges.base import ExchangeProbe


class Market(StrEnum):
    SPOT = "spot"
    FUTURES = "futures"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Decrypted key material. ``repr`` never shows it, so it cannot leak through a log or traceback.

    Defined here rather than in ``base`` so that storage code can name it without importing HTTP.
    """

    api_key: str
    api_secret: str
    passphrase: str | None = None

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class ExchangeInfo:
    id: str
    name: str
    needs_passphrase: bool
    markets: tuple[Market, ...]


SUPPORTED: dict[str, ExchangeInfo] = {
    "mexc": ExchangeInfo("mexc", "MEXC", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
    "kucoin": ExchangeInfo("kucoin", "KuCoin", needs_passphrase=True, markets=(Market.SPOT, Market.FUTURES)),
}

PLANNED: dict[str, ExchangeInfo] = {
    info.id: info
    for info in (
        ExchangeInfo("binance", "Binance", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
        ExchangeInfo("okx", "OKX", needs_passphrase=True, markets=(Market.SPOT, Market.FUTURES)),
        ExchangeInfo("bitget", "Bitget", needs_passphrase=True, markets=(Market.SPOT, Market.FUTURES)),
        ExchangeInfo("gateio", "Gate.io", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
        ExchangeInfo("htx", "HTX", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
        ExchangeInfo("bingx", "BingX", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
        ExchangeInfo("coinbase", "Coinbase", needs_passphrase=False, markets=(Market.SPOT,)),
        ExchangeInfo("bybit", "Bybit", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
    )
}


def probe_for(exchange_id: str) -> ExchangeProbe:
    """The probe of a supported exchange (its module is imported on first use)."""
    if exchange_id not in SUPPORTED:
        raise KeyError(exchange_id)
    module = importlib.import_module(f"backfuture.exchanges.{exchange_id}")
    probe: ExchangeProbe = module.EXCHANGE
    return probe


def allowed_calls_for(exchange_id: str) -> frozenset[tuple[str, str]]:
    module = importlib.import_module(f"backfuture.exchanges.{exchange_id}")
    calls: frozenset[tuple[str, str]] = module.ALLOWED_CALLS
    return calls
