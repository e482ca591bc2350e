"""Runs the template's functions in this process, one warm "container" per function.

Invocations of the same function are serialised: a Lambda execution environment handles one event
at a time, and handler modules (Powertools resolvers keep ``current_event`` on the app object) rely
on that. Different functions run concurrently.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from local.events import LambdaContext
from local.template import REPO_ROOT, FunctionSpec

_COLD_START_LOCK = threading.Lock()  # os.environ is process-wide

LambdaHandler = Callable[[dict[str, Any], Any], Any]
HandlerLoader = Callable[[FunctionSpec], LambdaHandler]


def ensure_import_paths() -> None:
    """Make ``functions.<name>.app`` and the layer package ``backfuture`` importable, as SAM would."""
    for path in (REPO_ROOT / "layers" / "common", REPO_ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def import_handler(function: FunctionSpec) -> LambdaHandler:
    """The default loader: ``functions.<code dir>.<module>.<handler>``, imported on first use."""
    ensure_import_paths()
    module = importlib.import_module(function.module_path)
    handler = getattr(module, function.handler_name)
    if not callable(handler):
        raise TypeError(f"{function.module_path}.{function.handler_name} is not callable")
    return handler  # type: ignore[no-any-return]


class FunctionRunner:
    def __init__(
        self,
        functions: dict[str, FunctionSpec],
        loader: HandlerLoader = import_handler,
        cold_start_environment: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.functions = functions
        self._loader = loader
        self._cold_start_environment = cold_start_environment or {}
        self._handlers: dict[str, LambdaHandler] = {}
        self._locks = {name: threading.Lock() for name in functions}

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """The handler's result; exceptions propagate (the API server turns them into a 500)."""
        function = self.functions[logical_id]
        with self._locks[logical_id]:
            handler = self._handlers.get(logical_id)
            if handler is None:  # cold start: import at first use, like Lambda's init phase
                handler = self._handlers[logical_id] = self._cold_start(function)
            return handler(event, LambdaContext(function))

    def _cold_start(self, function: FunctionSpec) -> LambdaHandler:
        # Module-level objects (Powertools Logger, Metrics) read variables such as
        # POWERTOOLS_SERVICE_NAME when made; the function's own values are in place while it imports.
        own = self._cold_start_environment.get(function.logical_id, {})
        with _COLD_START_LOCK:
            saved = {name: os.environ.get(name) for name in own}
            os.environ.update(own)
            try:
                return self._loader(function)
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value


def report_crash(logical_id: str, error: BaseException) -> None:
    """A handler crash, as Lambda would log it (the stack trace goes to the developer's terminal)."""
    print(f"[{logical_id}] unhandled {type(error).__name__}", file=sys.stderr)
    traceback.print_exception(error, file=sys.stderr)
