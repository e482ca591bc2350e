"""The exchange simulator: one loopback server (``core``), one venue per exchange host, and the kit
every exchange's simulator is built from (``kit``).

The simulator of exchange X is the module ``simulator.X``, with ``venues()`` and ``DEMO_KEYS``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.core import Venue


def exchange_ids() -> list[str]:
    """The exchanges to simulate: every exchange the service supports (its registry). A supported
    exchange without a simulator module fails loudly on import, never silently goes untested."""
    from backfuture.exchanges.catalog import SUPPORTED

    return list(SUPPORTED)


def demo_key_modules() -> list[ModuleType]:
    return [importlib.import_module(f"simulator.{exchange}") for exchange in exchange_ids()]


def all_venues() -> list[Venue]:
    venues: list[Venue] = []
    for module in demo_key_modules():
        venues.extend(module.venues())
    return venues
