"""The probe engine: runs any exchange's declared calls and reads their answers into one report.

How a test runs, for every exchange alike:

1. Every declared call whose markets were asked for starts at once. A public call goes straight
   out; a signed call first awaits its host's clock offset (cached per container, else measured by
   the host's ``SERVER_TIME`` call, once per host however many calls wait for it); a call that
   ``needs`` another awaits that answer, so dependent calls start as soon as their input is known.
   A warm container thus tests in about one round trip, a cold one in about two.
2. Each answer is classified once (:func:`classify`): the host's envelope says whether it
   succeeded; otherwise the call's and then the host's error table say what it means. Error
   answers are counted by endpoint (``ProbeReport.error_answers``): some exchanges ban for them.
3. :func:`judge` turns the results into checks, permissions and facts, and picks the one failure
   the user must fix first. A timestamp rejection makes :func:`probe` forget the exchange's clocks
   and run once more before it reports ``clock_skew``.

The verdict (status, remedy, warnings) is ``backfuture.connection_test``'s.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from backfuture.clock import now_ms
from backfuture.engine.http import ExchangeHttp, ExchangeResponse
from backfuture.engine.report import CheckValue, ExchangeFailure, ProbeReport, pick_failure
from backfuture.engine.server_clock import server_clock
from backfuture.engine.spec import (
    Answer,
    Call,
    Draft,
    ExchangeSpec,
    Facts,
    Host,
    Inputs,
    Role,
    Signed,
    Verdict,
)
from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges import Credentials, Market

# What "the key lacks this call's right" means, by the call's role.
_DENIED_OUTCOME: Final = {
    Role.SERVER_TIME: Outcome.EXCHANGE_ERROR,
    Role.STATUS: Outcome.EXCHANGE_ERROR,
    Role.LOOKUP: Outcome.NO_READ_PERMISSION,
    Role.KEY_INFO: Outcome.NO_READ_PERMISSION,
    Role.SPOT_READ: Outcome.NO_READ_PERMISSION,
    Role.SPOT_TRADE: Outcome.NO_TRADE_PERMISSION,
    Role.FUTURES_API: Outcome.FUTURES_NOT_ENABLED,
    Role.FUTURES_READ: Outcome.FUTURES_NOT_ENABLED,
    Role.FUTURES_TRADE: Outcome.FUTURES_NOT_ENABLED,
}
# The check a failure marks when its outcome is not about one check of its own.
_ROLE_CHECK: Final = {
    Role.SPOT_READ: "read",
    Role.SPOT_TRADE: "trade",
    Role.FUTURES_API: "futures",
    Role.FUTURES_READ: "futures",
    Role.FUTURES_TRADE: "futures",
}
_OUTCOME_CHECK: Final = {
    Outcome.INVALID_KEY: "credentials",
    Outcome.INVALID_PASSPHRASE: "credentials",
    Outcome.CLOCK_SKEW: "credentials",
    Outcome.IP_NOT_ALLOWED: "ip_whitelist",
    Outcome.NO_READ_PERMISSION: "read",
    Outcome.NO_TRADE_PERMISSION: "trade",
    Outcome.FUTURES_NOT_ENABLED: "futures",
    Outcome.FUTURES_API_UNAVAILABLE: "futures",
}
_CREDENTIAL_OUTCOMES: Final = frozenset({Outcome.INVALID_KEY, Outcome.INVALID_PASSPHRASE})
# Outcomes that only come back once the exchange accepted the key, secret and passphrase.
_AUTHENTICATED_OUTCOMES: Final = frozenset(
    {
        Outcome.NO_READ_PERMISSION,
        Outcome.NO_TRADE_PERMISSION,
        Outcome.FUTURES_NOT_ENABLED,
        Outcome.ACCOUNT_RESTRICTED,
    }
)
# A best-effort call's failure is reported only when it says to come back later.
_BEST_EFFORT_REPORTED: Final = frozenset({Outcome.RATE_LIMITED})


async def probe(
    spec: ExchangeSpec,
    http: ExchangeHttp,
    credentials: Credentials,
    markets: frozenset[Market],
    error_answers: Counter[str] | None = None,
) -> ProbeReport:
    """Test one key on one exchange. Never raises for an exchange's answer or silence.

    ``error_answers`` (the caller's, so a probe cut short still tells) counts the exchange's error
    answers by endpoint, both passes included; the report carries them too."""
    unusable = spec.credentials.unusable(credentials) if spec.credentials.unusable else None
    if unusable is not None:
        # Known not to work (a retired kind of key): the exchange is not called at all.
        report = ProbeReport(failure=ExchangeFailure(Outcome.INVALID_KEY, reason=unusable))
        report.checks["credentials"] = CheckValue.FAILED
        return report
    errors: Counter[str] = Counter() if error_answers is None else error_answers
    report = await _Run(spec, http, credentials, markets, errors).run()
    if report.failure is not None and report.failure.outcome is Outcome.CLOCK_SKEW:
        # Our clock or the cached offset drifted: measure the exchange's clocks again, once.
        for host in spec.hosts:
            server_clock.forget(_clock_key(spec, host))
        report = await _Run(spec, http, credentials, markets, errors).run()
    report.error_answers = dict(errors)
    return report


# --------------------------------------------------------------------------------------------
# Running the calls
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    """One call's result: a value read from a successful answer, or a failure, or not run."""

    call: Call
    value: Any = None
    failure: ExchangeFailure | None = None
    ran: bool = True
    # KEY_OR_DENIED / KEY_OR_UNAVAILABLE: invalid_key for now, judged once every answer is in.
    ambiguous: Verdict | None = None
    # The exchange answered with an error (PROVES_RIGHT included: the exchange counts it as one).
    error_answer: bool = False

    @property
    def ok(self) -> bool:
        return self.ran and self.failure is None


# The call whose request is being sent (each call runs in a task of its own): lets a recording
# client (tools.live_check) name an answer by its call, even where two calls share a path.
current_call: ContextVar[str] = ContextVar("current_call", default="")

# Answers that change rarely (the symbols open to API trading; a key's account uid): (exchange, call,
# base URL, key digest or "" for public calls) -> (value, expiry on the monotonic clock).
_answer_cache: dict[tuple[str, str, str, str], tuple[Any, float]] = {}


def forget_cached_answers() -> None:
    _answer_cache.clear()


def _clock_key(spec: ExchangeSpec, host: Host) -> str:
    return f"{spec.info.id}:{host.name} {host.base_url()}"


class _Run:
    def __init__(
        self,
        spec: ExchangeSpec,
        http: ExchangeHttp,
        credentials: Credentials,
        markets: frozenset[Market],
        errors: Counter[str],
    ) -> None:
        self.spec = spec
        self.errors = errors
        self.http = http
        self.credentials = credentials
        self.markets = markets
        self.calls = [c for c in spec.calls if c.role is not Role.SERVER_TIME and c.markets & markets]
        self.tasks: dict[str, asyncio.Task[Result]] = {}
        self.clocks: dict[str, asyncio.Task[int]] = {}
        self.resyncs: dict[str, asyncio.Future[int]] = {}  # hosts re-measured after a resend_on answer
        self.measured: set[str] = set()  # hosts whose clock this run measured (not from the cache)
        self.clock_failures: dict[str, ExchangeFailure] = {}

    async def run(self) -> ProbeReport:
        # Declaration order: a call may only need calls declared before it, so its inputs' tasks exist.
        for call in self.calls:
            self.tasks[call.name] = asyncio.create_task(self._run_call(call))
        results = list(await asyncio.gather(*self.tasks.values()))
        report = judge(results, self.markets, list(self.clock_failures.values()))
        offsets = [t.result() for t in self.clocks.values() if t.done() and t.exception() is None]
        report.clock_offset_ms = offsets[0] if offsets else None
        return report

    async def _run_call(self, call: Call) -> Result:
        needed = [await self.tasks[name] for name in call.needs if name in self.tasks]
        inputs = Inputs(
            self.credentials,
            {r.call.name: r.value for r in needed if r.ok},
            {r.call.name: r.failure.exchange_code for r in needed if r.failure is not None},
        )
        if call.when is not None:
            go = call.when(inputs)
        else:  # by default, only once every input is there
            go = len(needed) == len(call.needs) and all(r.ok for r in needed)
        if not go:
            return Result(call, ran=False)
        host = self.spec.host(call.host)
        # A signed answer is about one key: cached under a digest of it (never the key itself).
        holder = hashlib.sha256(self.credentials.api_key.encode()).hexdigest() if call.signed else ""
        cache_key = (self.spec.info.id, call.name, host.base_url(), holder)
        cached = _answer_cache.get(cache_key)
        if cached is not None and cached[1] > time.monotonic():
            return Result(call, value=cached[0])
        current_call.set(call.name)
        try:
            response = await self._send(call, host, inputs)
        except _ClockFailed:
            return Result(call, ran=False)  # the clock's own failure is reported, once per host
        except ExchangeFailure as failure:  # timeouts, resets: the exchange did not answer
            failure.check = _check_of(call)
            return Result(call, failure=failure)
        result = classify(call, host, response, inputs)
        if result.error_answer:
            self.errors[call.path] += 1
        if result.ok and call.cache_s > 0:
            _answer_cache[cache_key] = (result.value, time.monotonic() + call.cache_s)
        return result

    async def _send(self, call: Call, host: Host, inputs: Inputs) -> ExchangeResponse:
        params = call.params(inputs) if callable(call.params) else call.params
        body = call.body(inputs) if callable(call.body) else call.body
        draft = Draft(
            host=host.name,
            method=call.method,
            base_url=host.base_url(),
            path=call.path,
            params=tuple((str(k), str(v)) for k, v in params.items() if v is not None),
            body=_json(body) if body is not None else None,
        )
        if not call.signed:
            query = f"?{urlencode(draft.params)}" if draft.params else ""
            signed = Signed(f"{draft.base_url}{draft.path}{query}", {}, draft.body)
            return await self.http.request(call.method, signed.url, content=signed.content)
        offset = await self._offset(host)
        for attempt in (1, 2):
            signed = self.spec.sign(draft, self.credentials, now_ms() + offset)
            response = await self.http.request(
                call.method, signed.url, headers=signed.headers, content=signed.content
            )
            if attempt == 2 or response.status not in host.resend_on:
                break
            self.errors[call.path] += 1  # the answer not kept is an error answer all the same
            # Such an answer may mean a stale timestamp as well as a bad key: measure the clock again
            # (once per host and run, however many calls got it), then sign afresh.
            offset = await self._resynced_offset(host)
        return response

    async def _offset(self, host: Host) -> int:
        task = self.clocks.get(host.name)
        if task is None:
            task = asyncio.create_task(
                server_clock.offset_ms(_clock_key(self.spec, host), lambda: self._server_time(host))
            )
            self.clocks[host.name] = task
        try:
            return await task
        except ExchangeFailure as failure:
            self.clock_failures[host.name] = failure
            raise _ClockFailed from None

    async def _resynced_offset(self, host: Host) -> int:
        if host.name in self.measured:
            return await self._offset(host)  # measured moments ago, for this very run: still right
        task = self.resyncs.get(host.name)
        if task is None:
            server_clock.forget(_clock_key(self.spec, host))
            self.clocks.pop(host.name, None)
            task = asyncio.ensure_future(self._offset(host))
            self.resyncs[host.name] = task
        return await task

    async def _server_time(self, host: Host) -> int:
        call = next(c for c in self.spec.calls if c.role is Role.SERVER_TIME and c.host == host.name)
        current_call.set(call.name)  # this task's own context: the clock, not the call awaiting it
        self.measured.add(host.name)
        response = await self.http.request("GET", host.base_url() + call.path)
        result = classify(call, host, response)
        if result.error_answer:
            self.errors[call.path] += 1
        if result.failure is not None:
            raise result.failure
        if not isinstance(result.value, int) or isinstance(result.value, bool):
            raise ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE, http_status=response.status)
        return result.value


