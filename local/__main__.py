"""``python -m local``: the whole service on this machine, until Ctrl-C (or SIGTERM).

Environment: ``PORT`` (API, default 3000), ``SIMULATOR_PORT`` (default 8900, or a free port when
that is taken), ``EGRESS_IPS``, ``MAX_CONNECTIONS_PER_USER``, ``TEST_COOLDOWN_S`` and the four
``*_BASE_URL`` variables (point an exchange somewhere other than the simulator).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType

from local.stack import VENUE_URL_VARS, LocalStack
from local.state import clear_state, write_state
from local.template import DEFAULT_TEMPLATE, REGION, TemplateError

DEFAULT_API_PORT = 3000
DEFAULT_SIMULATOR_PORT = 8900


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or DEFAULT_API_PORT))
    parser.add_argument("--simulator-port", type=int, default=_simulator_port())
    args = parser.parse_args(argv)

    stack = LocalStack(
        template_path=args.template,
        api_port=args.port,
        simulator_port=args.simulator_port,
        inherit_settings=True,
        access_log=True,
    )
    try:
        stack.start()
    except TemplateError as error:
        print(f"local stack: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"local stack: cannot start ({error}); is a port taken? set PORT / SIMULATOR_PORT",
            file=sys.stderr,
        )
        return 2

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    state = write_state(stack)
    print(banner(stack), flush=True)
    try:
        while not stopping.wait(0.5):  # a timed wait lets the main thread run the signal handlers
            pass
    finally:
        print("\nstopping...", flush=True)
        clear_state(state)
        stack.stop()
    print("stopped", flush=True)
    return 0


def _simulator_port() -> int:
    if os.environ.get("SIMULATOR_PORT"):
        return int(os.environ["SIMULATOR_PORT"])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", DEFAULT_SIMULATOR_PORT))
        except OSError:
            return 0  # taken: any free port will do, the banner says which
    return DEFAULT_SIMULATOR_PORT


def banner(stack: LocalStack) -> str:
    env, resources = stack.environment, stack.resources
    assert resources is not None
    assert stack.sim is not None
    api = stack.api_url
    lines = [
        "BackFuture local stack is running (Ctrl-C stops it)",
        f"  API          {api}   (identity: Authorization: Bearer dev:<user-id>)",
        f"  simulator    {stack.simulator_url}   (venues: {', '.join(sorted(stack.sim.venues)) or 'none'};"
        " control: /_sim/config, /_sim/requests)",
        f"  AWS (moto)   {stack.moto_url}   (region {REGION}, table {resources.table_name},"
        f" key {resources.key_alias})",
        f"  egress IPs   {', '.join(ip.strip() for ip in env['EGRESS_IPS'].split(','))}",
    ]
    for name in VENUE_URL_VARS:
        lines.append(f"  {name:<24} {env[name]}")
    demo = _demo_key()
    body = {
        "exchange": "mexc",
        "name": "MEXC demo",
        "api_key": demo[0],
        "api_secret": demo[1],
        "markets": ["spot"],
    }
    auth = "-H 'Authorization: Bearer dev:alice'"
    lines += [
        "",
        "Try it:",
        f"  curl -s {api}/exchanges",
        f"  curl -s -X POST {api}/connections {auth} -H 'Content-Type: application/json' \\",
        f"       -d {shlex.quote(json.dumps(body))}",
        f"  curl -s -X POST {api}/connections/<id>/test {auth}",
        f"  curl -s {api}/connections {auth}",
        "",
        "Development only (not in the template):",
        f"  curl -s -X POST {api}/_dev/revalidate      # one re-validation run, every connection due",
        f"  curl -s {api}/_dev/events                  # status-change events published so far",
    ]
    return "\n".join(lines)


def _demo_key() -> tuple[str, str]:
    """The simulator's MEXC demo key for "connected" (public test data, listed in the README)."""
    try:
        from simulator.mexc import DEMO_KEYS
    except ImportError:
        return "<demo api key>", "<demo api secret>"
    for key in DEMO_KEYS:
        if key.outcome == "connected" and "spot" in key.markets:
            return key.api_key, key.api_secret
    return "<demo api key>", "<demo api secret>"


if __name__ == "__main__":
    sys.exit(main())
