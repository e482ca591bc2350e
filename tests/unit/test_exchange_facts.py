"""The facts register (docs/exchange-facts.md) is generated from the exchange modules and current."""

from __future__ import annotations

from tools.facts import REGISTER, render


def test_the_facts_register_is_current() -> None:
    assert REGISTER.read_text(encoding="utf-8") == render(), "run: python -m tools.facts"