class _ClockFailed(Exception):
    pass


def _json(body: object) -> str:
    # Compact, in the given key order: the exact text that is signed is the text that is sent.
    return json.dumps(body, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# Classifying one answer
# --------------------------------------------------------------------------------------------


def classify(call: Call, host: Host, response: ExchangeResponse, inputs: Inputs | None = None) -> Result:
    """The one reading of an exchange answer: a value, or a failure with its contract outcome.
    ``inputs`` (the key, needed values) go to a call's ``read_with``; without them, ``read`` reads."""
    envelope = host.envelope
    body = response.body
    code = envelope.code(body)
    if response.status not in (418, 429) and envelope.succeeded(response.status, body):
        data = envelope.data(body)
        try:
            if call.read_with is not None and inputs is not None:
                return Result(call, value=call.read_with(data, inputs))
            return Result(call, value=call.read(data))
        except (ValueError, KeyError, TypeError, AttributeError):
            # A success not shaped as documented: a degraded gateway, not a verdict on the key.
            return Result(call, failure=_failure(call, host, response, Outcome.EXCHANGE_UNAVAILABLE, code))
    answer = _answer(call, host, response, code)
    if answer is Verdict.PROVES_RIGHT:
        return Result(call, value=True, error_answer=True)
    if answer is Verdict.DENIED:
        failure = _failure(call, host, response, _denied(call), code)
    elif isinstance(answer, Verdict):  # KEY_OR_DENIED, KEY_OR_UNAVAILABLE
        failure = _failure(call, host, response, Outcome.INVALID_KEY, code)
        return Result(call, failure=failure, ambiguous=answer, error_answer=True)
    else:
        assert isinstance(answer, Outcome)
        failure = _failure(call, host, response, answer, code)
    return Result(call, failure=failure, error_answer=True)


def _answer(call: Call, host: Host, response: ExchangeResponse, code: str | None) -> Answer:
    if response.status in (418, 429):  # 418: an IP ban after repeated 429s; both carry Retry-After
        return Outcome.RATE_LIMITED
    tables = (call.errors, host.errors)
    for table in tables:
        if code is not None and code in table.exact:
            return table.exact[code]
    message = host.envelope.message(response.body).lower()
    if message and any(word in message for table in tables for word in table.maintenance_words):
        return Outcome.EXCHANGE_UNAVAILABLE
    if code is not None and response.status < 500:
        for table in tables:
            if table.otherwise is not None:
                return table.otherwise
    for table in tables:
        if response.status in table.http:
            return table.http[response.status]
    if response.status >= 500 or response.body is None:  # 5xx: "outcome UNKNOWN"; HTML, truncation
        return Outcome.EXCHANGE_UNAVAILABLE
    if code is None and response.status < 300:  # a 2xx not in the exchange's envelope: a degraded gateway
        return Outcome.EXCHANGE_UNAVAILABLE
    return Outcome.EXCHANGE_ERROR


def _check_of(call: Call) -> str:
    """The check a call's failure marks when its outcome names none: its role's, else futures for
    a call made for futures alone (a futures host's status), else the credentials."""
    if call.role in _ROLE_CHECK:
        return _ROLE_CHECK[call.role]
    return "futures" if call.markets == {Market.FUTURES} else "credentials"


def _denied(call: Call) -> Outcome:
    return call.denied or _DENIED_OUTCOME[call.role]


def _failure(
    call: Call, host: Host, response: ExchangeResponse, outcome: Outcome, code: str | None
) -> ExchangeFailure:
    retry_after = None
    if outcome in (Outcome.RATE_LIMITED, Outcome.EXCHANGE_UNAVAILABLE):
        retry_after = response.retry_after_s()
        if retry_after is None and host.retry_after is not None:
            retry_after = host.retry_after(response)
    return ExchangeFailure(
        outcome,
        check=_OUTCOME_CHECK.get(outcome) or _check_of(call),
        exchange_code=code,
        http_status=response.status,
        retry_after_s=retry_after,
    )


# --------------------------------------------------------------------------------------------
# Judging the results
# --------------------------------------------------------------------------------------------


def judge(
    results: list[Result], markets: frozenset[Market], clock_failures: list[ExchangeFailure]
) -> ProbeReport:
    """Checks, permissions and facts from every call's result; the failure to fix first.

    What the key reports about itself (:class:`Facts`) is authoritative where it speaks: a right it
    denies fails its check even when a call got through, and a restriction it reports (a locked key
    or account) is account_restricted. The calls confirm it and add what key information cannot
    tell (no futures account opened, a frozen account, a closed futures API).
    """
    report = ProbeReport()
    ran = [r for r in results if r.ran]
    key_accepted = any(r.ok and r.call.signed for r in ran)
    for r in ran:
        if r.ambiguous is not None and key_accepted and r.failure is not None:
            # Another signed call passed: the key is good. Either this call's right is missing, or
            # the exchange failed this once.
            outcome = (
                _denied(r.call) if r.ambiguous is Verdict.KEY_OR_DENIED else Outcome.EXCHANGE_UNAVAILABLE
            )
            r.failure = ExchangeFailure(
                outcome,
                check=_OUTCOME_CHECK.get(outcome) or _check_of(r.call),
                exchange_code=r.failure.exchange_code,
                http_status=r.failure.http_status,
            )
    # A fallback that ran on a call's failure, and succeeded, answers in that call's place: the
    # replaced call is left out of the judgement altogether.
    failed = {r.call.name for r in ran if r.failure is not None}
    superseded = {
        name for r in ran if r.ok and r.call.when is not None for name in r.call.needs if name in failed
    }
    ran = [r for r in ran if r.call.name not in superseded]
    failures = list(clock_failures)
    for r in ran:
        if r.failure is None:
            continue
        if r.call.best_effort and r.failure.outcome not in _BEST_EFFORT_REPORTED:
            continue
        failures.append(r.failure)
    firm = [r for r in ran if not r.call.best_effort]
    facts = _merge([r.value for r in ran if r.ok and isinstance(r.value, Facts)])

    def failed_with(outcome: Outcome, *roles: Role) -> list[Result]:
        return [
            r
            for r in firm
            if r.failure is not None and r.failure.outcome is outcome and (not roles or r.call.role in roles)
        ]

    def of_role(role: Role) -> list[Result]:
        return [r for r in ran if r.call.role is role]

    if any(f.outcome in _CREDENTIAL_OUTCOMES for f in failures):
        report.checks["credentials"] = CheckValue.FAILED
    elif key_accepted or any(f.outcome in _AUTHENTICATED_OUTCOMES for f in failures):
        report.checks["credentials"] = CheckValue.OK

    found: list[ExchangeFailure] = []
    spot = Market.SPOT in markets
    futures = Market.FUTURES in markets
    permissions = report.permissions

    # read: the spot balances, or for a futures-only connection the futures balances.
    read_calls = of_role(Role.SPOT_READ if spot else Role.FUTURES_READ)
    read_denied = failed_with(Outcome.NO_READ_PERMISSION)
    read_ok = next((r for r in read_calls if r.ok), None)
    if read_denied or facts.read is False:
        permissions["read"] = False
        report.checks["read"] = CheckValue.FAILED
        if any(r.call.role in (Role.SPOT_READ, Role.FUTURES_READ) for r in read_denied):
            report.checks["balance_access"] = CheckValue.FAILED
        if not read_denied:
            found.append(ExchangeFailure(Outcome.NO_READ_PERMISSION, check="read"))
    elif read_ok is not None:
        permissions["read"] = True
        report.checks["read"] = CheckValue.OK
        if _lists_balances(read_ok.value):
            report.checks["balance_access"] = CheckValue.OK
    elif facts.read:
        permissions["read"] = True

    # trade: spot trading when spot is asked for; for a futures-only connection, futures trading.
    trade_role, trade_right = (
        (Role.SPOT_TRADE, facts.spot_trade) if spot else (Role.FUTURES_TRADE, facts.futures_trade)
    )
    trade_denied = failed_with(
        Outcome.NO_TRADE_PERMISSION if spot else Outcome.FUTURES_NOT_ENABLED, trade_role
    )
    if trade_denied or trade_right is False:
        permissions["trade"] = False
        if spot:
            report.checks["trade"] = CheckValue.FAILED
            if not trade_denied:
                found.append(ExchangeFailure(Outcome.NO_TRADE_PERMISSION, check="trade"))
    elif any(r.ok for r in of_role(trade_role)) or trade_right:
        permissions["trade"] = True
        report.checks["trade"] = CheckValue.OK

    if facts.futures_trade is not None:
        permissions["futures"] = facts.futures_trade
    report.futures_with_trade = facts.futures_with_trade
    if futures:
        _judge_futures(report, facts, of_role, failed_with, found)

    if facts.withdraw is True:
        permissions["withdraw"] = True
        report.checks["withdraw_disabled"] = CheckValue.FAILED
    elif facts.withdraw is False and not facts.unknown_permissions:
        permissions["withdraw"] = False
        report.checks["withdraw_disabled"] = CheckValue.OK
    report.unknown_permissions = list(facts.unknown_permissions)
    if facts.ip_whitelist is not None:
        report.ip_whitelist = list(facts.ip_whitelist)
    report.key_expires_at = facts.expires_at
    report.account.update(facts.account)
    if facts.unneeded:
        report.warnings.append(WarningCode.UNNEEDED_PERMISSION)
    if facts.restricted:
        # The exchange answered, but says the key or account is barred: the key is not usable, as
        # when a call is refused with a restriction code. A withdraw right found above still stands
        # (connection_test refuses such a key before it reports any failure).
        found.append(ExchangeFailure(Outcome.ACCOUNT_RESTRICTED, check="credentials"))

    # The calls' own failures first: among equal outcomes they carry the exchange's code.
    report.failure = pick_failure(*failures, *found)
    return report


def _judge_futures(
    report: ProbeReport,
    facts: Facts,
    of_role: Callable[[Role], list[Result]],
    failed_with: Callable[..., list[Result]],
    found: list[ExchangeFailure],
) -> None:
    closed = any(r.ok and r.value is False for r in of_role(Role.FUTURES_API))
    denied = failed_with(Outcome.FUTURES_NOT_ENABLED, Role.FUTURES_READ, Role.FUTURES_TRADE)
    if closed:
        # A fact about the exchange, not the key: the check fails only if this is the failure reported
        # (connection_test marks it), never beside a key or availability problem.
        found.append(ExchangeFailure(Outcome.FUTURES_API_UNAVAILABLE, check="futures"))
    if denied or facts.futures_trade is False:
        report.permissions["futures"] = False
        report.checks["futures"] = CheckValue.FAILED
        if not denied:
            found.append(ExchangeFailure(Outcome.FUTURES_NOT_ENABLED, check="futures"))
        return
    if closed:
        return
    reads, trades = of_role(Role.FUTURES_READ), of_role(Role.FUTURES_TRADE)
    readable = all(r.ok for r in reads)
    tradable = all(r.ok for r in trades) if trades else facts.futures_trade is True
    if readable and tradable:
        report.permissions["futures"] = True
        report.checks["futures"] = CheckValue.OK


def _lists_balances(value: Any) -> bool:
    return value.balances if isinstance(value, Facts) else bool(value)


def _merge(found: list[Facts]) -> Facts:
    """One view of the key from every answer that spoke about it (the first to speak wins)."""

    def first(name: str) -> Any:
        return next((getattr(f, name) for f in found if getattr(f, name) is not None), None)

    account: dict[str, Any] = {}
    for f in reversed(found):
        account.update(f.account)
    return Facts(
        withdraw=first("withdraw"),
        read=first("read"),
        spot_trade=first("spot_trade"),
        futures_trade=first("futures_trade"),
        balances=any(f.balances for f in found),
        unneeded=any(f.unneeded for f in found),
        futures_with_trade=any(f.futures_with_trade for f in found),
        unknown_permissions=tuple(dict.fromkeys(p for f in found for p in f.unknown_permissions)),
        ip_whitelist=first("ip_whitelist"),
        expires_at=first("expires_at"),
        # Any answer that reports a restriction wins over one that reports none (a normal key on
        # a locked account).
        restricted=True if any(f.restricted for f in found) else first("restricted"),
        account=account,
    )
