"""The vocabulary an exchange module declares itself in.

An exchange module (``backfuture.exchanges.<id>``) is data plus a few pure functions:

* :class:`Host`: a base URL (fixed in code, overridable by one configuration variable), the
  envelope its answers come in and its error table;
* :class:`Call`: one request, tagged by the :class:`Role` it plays in the test, with the function
  that reads its answer; a call may depend on another's answer (``needs``);
* a signer: ``(Draft, Credentials, timestamp_ms) -> Signed``;
* :class:`Errors`: exact codes (and, only where the exchange documents one, a message family)
  mapped to the contract's outcomes, or to a verdict that depends on the call (:data:`DENIED`,
  :data:`KEY_OR_DENIED`, :data:`KEY_OR_UNAVAILABLE`, :data:`PROVES_RIGHT`);
* :class:`Facts`: what a key-info (or any) answer says about the key;
* :class:`Fact`: each exchange fact the module relies on, with its source and whether it is confirmed;
* :class:`RequestBudget` and, where the exchange bans for error answers, :class:`ErrorBudget`: what
  the platform as a whole may draw from it.

The engine (``backfuture.engine.probe``) runs every exchange from these, the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from backfuture.errors import Outcome
from backfuture.exchanges import Credentials, ExchangeInfo, Market

if TYPE_CHECKING:
    from backfuture.engine.http import ExchangeResponse


class Role(StrEnum):
    """What a call proves. The engine judges each check from the calls of its role."""

    SERVER_TIME = "server_time"  # public: the host's clock, for signing
    STATUS = "status"  # public: is the venue open? (closed: exchange_unavailable)
    LOOKUP = "lookup"  # an input another call needs (a uid, the symbols open to API trading)
    KEY_INFO = "key_info"  # the key's own rights, IP whitelist, expiry, master/sub
    SPOT_READ = "spot_read"  # spot balances
    SPOT_TRADE = "spot_trade"  # proof of the spot trade right, without an order
    FUTURES_API = "futures_api"  # public: does the exchange accept futures orders by API at all?
    FUTURES_READ = "futures_read"  # futures balances
    FUTURES_TRADE = "futures_trade"  # proof of the futures trade right, without an order


class Verdict(StrEnum):
    """Error-table entries whose outcome depends on the call that received them."""

    # The key lacks the right this call needs: no_read_permission, no_trade_permission or
    # futures_not_enabled, by the call's role.
    DENIED = "denied"
    # One code for "bad key" and "no permission" (MEXC 401 "No authority", Binance -2015): invalid_key,
    # unless another signed call of the same test succeeded, which proves the key; then DENIED.
    KEY_OR_DENIED = "key_or_denied"
    # One status for "bad key" and a passing fault (Coinbase's 401, sometimes given to valid JWTs):
    # invalid_key, unless another signed call of the same test succeeded, which proves the key; then
    # exchange_unavailable, so the user runs the test again instead of replacing a good key.
    KEY_OR_UNAVAILABLE = "key_or_unavailable"
    # A rejection of the order itself (symbol, size, price, balance), given after the permission
    # check: the key may trade.
    PROVES_RIGHT = "proves_right"


DENIED: Final = Verdict.DENIED
KEY_OR_DENIED: Final = Verdict.KEY_OR_DENIED
KEY_OR_UNAVAILABLE: Final = Verdict.KEY_OR_UNAVAILABLE
PROVES_RIGHT: Final = Verdict.PROVES_RIGHT

type Answer = Outcome | Verdict


@dataclass(frozen=True, slots=True)
class Errors:
    """An error table: what each exchange code means for the connection test.

    ``exact`` codes (as strings) come first; then ``maintenance_words`` (a documented message
    family: the message is only searched, never kept); then ``otherwise`` for any other code;
    then ``http`` statuses for answers without a known code. Anything left is ``exchange_error``
    with its code kept for support (or ``exchange_unavailable`` for 5xx and non-JSON answers).
    """

    exact: Mapping[str, Answer] = field(default_factory=dict)
    http: Mapping[int, Answer] = field(default_factory=dict)
    maintenance_words: tuple[str, ...] = ()
    otherwise: Answer | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """How a host wraps its answers.

    Success: HTTP 2xx and the code in ``ok_codes`` (or no code at all, when ``ok_without_code``),
    and the ``success_flag`` field not false. ``data_field`` holds the payload (None: the whole body).
    """

    code_field: str = "code"
    ok_codes: frozenset[str] = frozenset({"0"})
    data_field: str | None = "data"
    ok_without_code: bool = False
    success_flag: str | None = None
    message_fields: tuple[str, ...] = ("msg", "message")

    def code(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return None
        raw = body.get(self.code_field)
        if raw is None or isinstance(raw, bool | dict | list):
            return None
        return str(raw)

    def succeeded(self, status: int, body: Any) -> bool:
        if not 200 <= status < 300 or not isinstance(body, dict | list):
            return False
        if isinstance(body, list):
            return self.ok_without_code and self.data_field is None
        if self.success_flag is not None and body.get(self.success_flag) is False:
            return False
        code = self.code(body)
        if code is None:
            return self.ok_without_code or body.get(self.success_flag or "") is True
        return code in self.ok_codes

    def data(self, body: Any) -> Any:
        if self.data_field is None or not isinstance(body, dict):
            return body
        return body.get(self.data_field)

    def message(self, body: Any) -> str:
        if not isinstance(body, dict):
            return ""
        for name in self.message_fields:
            text = body.get(name)
            if isinstance(text, str):
                return text
        return ""


@dataclass(frozen=True, slots=True)
class Host:
    """One base URL of an exchange. The URL is fixed in code; only ``env_var`` may point it
    elsewhere (the local stack's simulator, tests). Never taken from a request: a user-chosen URL
    would turn the platform's whitelisted IPs into a proxy for anyone (SSRF)."""

    name: str
    env_var: str
    default_url: str
    envelope: Envelope
    errors: Errors
    # Seconds to wait from a rate-limit answer (its status and headers), when it carries no standard
    # Retry-After.
    retry_after: Callable[[ExchangeResponse], int | None] | None = None
    # HTTP statuses that may mean a stale timestamp or a passing fault as well as a bad key (Coinbase's
    # 401): the host's clock is measured again and the call sent once more, freshly signed, before its
    # answer counts.
    resend_on: frozenset[int] = frozenset()

    def base_url(self) -> str:
        return os.environ.get(self.env_var, self.default_url).rstrip("/")


@dataclass(frozen=True, slots=True)
class Draft:
    """A request before signing: the signer turns it into the exact bytes sent."""

    host: str  # the Host's name (an exchange may sign its hosts differently)
    method: str
    base_url: str
    path: str
    params: tuple[tuple[str, str], ...]  # the query, in the order given
    body: str | None  # the exact JSON text sent, or None


@dataclass(frozen=True, slots=True)
class Signed:
    url: str = field(repr=False)  # query included, exactly as signed (may carry the key)
    headers: Mapping[str, str] = field(repr=False)  # carry the key and signature: never printed
    content: str | None = field(default=None, repr=False)


type Signer = Callable[[Draft, Credentials, int], Signed]


class Inputs:
    """What a call's parameters may depend on: the key, and the answers of the calls it needs."""

    def __init__(self, credentials: Credentials, values: Mapping[str, Any], codes: Mapping[str, str | None]):
        self._credentials = credentials
        self._values = values
        self._codes = codes

    @property
    def api_key(self) -> str:
        return self._credentials.api_key

    def value(self, call: str) -> Any:
        """The value read from a needed call's answer (KeyError when that call did not succeed)."""
        return self._values[call]

    def succeeded(self, call: str) -> bool:
        return call in self._values

    def failed_with(self, call: str) -> str | None:
        """The exchange code a needed call failed with (None when it succeeded or had no code)."""
        return self._codes.get(call)


type Params = Mapping[str, object] | Callable[[Inputs], Mapping[str, object]]


def _as_is(data: Any) -> Any:
    return data


ALL_MARKETS: Final = frozenset(Market)


@dataclass(frozen=True, slots=True)
class Call:
    """One request of the connection test.

    ``read`` turns the answer's payload into the call's value (a :class:`Facts`, a server time in
    ms, a bool, a symbol list...); it raises ``ValueError``/``KeyError``/``TypeError`` on an answer
    not shaped as documented. ``read_with`` does the same knowing the call's :class:`Inputs`, for an
    answer that lists several keys, where only the tested key's entry speaks about it. ``needs``
    names calls whose values ``params``/``body``/``when`` use; the call starts as soon as they are
    known. By default it runs only when all of them succeeded; ``when`` decides otherwise (a
    fallback that runs when another call failed with one code).
    """

    name: str
    role: Role
    method: str
    host: str
    path: str
    signed: bool = True
    markets: frozenset[Market] = ALL_MARKETS  # runs when any of these markets is requested
    params: Params = field(default_factory=dict)
    body: Params | None = None
    needs: tuple[str, ...] = ()
    when: Callable[[Inputs], bool] | None = None
    read: Callable[[Any], Any] = _as_is
    # Used instead of ``read`` when the inputs are known (always, in a probe): the key's own entry
    # is picked by a field that names the key; ``read`` stays for an answer read on its own (replays).
    read_with: Callable[[Any, Inputs], Any] | None = None
    errors: Errors = field(default_factory=Errors)  # codes that mean something else on this call
    # Its failure alone never fails the test (the answer is a bonus: MEXC's undocumented apiKeyInfo).
    best_effort: bool = False
    # Answers that change rarely (public lists; a key's own uid): kept per container this long, a
    # signed one under a digest of its key.
    cache_s: float = 0.0
    denied: Outcome | None = None  # the outcome of DENIED here, when not the role's usual one


@dataclass(frozen=True, slots=True)
class Facts:
    """What an answer says about the key and account. None: the answer does not tell."""

    withdraw: bool | None = None  # can withdraw or transfer out to others (refused)
    read: bool | None = None
    spot_trade: bool | None = None
    futures_trade: bool | None = None
    balances: bool = False  # the answer listed balances
    unneeded: bool = False  # rights the platform never uses (transfers between own accounts...)
    # The futures right comes with the trade right and cannot be switched off alone (HTX's one trade
    # right; OKX's Trade in a futures-capable account mode): no warning on a spot-only connection.
    futures_with_trade: bool = False
    unknown_permissions: tuple[str, ...] = ()  # names the platform does not know
    ip_whitelist: tuple[str, ...] | None = None  # () = no restriction
    expires_at: datetime | None = None
    # The key or its account is locked, frozen or otherwise barred (account_restricted), even
    # though the exchange answered: any answer saying so counts.
    restricted: bool | None = None
    account: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fact:
    """An exchange fact the module relies on; ``docs/exchange-facts.md`` is generated from these."""

    topic: str
    statement: str
    source: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class RequestBudget:
    """How much the platform as a whole may send to this exchange (``backfuture.quotas``).

    Every user's test leaves through the same Elastic IPs, and exchanges limit (and ban) by IP, so
    all tests of one exchange draw from one budget per window, well under the exchange's documented
    IP limit (a fifth of it, or less where the figure is unconfirmed). ``units_per_test`` is what one
    probe pass spends in the exchange's own unit (requests or request weight); a clock re-sync repeats
    a pass at most once, which the margin covers.
    """

    window_s: int
    max_units: int  # per window, all of the platform's IPs together
    units_per_test: int
    unit: str
    exchange_limit: str  # the documented limit the budget stays under
    source: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class ErrorBudget:
    """How many error answers the platform as a whole may draw from this exchange (``backfuture.quotas``).

    Some exchanges ban the calling IP after repeated error answers, whatever the request rate. Every
    user's test leaves through the same Elastic IPs, so users pasting bad keys could get the platform
    banned for everyone. An error answer is any answer the envelope does not call a success (a
    rejected key, an order test's rejection, a rate limit); a timeout is no answer. Each probe adds
    its error answers to a counter per window (per endpoint, the call's path, when ``per_endpoint``);
    a test is not sent while a counter of an endpoint it may call has reached ``max_errors``. The
    counters are fixed windows, so an exchange's sliding window of the same length can see two of
    them, and tests already under way when a counter fills still add theirs: ``max_errors`` stays
    well under half the exchange's figure.
    """

    window_s: int
    max_errors: int  # per window (and endpoint), all of the platform's IPs together
    exchange_limit: str  # the documented ban the budget stays under
    source: str
    confirmed: bool
    per_endpoint: bool = True  # False: one counter for all of the exchange's endpoints

    def endpoint(self, path: str) -> str:
        """The counter an error answer on ``path`` goes to."""
        return path if self.per_endpoint else "*"


@dataclass(frozen=True, slots=True)
class CredentialRules:
    """What this exchange's credentials look like, beyond the generic checks."""

    passphrase: bool = False
    # The secret may be a private key in PEM form (Coinbase CDP keys): the add route accepts its line
    # breaks for this exchange only.
    pem_secret: bool = False
    # Credentials the exchange cannot accept, recognised without calling it (a retired kind of key, a
    # secret that is no private key): the reason, which picks the remedy (``errors.OUTCOME_VARIANTS``
    # of invalid_key), or None. Never raises, never echoes the credentials.
    unusable: Callable[[Credentials], str | None] | None = None


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    info: ExchangeInfo
    hosts: tuple[Host, ...]
    calls: tuple[Call, ...]
    sign: Signer
    budget: RequestBudget
    credentials: CredentialRules = field(default_factory=CredentialRules)
    facts: tuple[Fact, ...] = ()
    error_budget: ErrorBudget | None = None  # only where the exchange bans for error answers

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def allowed_endpoints(self) -> frozenset[tuple[str, str]]:
        """(METHOD, base URL + path) of every declared call, with today's configured base URLs:
        the allow-list that ``ExchangeHttp`` checks every request against."""
        return frozenset((c.method, self.host(c.host).base_url() + c.path) for c in self.calls)
