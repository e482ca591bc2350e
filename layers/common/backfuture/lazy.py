"""A module imported when one of its names is first read, not when a handler module is imported.

Handlers name their request and response models in annotations. With ``from __future__ import
annotations`` those are strings, and Powertools reads them only when a route first runs (or the
OpenAPI document is built), so ``models.ConnectionResource`` in an annotation, with ``models`` a
:class:`LazyModule`, loads pydantic and the models then instead of at cold start (docs/benchmarks.md).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.module, attribute)

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(self._name)  # cached in sys.modules after the first call

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
