"""Keeps the README's generated blocks in step: ``python -m tools.readme`` rewrites them."""

from __future__ import annotations

import re
from pathlib import Path

from simulator.demo_keys import markdown_table

README = Path(__file__).parents[1] / "README.md"
_DEMO_KEYS = re.compile(r"(<!-- demo-keys:start[^>]*-->\n).*?(<!-- demo-keys:end -->)", re.DOTALL)
_EXCHANGES = re.compile(r"(<!-- exchanges:start[^>]*-->\n).*?(<!-- exchanges:end -->)", re.DOTALL)


def exchanges_line() -> str:
    """Which exchanges are supported and which planned, from the registry."""
    from backfuture.exchanges import info, planned, supported_ids

    supported = ", ".join(f"**{info(i).name}**" for i in supported_ids())
    upcoming = ", ".join(p.name for p in planned().values())
    line = f"Supported today: {supported}, each for spot and USDT-margined futures where its API takes them."
    if upcoming:
        line += f" Planned: {upcoming} (see [docs/adding-an-exchange.md](docs/adding-an-exchange.md))."
    return line + "\n"


def rendered(text: str) -> str:
    text = _EXCHANGES.sub(lambda m: m.group(1) + exchanges_line() + m.group(2), text)
    return _DEMO_KEYS.sub(lambda m: m.group(1) + markdown_table() + m.group(2), text)


if __name__ == "__main__":
    README.write_text(rendered(README.read_text(encoding="utf-8")), encoding="utf-8")
