"""Load: hundreds of concurrent adds, tests and reads for many users against the local stack.

``python -m benchmarks.load`` (``make load``) starts :class:`local.LocalStack` in this process (the
real HTTP API on loopback, moto's server, the exchange simulator), drives it from a thread pool,
then checks what the stores hold: no lost update (every 201 is listed, counts match), no duplicate
name per user, no API key connected twice, every response well-formed, no secret echoed, no orphan.
It prints throughput and latency percentiles per operation and writes them to ``docs/evidence.md``.

Two kinds of deliberate race are part of the load: one user adding the same name in different
case several times at once, and several users adding the same API key at once (each exactly one
winner). The local stack runs each function's invocations one at a time (one warm Lambda container
per function, see ``local/functions.py``), so throughput here is that of a single container per
function, not of the deployed service, which scales out per concurrent request.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import secrets
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = REPO_ROOT / "docs" / "evidence.md"

RESOURCE_KEYS = {
    "id",
    "name",
    "exchange",
    "markets",
    "api_key_hint",
    "status",
    "status_label",
    "trading_ready",
    "error",
    "warnings",
    "checked_at",
    "key_expires_at",
    "withdrawal_disabled_confirmed_at",
    "created_at",
    "updated_at",
}
STATUS_DOC_REQUIRED = {"connection_id", "status", "status_label"}
STATUS_DOC_KEYS = STATUS_DOC_REQUIRED | {
    "checked_at",
    "duration_ms",
    "error",
    "warnings",
    "checks",
    "permissions",
    "account",
    "clock_offset_ms",
}
STATUSES = {"untested", "connected", "failed", "refused", "unavailable"}
# The error codes each HTTP status may carry (the contract's table).
ERROR_CODES = {
    404: {"not_found"},
    409: {"name_taken", "key_already_connected", "conflict"},
    422: {"validation_error", "unsupported_exchange"},
    429: {"connection_limit_reached", "test_cooldown", "quota_exceeded"},
    503: {"service_unavailable"},
}
# The answers each kind of request may get under load; anything else is a failure of the run.
EXPECTED_STATUSES = {
    "add": {201},
    "add (same name)": {201, 409},
    # Untested connections may share a key string; their tests race for the key's lock.
    "add (same key)": {201},
    "test (same key)": {200, 409},
    "test": {200, 429},
    "get": {200},
    "list": {200},
    "status": {200},
}


@dataclass(frozen=True)
class LoadShape:
    users: int = 50
    adds_per_user: int = 4  # before the mixed phase; one more per user during it
    same_name_racers: int = 3  # concurrent adds of one name (in different case) per user
    key_races: int = 10  # demo keys added by several users, then tested by all of them at once
    key_racers: int = 5
    tests_per_user: int = 3
    gets_per_user: int = 3
    lists_per_user: int = 2
    statuses_per_user: int = 2
    concurrency: int = 32
    max_requests: int = 2000
    max_seconds: float = 300.0
    seed: int = 6


SMOKE = LoadShape(
    users=5,
    adds_per_user=2,
    same_name_racers=3,
    key_races=2,
    key_racers=3,
    tests_per_user=2,
    gets_per_user=2,
    lists_per_user=1,
    statuses_per_user=1,
    concurrency=8,
    max_requests=200,
    max_seconds=120.0,
)


@dataclass
class Request:
    op: str
    user: str
    method: str
    path: str
    body: dict[str, Any] | None = field(default=None, repr=False)  # holds credentials
    group: str | None = None  # the race it belongs to


@dataclass
class Sample:
    request: Request
    status: int
    ms: float
    text: str
    body: Any = None
    problem: str | None = None  # why the response is not well-formed, or not expected


@dataclass
class Verification:
    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks[name] = (ok, detail)

    @property
    def passed(self) -> bool:
        return all(ok for ok, _ in self.checks.values())


@dataclass
class LoadReport:
    shape: LoadShape
    samples: list[Sample]
    wall_s: float
    skipped: int
    verification: Verification
    secrets: frozenset[str] = field(default=frozenset(), repr=False)  # every credential the run sent

    def by_op(self) -> dict[str, list[Sample]]:
        grouped: dict[str, list[Sample]] = defaultdict(list)
        for sample in self.samples:
            grouped[sample.request.op].append(sample)
        return grouped


# -- the workload ---------------------------------------------------------------------------------


class Workload:
    """The requests of both phases, and every secret handed to the service (to search responses for)."""

    def __init__(self, shape: LoadShape) -> None:
        self.shape = shape
        self.random = random.Random(shape.seed)  # noqa: S311 - a repeatable mix, not a secret
        self.users = [f"load-{i:03d}" for i in range(shape.users)]
        self.secrets: set[str] = set()

    def _mexc(self, name: str, key: str | None = None) -> dict[str, Any]:
        api_key = key or "mx0load" + secrets.token_hex(8)
        api_secret = secrets.token_hex(16)
        self.secrets.update({api_key, api_secret})
        return {"exchange": "mexc", "name": name, "api_key": api_key, "api_secret": api_secret}

    def first_phase(self) -> list[Request]:
        shape = self.shape
        requests: list[Request] = []
        for user in self.users:
            for j in range(shape.adds_per_user):
                requests.append(Request("add", user, "POST", "/connections", self._mexc(f"Conn {j}")))
            # The same name in different case, at once: names are unique ignoring case.
            for j in range(shape.same_name_racers):
                name = ["Race", "RACE", "race", "rAcE"][j % 4]
                requests.append(
                    Request("add (same name)", user, "POST", "/connections", self._mexc(name), f"name:{user}")
                )
        connecting = [d for d in _demo_keys() if d.outcome == "connected"]
        for k, demo in enumerate(connecting[: shape.key_races]):
            # One exchange key pasted by several users at once: all are stored (untested), and the
            # first test to pass locks it (contract, "One key, one connection").
            for r in range(min(shape.key_racers, len(self.users))):
                user = self.users[(k * shape.key_racers + r) % len(self.users)]
                body: dict[str, Any] = {
                    "exchange": demo.exchange,
                    "name": f"Demo {k}",
                    "api_key": demo.api_key,
                    "api_secret": demo.api_secret,
                    "markets": ["spot", "futures"] if "futures" in demo.markets else ["spot"],
                }
                if demo.passphrase is not None:
                    body["passphrase"] = demo.passphrase
                self.secrets.update(v for v in (demo.api_key, demo.api_secret, demo.passphrase) if v)
                requests.append(Request("add (same key)", user, "POST", "/connections", body, f"shared:{k}"))
        self.random.shuffle(requests)
        return requests

    def second_phase(
        self, connections: dict[str, list[str]], shared: dict[str, list[tuple[str, str]]] | None = None
    ) -> list[Request]:
        """Tests and reads of what the first phase created, mixed with more adds; the connections
        sharing a key are all tested at once (exactly one may win the key)."""
        shape = self.shape
        requests: list[Request] = []
        racing = {cid for entries in (shared or {}).values() for _, cid in entries}
        for group, entries in (shared or {}).items():
            for user, cid in entries:
                key_race = group.replace("shared:", "key:")
                requests.append(
                    Request("test (same key)", user, "POST", f"/connections/{cid}/test", group=key_race)
                )
        for user in self.users:
            ids = [cid for cid in connections.get(user, []) if cid not in racing]
            requests.append(Request("add", user, "POST", "/connections", self._mexc("Later")))
            for cid in self.random.sample(ids, min(shape.tests_per_user, len(ids))):
                requests.append(Request("test", user, "POST", f"/connections/{cid}/test"))
            for _ in range(shape.gets_per_user if ids else 0):
                requests.append(Request("get", user, "GET", f"/connections/{self.random.choice(ids)}"))
            for _ in range(shape.statuses_per_user if ids else 0):
                cid = self.random.choice(ids)
                requests.append(Request("status", user, "GET", f"/connections/{cid}/status"))
            for _ in range(shape.lists_per_user):
                requests.append(Request("list", user, "GET", "/connections"))
        self.random.shuffle(requests)
        return requests


def _demo_keys() -> list[Any]:
    from itertools import chain, zip_longest

    from simulator import demo_key_modules

    # Alternate the exchanges so a small run still covers each of them.
    rounds = zip_longest(*(module.DEMO_KEYS for module in demo_key_modules()))
    return [key for key in chain.from_iterable(rounds) if key is not None]


# -- driving the API ------------------------------------------------------------------------------


class Driver:
    def __init__(self, api_url: str, concurrency: int, deadline: float) -> None:
        import httpx

        self._client = httpx.Client(
            base_url=api_url,
            timeout=60.0,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._transport_error = httpx.TransportError
        self.concurrency = concurrency
        self.deadline = deadline
        self.skipped = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def run(self, requests: list[Request]) -> list[Sample]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            results = list(pool.map(self._one, requests))
        return [s for s in results if s is not None]

    def _one(self, request: Request) -> Sample | None:
        if time.monotonic() > self.deadline:
            with self._lock:
                self.skipped += 1
            return None
        headers = {"Authorization": f"Bearer dev:{request.user}"}
        started = time.perf_counter()
        try:
            response = self._client.request(request.method, request.path, json=request.body, headers=headers)
        except self._transport_error as error:
            ms = (time.perf_counter() - started) * 1000
            return Sample(request, 0, ms, "", problem=f"transport error {type(error).__name__}")
        ms = (time.perf_counter() - started) * 1000
        sample = Sample(request, response.status_code, ms, response.text)
        sample.problem = _shape_problem(sample, response.headers.get("content-type", ""))
        return sample


def _shape_problem(sample: Sample, content_type: str) -> str | None:
    """Why a response breaks the contract, or None."""
    if sample.status not in EXPECTED_STATUSES[sample.request.op]:
        try:  # the error code, where the body has one, says which guarantee gave way
            error = json.loads(sample.text).get("error", {})
            code = error.get("code") if isinstance(error, dict) else None
        except (ValueError, AttributeError):
            code = None
        return f"unexpected status {sample.status} ({code})"
    if "application/json" not in content_type:
        return "not JSON"
    try:
        sample.body = body = json.loads(sample.text)
    except ValueError:
        return "invalid JSON"
    if sample.status >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if set(body) != {"error"} or not isinstance(error, dict):
            return "error body shape"
        if not {"code", "message", "remedy"} <= set(error) <= {"code", "message", "remedy", "details"}:
            return "error fields"
        if error["code"] not in ERROR_CODES.get(sample.status, set()):
            return f"code {error['code']} with {sample.status}"
        return None
    op = sample.request.op
    if op.startswith("add") or op == "get":
        return None if _is_resource(body) else "resource shape"
    if op == "list":
        listed = body.get("connections") if isinstance(body, dict) else None
        ok = set(body) == {"connections"} and isinstance(listed, list) and all(map(_is_resource, listed))
        return None if ok else "list shape"
    keys = set(body) if isinstance(body, dict) else set()
    ok = STATUS_DOC_REQUIRED <= keys <= STATUS_DOC_KEYS and body["status"] in STATUSES
    return None if ok else "status document shape"


def _is_resource(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == RESOURCE_KEYS and value["status"] in STATUSES


# -- running and verifying ------------------------------------------------------------------------


def run_load(
    shape: LoadShape = LoadShape(), *, quiet: bool = False, handler_output: bool = True
) -> LoadReport:
    """``handler_output=False`` discards the functions' log and metric lines (stdout) during the run."""
    from local import LocalStack

    say: Callable[[str], None] = (lambda _: None) if quiet else (lambda text: print(text, file=sys.stderr))
    workload = Workload(shape)
    sink = contextlib.nullcontext() if handler_output else contextlib.redirect_stdout(io.StringIO())
    # The run measures the service, not its abuse limits: the simulator is the only exchange, and a
    # load user runs more tests and adds than a person would (tests/integration/test_abuse_limits.py).
    unlimited = {
        "PLATFORM_BUDGET_FACTOR": "1000",
        "TESTS_PER_USER_PER_HOUR": "1000000",
        "CONNECTIONS_CREATED_PER_USER_PER_DAY": "1000000",
    }
    with sink, LocalStack(env_overrides=unlimited) as stack:
        say(f"local stack up: API {stack.api_url}")
        deadline = time.monotonic() + shape.max_seconds
        driver = Driver(stack.api_url, shape.concurrency, deadline)
        try:
            first = workload.first_phase()[: shape.max_requests]
            started = time.perf_counter()
            samples = driver.run(first)
            say(f"phase 1: {len(samples)} adds")
            created: dict[str, list[str]] = defaultdict(list)
            shared: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for sample in samples:
                if sample.status == 201 and sample.problem is None:
                    created[sample.request.user].append(sample.body["id"])
                    if sample.request.group and sample.request.group.startswith("shared:"):
                        shared[sample.request.group].append((sample.request.user, sample.body["id"]))
            second = workload.second_phase(created, shared)[: max(0, shape.max_requests - len(first))]
            samples += driver.run(second)
            wall_s = time.perf_counter() - started
            say(f"phase 2: {len(samples) - len(first)} tests, reads and adds")
            verification = verify(stack, workload, samples)
        finally:
            driver.close()
    return LoadReport(shape, samples, wall_s, driver.skipped, verification, frozenset(workload.secrets))


