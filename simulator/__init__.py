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
    from simulator.demo_keys import DemoKey


def demo_key_modules() -> list[ModuleType]:
    """One module per registered exchange, ``simulator.<id>``, each with venues() and DEMO_KEYS."""
    from backfuture.exchanges import supported_ids

    return [importlib.import_module(f"simulator.{exchange_id}") for exchange_id in supported_ids()]


def all_venues() -> list[Venue]:
    venues: list[Venue] = []
    for module in demo_key_modules():
        venues.extend(module.venues())
    return venues


def base_url_variables() -> dict[str, str]:
    """Each supported exchange host's base-URL variable -> the simulator venue that stands in for it
    (venue ``<exchange id>-<host name>``), read from the service's registry."""
    from backfuture.exchanges import exchange, supported_ids

    return {
        host.env_var: f"{exchange_id}-{host.name}"
        for exchange_id in supported_ids()
        for host in exchange(exchange_id).hosts
    }


def all_demo_keys() -> list[DemoKey]:
    """Every demo key of every exchange's simulator, in registry order."""
    return [key for module in demo_key_modules() for key in module.DEMO_KEYS]
