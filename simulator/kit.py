"""The simulator kit: what every exchange's simulator shares, written once.

An exchange's simulator (``simulator/<exchange id>.py``) is one module of endpoints, answers and
demo keys. It declares each venue (one API host, named ``<exchange id>-<host>``) as a
:class:`RouteVenue` with a route table ``{(method, path): Route}`` and the exchange's own answers
for a refusal, and its demo keys with a :class:`DemoBook`. The kit does the rest, in one order for
every exchange:

1. an unknown route gets the venue's 404; a public route is answered at once (with the venue clock);
2. a private route runs the venue's :meth:`RouteVenue.authenticate`, the exchange's own signature,
   passphrase and timestamp rules (:func:`within` checks a window against the venue clock);
3. the key's IP whitelist (:class:`Whitelist`, resolved per request against the platform's egress
   IPs, since ``EGRESS_IPS`` may change between runs);
4. the route's permission;
5. the key's scripted answer for this route, if any (:attr:`VenueKey.answers`: an account frozen,
   a rate limit, maintenance, an unknown code, ...);
6. a call the service must never make (a real order, a withdrawal, a key change) is recorded in
   :attr:`RouteVenue.forbidden_calls` (never with a secret), then the route's handler answers.

Nothing here knows the service under test: anything that signs correctly is served.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from simulator.core import SimRequest, SimResponse
from simulator.demo_keys import DemoKey, platform_ips


class Refused(Exception):
    """Raised anywhere while serving a request: the venue answers ``response`` instead."""

    def __init__(self, response: SimResponse) -> None:
        super().__init__(response.status)
        self.response = response


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


class Whitelist(StrEnum):
    """A key's IP restriction, resolved against the platform's IPs when a request arrives."""

    PLATFORM = "platform"  # every platform IP
    PLATFORM_MASKED = "platform_masked"  # every platform IP, reported masked ("203.0.**.10")
    FIRST_ONLY = "first_only"  # only the first: calls pass, the list lacks the other IPs
    ELSEWHERE = "elsewhere"  # someone else's address only: every private call is refused
    NONE = "none"  # no restriction, reported as ""
    ABSENT = "absent"  # no restriction, the field left out of the key info


ELSEWHERE_IP = "198.51.100.23"  # TEST-NET-2: nobody's real address


def mask(ip: str) -> str:
    """KuCoin's masked form of an IPv4 address: the third octet hidden."""
    parts = ip.split(".")
    return ".".join([*parts[:2], "**", *parts[3:]]) if len(parts) == 4 else ip


@dataclass(frozen=True)
class VenueKey:
    """What an exchange knows about one API key. Exchanges add their own fields by subclassing."""

    api_key: str
    secret: str
    permissions: tuple[str, ...]
    whitelist: Whitelist = Whitelist.PLATFORM
    passphrase: str | None = None
    # Scripted answers instead of the normal one, looked up by the route's tag, then the venue's
    # name, then "*" (every private route of every venue of the exchange).
    answers: Mapping[str, SimResponse] = field(default_factory=dict)

    def allowed_ips(self) -> list[str] | None:
        """The addresses the key may call from; None: unrestricted."""
        ips = platform_ips()
        return {
            Whitelist.PLATFORM: ips,
            Whitelist.PLATFORM_MASKED: ips,
            Whitelist.FIRST_ONLY: ips[:1],
            Whitelist.ELSEWHERE: [ELSEWHERE_IP],
        }.get(self.whitelist)

    def reported_ips(self) -> str | None:
        """The whitelist as a key-info answer shows it (comma-separated); None: field absent."""
        if self.whitelist is Whitelist.ABSENT:
            return None
        if self.whitelist is Whitelist.PLATFORM_MASKED:
            return ",".join(mask(ip) for ip in platform_ips())
        return ",".join(self.allowed_ips() or [])

    def answer_for(self, tag: str, venue: str) -> SimResponse | None:
        for name in (tag, venue, "*"):
            if name and name in self.answers:
                return fresh(self.answers[name])
        return None


def fresh(response: SimResponse) -> SimResponse:
    """A copy that the server may consume (it pops headers) without touching the shared original."""
    return SimResponse(response.status, copy.deepcopy(response.body), dict(response.headers))


def rate_limited(body: Any, retry_after_s: int, **headers: str) -> SimResponse:
    """HTTP 429 with ``Retry-After``, the shape every exchange here uses for its request limit."""
    return SimResponse(429, body, {"Retry-After": str(retry_after_s), **headers})


# --------------------------------------------------------------------------------------------
# Demo keys
# --------------------------------------------------------------------------------------------