def verify(stack: Any, workload: Workload, samples: list[Sample]) -> Verification:
    import httpx

    result = Verification()
    malformed = Counter(f"{s.request.op}: {s.problem}" for s in samples if s.problem)
    result.check("every response well-formed and expected", not malformed, _counts(malformed) or "all")
    server_errors = sum(s.status >= 500 for s in samples)
    result.check("no 5xx", server_errors == 0, f"{server_errors} of {len(samples)}")

    leaked = sum(any(secret in s.text for secret in workload.secrets) for s in samples)
    result.check("no secret echoed", leaked == 0, f"{leaked} responses quoted a secret")

    races: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        if sample.request.group and not sample.request.group.startswith("shared:"):
            races[sample.request.group].append(sample)
    # A name race is won by one add (201), the others 409 name_taken. A key race is won by the one test
    # that locks the key (200, connected or refused); the others get 409 key_already_connected, or 200
    # unavailable when the exchange did not answer that test in time (the key was not judged, and so
    # not locked: contract, "One key, one connection").
    kind = {group: group.split(":", 1)[0] + ":" for group in races}
    bad_races = [
        group
        for group, entries in races.items()
        if sum(_won(s, kind[group]) for s in entries) != 1
        or any(not _won(s, kind[group]) and not _lost(s, kind[group]) for s in entries)
    ]
    unjudged = sum(_tested_status(s) == "unavailable" for g, entries in races.items() for s in entries)
    result.check(
        "each race has exactly one winner",
        not bad_races,
        f"{len(races)} races ({sum(g.startswith('name:') for g in races)} same-name, "
        f"{sum(g.startswith('key:') for g in races)} same-key; {unjudged} test(s) unavailable, key not "
        f"judged); failed: {_race_details(races, bad_races) or 'none'}",
    )

    added: dict[str, set[str]] = defaultdict(set)
    for sample in samples:
        if sample.request.method == "POST" and sample.status == 201:
            added[sample.request.user].add(sample.body["id"])
    lost, phantom, duplicate_names = 0, 0, 0
    with httpx.Client(base_url=stack.api_url, timeout=30.0) as client:
        for user in workload.users:
            listed = client.get("/connections", headers={"Authorization": f"Bearer dev:{user}"}).json()
            ids = {c["id"] for c in listed["connections"]}
            lost += len(added[user] - ids)
            phantom += len(ids - added[user])
            names = [c["name"].casefold() for c in listed["connections"]]
            duplicate_names += len(names) - len(set(names))
    total = sum(len(ids) for ids in added.values())
    result.check(
        "no lost update",
        lost == 0 and phantom == 0,
        f"{total} adds answered 201, {lost} not listed, {phantom} listed without a 201",
    )
    result.check(
        "no duplicate name per user (ignoring case)", duplicate_names == 0, f"{duplicate_names} duplicates"
    )

    db, sm = stack.aws.client("dynamodb"), stack.aws.client("secretsmanager")
    table, prefix = stack.resources.table_name, stack.environment["SECRET_NAME_PREFIX"]
    items = _scan(db, table)
    connected = [i for i in items if i["SK"].startswith("CONN#") and i["status"] == "connected"]
    fingerprints = Counter(i["key_fingerprint"] for i in connected)
    twice = sum(n > 1 for n in fingerprints.values())
    result.check("no key connected twice", twice == 0, f"{len(fingerprints)} keys, {twice} connected twice")
    orphans = count_orphans(db, sm, table, prefix)
    result.check(
        "no orphan (stores consistent, PROFILE counts match)", not orphans, _counts(orphans) or "zero orphans"
    )
    return result


