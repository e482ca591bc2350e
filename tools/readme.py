"""Keeps the README's generated blocks in step: ``python -m tools.readme`` rewrites them."""

from __future__ import annotations

import re
from pathlib import Path

from simulator.demo_keys import markdown_table

README = Path(__file__).parents[1] / "README.md"
_BLOCK = re.compile(r"(<!-- demo-keys:start[^>]*-->\n).*?(<!-- demo-keys:end -->)", re.DOTALL)


def rendered(text: str) -> str:
    return _BLOCK.sub(lambda m: m.group(1) + markdown_table() + m.group(2), text)


if __name__ == "__main__":
    README.write_text(rendered(README.read_text(encoding="utf-8")), encoding="utf-8")
