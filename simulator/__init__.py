"""The exchange simulator: one loopback server, one venue per exchange market (see ``core``)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.core import Venue

VENUE_MODULES = ("simulator.mexc", "simulator.kucoin")


def all_venues() -> list[Venue]:
    """Every venue of the exchange modules present (a module still being written is skipped)."""
    venues: list[Venue] = []
    for name in VENUE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise  # a missing dependency inside the module is a bug, not an absent module
            continue
        venues.extend(module.venues())
    return venues
