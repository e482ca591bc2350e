"""``python -m local.invoke <FunctionLogicalId> <event.json>``: one function, one event, no Docker.

Runs against the local stack that ``python -m local`` is running (same table, secrets and
simulator), or starts one in-process for this call (without its HTTP API) and stops it after.
Prints the function's response as JSON; exits 1 if the function raised.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from local.functions import FunctionRunner, HandlerLoader, ensure_import_paths, import_handler, report_crash
from local.stack import LocalStack, aws_environment
from local.state import running_stack
from local.template import DEFAULT_TEMPLATE, ServiceTemplate, TemplateError


def main(argv: list[str] | None = None, loader: HandlerLoader = import_handler) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__.splitlines()[0])
    parser.add_argument("function", help="logical id in the template, e.g. AddConnectionFunction")
    parser.add_argument("event", type=Path, help="an API Gateway event, e.g. events/add_connection.json")
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    args = parser.parse_args(argv)

    try:
        template = ServiceTemplate.load(args.template)
    except TemplateError as error:
        print(f"local.invoke: {error}", file=sys.stderr)
        return 2
    functions = template.functions()
    if args.function not in functions:
        print(
            f"local.invoke: no function {args.function}; the template has {', '.join(sorted(functions))}",
            file=sys.stderr,
        )
        return 2
    event = json.loads(args.event.read_text(encoding="utf-8"))

    try:
        result = _invoke(args.template, functions, args.function, event, loader)
    except Exception as error:
        report_crash(args.function, error)
        return 1
    print(json.dumps(result, indent=2))
    return 0


def _invoke(
    template_path: Path,
    functions: dict[str, Any],
    logical_id: str,
    event: dict[str, Any],
    loader: HandlerLoader,
) -> Any:
    state = running_stack()
    if state is None:
        print("local.invoke: no local stack running; starting one for this call", file=sys.stderr)
        with LocalStack(
            template_path=template_path, with_api=False, handler_loader=loader, inherit_settings=True
        ) as stack:
            return stack.invoke(logical_id, event)
    print(f"local.invoke: using the local stack at {state['api_url']}", file=sys.stderr)
    for name, value in {**aws_environment(state["moto_url"]), **state["environment"]}.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    ensure_import_paths()
    return FunctionRunner(functions, loader).invoke(logical_id, event)


if __name__ == "__main__":
    sys.exit(main())