class DemoBook[K: VenueKey]:
    """An exchange's demo keys: each :meth:`add` declares one key once and yields both what the
    user pastes and sees (a :class:`DemoKey`, listed in the README) and what the venue knows (a
    ``VenueKey``)."""

    def __init__(
        self,
        exchange: str,
        key_type: type[K],
        secret: Callable[[str, int], str],  # (key, ordinal) -> the venue's secret for it
        api_key: Callable[[str], str] = str,  # label -> the key string the exchange would issue
        passphrase: str | None = None,
    ) -> None:
        self.exchange, self._key_type, self._secret, self._api_key = exchange, key_type, secret, api_key
        self._passphrase = passphrase
        self.demo_keys: list[DemoKey] = []
        self.venue_keys: dict[str, K] = {}

    def add(
        self,
        label: str,
        outcome: str,
        markets: str,
        description: str,
        *,
        known: bool = True,  # False: the exchange has never heard of the key
        pasted_secret: str | None = None,  # what the user pastes, when it is not the key's secret
        pasted_passphrase: str | None = None,
        sim_config: Mapping[str, Any] | None = None,
        unknown_permissions: tuple[str, ...] = (),  # names the platform does not know (DemoKey)
        **venue: Any,
    ) -> K:
        api_key = self._api_key(label)
        venue.setdefault("passphrase", self._passphrase)
        key = self._key_type(api_key=api_key, secret=self._secret(api_key, len(self.demo_keys) + 1), **venue)
        if known:
            self.venue_keys[api_key] = key
        self.demo_keys.append(
            DemoKey(
                self.exchange,
                api_key,
                pasted_secret or key.secret,
                pasted_passphrase or key.passphrase,
                outcome,
                markets,
                description,
                dict(sim_config or {}),
                unknown_permissions,
            )
        )
        return key

    def unneeded_on_spot(self, *labels: str) -> None:
        """Marks the keys that may also trade futures, a right of their own: a spot-only connection
        of one warns unneeded_permission (DemoKey.unneeded_on_spot)."""
        marked = {self._api_key(label) for label in labels}
        unknown = marked - {key.api_key for key in self.demo_keys}
        if unknown:
            raise ValueError(f"no demo key {sorted(unknown)}")
        self.demo_keys[:] = [
            replace(k, unneeded_on_spot=True) if k.api_key in marked else k for k in self.demo_keys
        ]


# --------------------------------------------------------------------------------------------
# Venues
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request a route's handler answers."""

    venue: RouteVenue
    request: SimRequest
    key: Any  # the venue's VenueKey (subclass); None on a public route
    params: dict[str, str]  # the decoded parameters the exchange reads (query, form or JSON body)
    now_ms: int  # the venue clock


Handler = Callable[[Call], SimResponse]


@dataclass(frozen=True)
class Route:
    answer: Handler
    public: bool = False
    permission: str | None = None  # the key must hold it (None: any key the venue knows)
    tag: str = ""  # names the route for a key's scripted answers ("account", "order_test", ...)
    forbidden: bool = False  # the service must never call it: each accepted call is recorded
    recorded: tuple[str, ...] = ()  # which parameters a forbidden call's record keeps


def public(answer: Handler) -> Route:
    return Route(answer, public=True)


def private(answer: Handler, permission: str | None = None, tag: str = "", **options: Any) -> Route:
    return Route(answer, permission=permission, tag=tag, **options)


def clock(body: Callable[[int], Any]) -> Route:
    """A public server-time route: ``body(venue clock in ms)`` with HTTP 200."""
    return public(lambda call: SimResponse(200, body(call.now_ms)))


def within(stamp: str | int | None, now_ms: int, *, behind_ms: int, ahead_ms: int) -> bool:
    """A client timestamp (ms) accepted by a window around the venue clock (False if unreadable)."""
    try:
        value = int(stamp)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return now_ms - behind_ms <= value <= now_ms + ahead_ms


@dataclass(frozen=True)
class ForbiddenCall:
    venue: str
    method: str
    path: str
    api_key: str
    fields: dict[str, str]


class RouteVenue:
    """One exchange host. Subclasses give :meth:`authenticate` and the refusal answers."""

    not_found = SimResponse(404, {"code": 404, "msg": "Not Found"})

    def __init__(self, name: str, routes: Mapping[tuple[str, str], Route], keys: Mapping[str, VenueKey]):
        self.name, self.routes, self.keys = name, routes, keys
        self.forbidden_calls: list[ForbiddenCall] = []
        self._lock = threading.Lock()

    # -- the exchange's part ---------------------------------------------------------------

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        """The key and the decoded parameters of a correctly signed request; else raise Refused."""
        raise NotImplementedError

    def ip_refused(self, client_ip: str) -> SimResponse:
        raise NotImplementedError

    def permission_denied(self, permission: str) -> SimResponse:
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.forbidden_calls.clear()

    def recorded(self, path: str) -> list[dict[str, str]]:
        """The recorded fields of the forbidden calls to ``path``."""
        return [call.fields for call in self.forbidden_calls if call.path == path]

    def handle(self, request: SimRequest, clock_ms: Callable[[], int]) -> SimResponse:
        route = self.routes.get((request.method, request.path))
        if route is None:
            return fresh(self.not_found)
        now = clock_ms()
        try:
            if route.public:
                return route.answer(Call(self, request, None, {}, now))
            key, params = self.authenticate(request, now)
            allowed = key.allowed_ips()
            if allowed is not None and request.client_ip not in allowed:
                raise Refused(self.ip_refused(request.client_ip))
            if route.permission is not None and route.permission not in key.permissions:
                raise Refused(self.permission_denied(route.permission))
            scripted = key.answer_for(route.tag, self.name)
            if scripted is not None:
                return scripted
            if route.forbidden:
                fields = {name: params[name] for name in route.recorded if name in params}
                with self._lock:
                    self.forbidden_calls.append(
                        ForbiddenCall(self.name, request.method, request.path, key.api_key, fields)
                    )
            return route.answer(Call(self, request, key, params, now))
        except Refused as refused:
            return refused.response
