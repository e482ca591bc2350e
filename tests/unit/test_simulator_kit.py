"""The simulator kit's shared behaviour, over every registered exchange's simulator."""

from __future__ import annotations

import httpx
import pytest

from backfuture.exchanges import supported_ids
from simulator import all_venues, demo_key_modules
from simulator.core import SimRequest, SimResponse, Simulator
from simulator.kit import DemoBook, Refused, RouteVenue, VenueKey, Whitelist, clock, private, within


def test_every_supported_exchange_has_a_simulator_named_by_its_hosts() -> None:
    supported = supported_ids()
    modules = demo_key_modules()
    assert [m.__name__ for m in modules] == [f"simulator.{x}" for x in supported]
    for exchange, module in zip(supported, modules, strict=True):
        assert {k.exchange for k in module.DEMO_KEYS} == {exchange}
    names = [v.name for v in all_venues()]
    assert len(names) == len(set(names))
    assert all(name.split("-", 1)[0] in supported and "-" in name for name in names)


def test_unknown_routes_get_each_venues_own_404() -> None:
    sim = Simulator(all_venues()).start()
    try:
        for venue in sim.venues.values():
            response = httpx.get(sim.base_url(venue.name) + "/no/such/path")
            assert response.status_code == 404
            expected = venue.not_found.body  # type: ignore[attr-defined]
            # An exchange's own 404: JSON where it answers JSON, else its page as text.
            assert (response.text if isinstance(expected, str) else response.json()) == expected
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("stamp", "accepted"), [(1000, True), (0, True), (2000, True), (-1, False), (2001, False), ("x", False)]
)
def test_timestamp_window(stamp: int | str, accepted: bool) -> None:
    assert within(stamp, 1000, behind_ms=1000, ahead_ms=1000) is accepted


class _Toy(RouteVenue):
    """A venue whose "signature" is the secret itself, to exercise the shared steps alone."""

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        key = self.keys.get(request.headers.get("key", ""))
        if key is None or request.headers.get("secret") != key.secret:
            raise Refused(SimResponse(401, {"error": "auth"}))
        return key, {"symbol": "X", "secret": "never recorded"}

    def ip_refused(self, client_ip: str) -> SimResponse:
        return SimResponse(403, {"error": f"ip {client_ip}"})

    def permission_denied(self, permission: str) -> SimResponse:
        return SimResponse(403, {"error": f"needs {permission}"})


def _toy() -> tuple[_Toy, DemoBook[VenueKey]]:
    book = DemoBook("toy", VenueKey, secret=lambda key, n: f"s{n}")
    book.add("ok", "connected", "spot", "fine", permissions=("Read", "Trade"))
    book.add(
        "far", "ip_not_allowed", "spot", "elsewhere", permissions=("Read",), whitelist=Whitelist.ELSEWHERE
    )
    book.add("frozen", "account_restricted", "spot", "frozen", permissions=("Read",),
             answers={"account": SimResponse(400, {"error": "frozen"})})  # fmt: skip
    book.add("ghost", "invalid_key", "spot", "unknown", permissions=(), known=False)
    routes = {
        ("GET", "/time"): clock(lambda now: {"now": now}),
        ("GET", "/account"): private(
            lambda call: SimResponse(200, {"key": call.key.api_key}), "Read", "account"
        ),
        ("POST", "/order"): private(
            lambda call: SimResponse(200, {}), "Trade", forbidden=True, recorded=("symbol", "side")
        ),
    }
    return _Toy("toy-spot", routes, book.venue_keys), book


def _call(
    venue: _Toy, method: str, path: str, key: str, secret: str, ip: str = "203.0.113.10"
) -> SimResponse:
    request = SimRequest(method, path, "", {"key": key, "secret": secret}, "", ip)
    return venue.handle(request, lambda: 5)


def test_demo_book_and_the_shared_steps_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EGRESS_IPS", raising=False)
    venue, book = _toy()
    assert [(d.api_key, d.api_secret, d.outcome) for d in book.demo_keys][:2] == [
        ("ok", "s1", "connected"),
        ("far", "s2", "ip_not_allowed"),
    ]
    assert "ghost" not in book.venue_keys
    assert _call(venue, "GET", "/time", "", "").body == {"now": 5}
    assert _call(venue, "GET", "/nope", "ok", "s1").status == 404
    assert _call(venue, "GET", "/account", "ghost", "s4").status == 401
    assert _call(venue, "GET", "/account", "ok", "s1").body == {"key": "ok"}
    assert _call(venue, "GET", "/account", "ok", "s1", ip="192.0.2.1").body == {"error": "ip 192.0.2.1"}
    assert _call(venue, "GET", "/account", "far", "s2").body == {"error": "ip 203.0.113.10"}
    assert _call(venue, "POST", "/order", "far", "s2", ip="198.51.100.23").body == {"error": "needs Trade"}
    assert _call(venue, "GET", "/account", "frozen", "s3").body == {"error": "frozen"}
    assert venue.forbidden_calls == []
    assert _call(venue, "POST", "/order", "ok", "s1").status == 200
    assert venue.recorded("/order") == [{"symbol": "X"}]  # only the declared fields, never a secret
    venue.reset()
    assert venue.forbidden_calls == []


def test_demo_keys_are_distinct_and_name_real_simulator_settings() -> None:
    from dataclasses import asdict

    from simulator.core import SimConfig

    settings = set(asdict(SimConfig()))
    every = [key for module in demo_key_modules() for key in module.DEMO_KEYS]
    assert len({key.api_key for key in every}) == len(every)
    for key in every:
        assert set(key.sim_config) <= settings, key.api_key
