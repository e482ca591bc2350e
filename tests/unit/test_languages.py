"""Every text a client can see exists in English and Hungarian; Accept-Language picks one."""

from __future__ import annotations

import string

import pytest

from backfuture import errors, errors_hu
from backfuture.errors import ApiError, ErrorCode, Outcome, WarningCode, explain, status_label
from backfuture.language import negotiate, use_language
from backfuture.models import Status


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_code_has_a_hungarian_text() -> None:
    # Adding a code to errors.py without its entry in errors_hu.py fails here.
    assert set(errors_hu.REQUEST_ERRORS) == set(ErrorCode)
    assert set(errors_hu.OUTCOMES) == set(Outcome)
    assert set(errors_hu.WARNINGS) == set(WarningCode)
    assert set(errors_hu.MESSAGE_VARIANTS) == set(errors.MESSAGE_VARIANTS)
    assert set(errors_hu.OUTCOME_VARIANTS) == set(errors.OUTCOME_VARIANTS)
    assert set(errors_hu.STATUS_LABELS) == {s.value for s in Status} == set(errors.STATUS_LABELS)
    assert set(errors.OUTCOMES) == set(Outcome) and set(errors.WARNINGS) == set(WarningCode)


def test_translations_fill_the_same_placeholders() -> None:
    pairs = [
        (
            errors.OUTCOMES[c].message + errors.OUTCOMES[c].remedy,
            errors_hu.OUTCOMES[c].message + errors_hu.OUTCOMES[c].remedy,
        )
        for c in Outcome
    ]
    pairs += [
        (
            errors.WARNINGS[c].message + errors.WARNINGS[c].remedy,
            errors_hu.WARNINGS[c].message + errors_hu.WARNINGS[c].remedy,
        )
        for c in WarningCode
    ]
    pairs += [(errors.MESSAGE_VARIANTS[k], errors_hu.MESSAGE_VARIANTS[k]) for k in errors.MESSAGE_VARIANTS]
    pairs += [
        (v.message + v.remedy, errors_hu.OUTCOME_VARIANTS[k].message + errors_hu.OUTCOME_VARIANTS[k].remedy)
        for k, v in errors.OUTCOME_VARIANTS.items()
    ]
    for english, hungarian in pairs:
        assert _placeholders(english) == _placeholders(hungarian), (english, hungarian)