def _race_details(
    races: dict[str, list[Sample]], bad: list[str]
) -> list[tuple[str, list[tuple[int, str | None]]]]:
    return [(g, [(x.status, _tested_status(x) or _code(x)) for x in races[g]]) for g in bad]


def _tested_status(sample: Sample) -> str | None:
    """A test's status (200: the status document), else None."""
    body = sample.body if isinstance(sample.body, dict) else {}
    return str(body["status"]) if sample.status == 200 and "status" in body else None


def _won(sample: Sample, kind: str) -> bool:
    if kind == "name:":
        return sample.status == 201
    return _tested_status(sample) in ("connected", "refused")


def _lost(sample: Sample, kind: str) -> bool:
    if kind == "name:":
        return _code(sample) == "name_taken"
    return _code(sample) == "key_already_connected" or _tested_status(sample) == "unavailable"


def _code(sample: Sample) -> str | None:
    body = sample.body if isinstance(sample.body, dict) else {}
    error = body.get("error")
    return str(error["code"]) if isinstance(error, dict) and "code" in error else None


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()))


def _scan(db: Any, table: str) -> list[dict[str, Any]]:
    """The table's items as plain values (strings and numbers are all the items hold)."""
    return [
        {k: next(iter(v.values())) for k, v in item.items()}
        for page in db.get_paginator("scan").paginate(TableName=table)
        for item in page["Items"]
    ]


