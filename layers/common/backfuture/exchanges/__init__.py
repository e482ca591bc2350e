"""The registry of exchanges: one module per exchange in this package, found without a list.

Every module here (``mexc.py``, ``kucoin.py``, ...) is an exchange: it declares an ``EXCHANGE``
(:class:`backfuture.engine.spec.ExchangeSpec`) and nothing runs it but the engine. The catalog
(``GET /exchanges``), the service's validation, the local stack, the tests, the benchmarks and the
fuzz seeds all read this registry, so adding an exchange edits no list anywhere
(docs/adding-an-exchange.md).

Deliberately light: ``get_status`` lists exchanges on every dashboard load and ``add_connection``
validates ids; neither should pay at cold start for HTTP, crypto or ten exchange modules. Ids are
found from the package's files; a module is imported the first time it is needed.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backfuture.engine.spec import ExchangeSpec


class Market(StrEnum):
    SPOT = "spot"
    FUTURES = "futures"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Decrypted key material. ``repr`` never shows it, so it cannot leak through a log or traceback."""

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


# Exchanges announced but without a module yet: GET /exchanges lists them as planned, and the add
# route answers them with its "planned" message. Every exchange of the connection guide has a module
# now; an entry here is removed when its module lands.
_PLANNED: tuple[ExchangeInfo, ...] = ()


@cache
def supported_ids() -> tuple[str, ...]:
    """Ids of the exchanges that have a module, sorted (no module is imported)."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


def is_supported(exchange_id: str) -> bool:
    return exchange_id in supported_ids()


def exchange(exchange_id: str) -> ExchangeSpec:
    """The declaration of a supported exchange (its module is imported on first use)."""
    if not is_supported(exchange_id):
        raise KeyError(exchange_id)
    spec: ExchangeSpec = importlib.import_module(f"{__name__}.{exchange_id}").EXCHANGE
    return spec


def info(exchange_id: str) -> ExchangeInfo:
    return exchange(exchange_id).info


def planned() -> dict[str, ExchangeInfo]:
    """The guide's exchanges that are not supported yet."""
    return {i.id: i for i in _PLANNED if not is_supported(i.id)}