def test_hungarian_texts_are_not_english() -> None:
    for code in ErrorCode:
        assert errors_hu.REQUEST_ERRORS[code].message != errors.REQUEST_ERRORS[code][1].message, code
    for outcome in Outcome:
        assert errors_hu.OUTCOMES[outcome].remedy != errors.OUTCOMES[outcome].remedy, outcome


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("hu", "hu"),
        ("hu-HU,hu;q=0.9,en-US;q=0.8,en;q=0.7", "hu"),
        ("en-US,en;q=0.9,hu;q=0.8", "en"),
        ("de-DE,hu;q=0.5", "hu"),
        ("de-DE,fr;q=0.5", "en"),
        ("hu;q=0", "en"),
        ("HU", "hu"),
        ("*", "en"),
        ("hu;q=0.4, *;q=0.5", "en"),
        ("hu;q=abc", "en"),
        ("en;q=0.2,hu;q=0.3", "hu"),
    ],
)
def test_accept_language_negotiation(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_rendering_follows_the_request_language() -> None:
    try:
        use_language("hu")
        assert status_label(Status.FAILED) == "Beavatkozás szükséges"
        rendered = explain(Outcome.IP_NOT_ALLOWED, ["3.120.1.1", "3.120.1.2"])
        assert rendered["code"] == "ip_not_allowed"
        assert rendered["remedy"].endswith("3.120.1.1 és 3.120.1.2.")
        body = ApiError(
            ErrorCode.UNSUPPORTED_EXCHANGE, variant="planned", params={"exchange": "Binance"}
        ).body()
        assert (
            body["error"]["message"]
            == "Ezt a tőzsdét (Binance) tervezzük támogatni, de egyelőre nem érhető el."
        )
    finally:
        use_language("en")
    assert explain(Outcome.IP_NOT_ALLOWED, ["3.120.1.1"])["remedy"] == (
        "Add 3.120.1.1 to the key's IP whitelist on the exchange."
    )


def test_passphrase_and_key_remedies_name_no_exchange() -> None:
    for language in ("en", "hu"):
        passphrase = explain(Outcome.INVALID_PASSPHRASE, [], language)
        key = explain(Outcome.INVALID_KEY, [], language)
        for text in (passphrase["message"], passphrase["remedy"], key["remedy"]):
            assert "KuCoin" not in text and "MEXC" not in text
        # Keys the exchange generates (HMAC secrets, Coinbase's CDP key pairs), not self-registered ones.
        assert "RSA" in key["remedy"] and "Ed25519" in key["remedy"]
    assert "secret" in explain(Outcome.INVALID_PASSPHRASE, [], "en")["remedy"]
    assert "titkos kulcsot" in explain(Outcome.INVALID_PASSPHRASE, [], "hu")["remedy"]


def test_an_unknown_message_variant_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        ApiError(ErrorCode.CONFLICT, variant="no-such-variant")


def test_unknown_permissions_fail_closed_with_details() -> None:
    from backfuture.connection_test import diagnose
    from backfuture.engine.report import CheckValue, ProbeReport
    from backfuture.exchanges import Market

    report = ProbeReport(
        unknown_permissions=["SPOT_MARGIN_WRITE", "bad value with spaces", "SPOT_MARGIN_WRITE"]
    )
    report.permissions = {"read": True, "trade": True, "withdraw": False, "futures": False}
    report.checks = {"credentials": CheckValue.OK, "withdraw_disabled": CheckValue.OK}
    result = diagnose(report, frozenset({Market.SPOT}), ["203.0.113.10"], 10)
    assert result.status.value == "connected" and result.trading_ready is False
    assert result.document["checks"]["withdraw_disabled"] == "unknown"
    [warning] = [w for w in result.document["warnings"] if w["code"] == "withdraw_unverifiable"]
    assert warning["details"] == {"unknown_permissions": ["SPOT_MARGIN_WRITE"]}


def test_known_withdraw_rights_make_an_online_key_trading_ready() -> None:
    from backfuture.connection_test import diagnose
    from backfuture.engine.report import CheckValue, ProbeReport
    from backfuture.exchanges import Market

    report = ProbeReport()
    report.permissions = {"read": True, "trade": True, "withdraw": False, "futures": False}
    report.checks = {"withdraw_disabled": CheckValue.OK}
    assert diagnose(report, frozenset({Market.SPOT}), [], 10).trading_ready is True
    report.checks = {}
    report.permissions["withdraw"] = None
    unverified = diagnose(report, frozenset({Market.SPOT}), [], 10)
    assert unverified.trading_ready is False
    assert [w["code"] for w in unverified.document["warnings"]] == ["withdraw_unverifiable"]
    assert "details" not in unverified.document["warnings"][0]


def test_a_reason_picks_its_outcome_variant_and_survives_relocalisation() -> None:
    from backfuture.errors import localize_problem

    plain = explain(Outcome.INVALID_KEY, ["3.120.1.1"], "en")
    legacy = explain(Outcome.INVALID_KEY, ["3.120.1.1"], "en", reason="legacy_key")
    assert legacy["code"] == plain["code"] == "invalid_key" and legacy["remedy"] != plain["remedy"]
    assert "3.120.1.1" in legacy["remedy"]
    unknown_reason = explain(Outcome.INVALID_KEY, [], "en", reason="no-such-reason")
    assert unknown_reason == explain(Outcome.INVALID_KEY, [], "en")
    stored = {**legacy, "details": {"reason": "legacy_key"}}
    use_language("hu")
    try:
        again = localize_problem(stored, ["3.120.1.1"])
    finally:
        use_language("en")
    assert again["message"] == errors_hu.OUTCOME_VARIANTS[(Outcome.INVALID_KEY, "legacy_key")].message
    assert again["details"] == {"reason": "legacy_key"}
