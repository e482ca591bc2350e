"""The README lists every demo key the simulator knows, exactly as it describes them."""

from __future__ import annotations

from tools.readme import README, rendered


def test_readme_demo_key_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert "<!-- demo-keys:start" in text and "<!-- exchanges:start" in text
    assert rendered(text) == text, "README demo keys are stale: run `python -m tools.readme`"