def count_orphans(db: Any, sm: Any, table: str, prefix: str) -> Counter[str]:
    """Everything half-written across the table and Secrets Manager, by kind; empty when consistent.

    Secrets no connection points at; connections whose secret is gone (unless refused: then the
    secret must be gone, and a refused one still stored counts); name and key locks without their
    connection, connections without their locks; PROFILE counts that differ from the connections.
    """
    secrets_stored = {
        s["ARN"]
        for page in sm.get_paginator("list_secrets").paginate()
        for s in page["SecretList"]
        if s["Name"].startswith(prefix)
    }
    items = _scan(db, table)
    connections = {(i["PK"], i["id"]): i for i in items if i["SK"].startswith("CONN#")}
    name_locks = {(i["PK"], i["SK"]): i for i in items if i["SK"].startswith("NAME#")}
    key_locks = {i["PK"]: i for i in items if i["PK"].startswith("KEY#")}
    orphans: Counter[str] = Counter()
    referenced = {c.get("secret_arn") for c in connections.values()}
    remembered = {arn for c in connections.values() for arn in c.get("retired_secret_arns") or ()}
    orphans["secret_without_connection"] = len(secrets_stored - referenced - remembered)
    # A replaced secret that could not be destroyed, remembered on its connection for the next
    # replacement or the delete: tracked, but still stored.
    orphans["retired_secret_pending"] = len(secrets_stored & remembered)
    for (pk, _), connection in connections.items():
        stored = connection.get("secret_arn") in secrets_stored
        if connection["status"] == "refused":
            orphans["refused_with_secret"] += stored
        else:
            orphans["connection_without_secret"] += not stored
        orphans["connection_without_name_lock"] += (pk, f"NAME#{connection['name_key']}") not in name_locks
        # A key is locked only once a test passed or refused it (contract, "One key, one connection").
        if connection.get("key_locked"):
            lock = key_locks.get(f"KEY#{connection['key_fingerprint']}")
            orphans["connection_without_key_lock"] += (
                lock is None or lock["connection_id"] != connection["id"]
            )
    for (pk, sk), lock in name_locks.items():
        owner = connections.get((pk, lock["connection_id"]))
        orphans["name_lock_without_connection"] += owner is None or f"NAME#{owner['name_key']}" != sk
    for pk, lock in key_locks.items():
        owner = connections.get((f"USER#{lock['owner']}", lock["connection_id"]))
        orphans["key_lock_without_connection"] += (
            owner is None or f"KEY#{owner['key_fingerprint']}" != pk or not owner.get("key_locked")
        )
    profiles = {i["PK"]: int(i.get("connection_count", 0)) for i in items if i["SK"] == "PROFILE"}
    per_user = Counter(pk for pk, _ in connections)
    for user in set(profiles) | set(per_user):
        orphans["profile_count_mismatch"] += profiles.get(user, 0) != per_user[user]
    return +orphans  # without the zero counts


# -- reporting --------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def table(report: LoadReport) -> str:
    rows = [
        "| operation | requests | answers | req/s | p50 ms | p90 ms | p99 ms |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    groups = report.by_op()
    for op in [*EXPECTED_STATUSES, "all"]:
        samples = report.samples if op == "all" else groups.get(op, [])
        if not samples:
            continue
        ms = [s.ms for s in samples]
        answers = Counter(str(s.status) if s.status < 400 else f"{s.status} {_code(s)}" for s in samples)
        rows.append(
            f"| {op} | {len(samples)} | {_counts(answers)} | {len(samples) / report.wall_s:.1f} | "
            f"{percentile(ms, 50):.0f} | {percentile(ms, 90):.0f} | {percentile(ms, 99):.0f} |"
        )
    return "\n".join(rows)


def summary(report: LoadReport) -> str:
    shape = report.shape
    lines = [
        f"{shape.users} users, concurrency {shape.concurrency}, {len(report.samples)} requests in "
        f"{report.wall_s:.1f} s = {len(report.samples) / report.wall_s:.1f} req/s"
        + (f" ({report.skipped} skipped at the time limit)" if report.skipped else ""),
        "",
        table(report),
        "",
        "| verification | result | detail |",
        "|---|---|---|",
    ]
    for name, (ok, detail) in report.verification.checks.items():
        lines.append(f"| {name} | {'pass' if ok else 'FAIL'} | {detail} |")
    return "\n".join(lines)


def evidence_section(report: LoadReport) -> str:
    shape = report.shape
    return "\n".join(
        [
            "## Load",
            "",
            "Command: `make load` (`uv run python -m benchmarks.load`); the same code runs small in the "
            "test suite (`tests/integration/test_load_smoke.py`, correctness only).",
            "",
            "The whole stack in one process on loopback (`local.LocalStack`: the real handlers behind the "
            "local HTTP API, moto's server, the exchange simulator). First phase: every user adds "
            f"{shape.adds_per_user} connections and races {shape.same_name_racers} adds of one name in "
            f"different case; {shape.key_races} demo keys are each added by {shape.key_racers} users at "
            "once (all stored: untested connections may share a key). Second phase, mixed: the users "
            "sharing a key test it at once (one wins the key, the others get 409), tests, gets, status "
            "reads, lists and one more add per user. Abuse limits are lifted for the run. "
            "Then the stores are checked directly.",
            "",
            summary(report),
            "",
            "Latency is measured at the client, through HTTP; req/s is an operation's share of the "
            "run's throughput (its requests over the whole run's wall time). The local stack runs each "
            "function's invocations one at a time, like one warm Lambda container per function "
            "(`local/functions.py`: Powertools keeps request state on the app object), so concurrent "
            "requests to one function queue and throughput is that of one container per function; the "
            "deployed API scales out per concurrent request. Tests include the simulator's exchange "
            "round trips.",
            "",
            "A FAIL with `409 (conflict)` here is the one-process stand-in, not the service (seen at "
            "concurrency 16 and 32, and on the commit before this round, 591278a): moto's server, "
            "starved under this load, answers a DynamoDB call after the clients' 5 s read timeout; "
            "botocore sends the transaction again, and moto, unlike DynamoDB, ignores its "
            "`ClientRequestToken` (botocore fills one per call and keeps it across retries), so the "
            "retry of a transaction that already committed fails its own conditions: a test whose "
            "result was stored answers 409, and an add that was stored answers 409 and destroys its "
            "secret. DynamoDB answers such a retry as the first call (idempotent for 10 minutes). "
            "Still open: a test of the stand-in that honours the token, or the stand-in's read "
            "timeout raised for this run.",
            "",
        ]
    )


def replace_section(path: Path, heading: str, text: str) -> None:
    """Put ``text`` (starting with ``heading``) in place of that section, or append it; others stay."""
    current = path.read_text() if path.exists() else "# Evidence\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    body = text.rstrip("\n") + "\n\n"
    if pattern.search(current):
        updated = pattern.sub(lambda _: body, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + body
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n")[0])
    defaults = LoadShape()
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--max-requests", type=int, default=defaults.max_requests)
    parser.add_argument("--max-seconds", type=float, default=defaults.max_seconds)
    parser.add_argument("--no-evidence", action="store_true", help="do not update docs/evidence.md")
    args = parser.parse_args(argv)
    shape = LoadShape(
        users=args.users,
        concurrency=args.concurrency,
        max_requests=args.max_requests,
        max_seconds=args.max_seconds,
    )
    report = run_load(shape, handler_output=False)
    print(summary(report))
    if not args.no_evidence:
        replace_section(EVIDENCE, "## Load", evidence_section(report))
        print(f"\nwritten to {EVIDENCE.relative_to(REPO_ROOT)} (## Load)")
    return 0 if report.verification.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
