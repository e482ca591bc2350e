"""Hostile input, by hand: what a fuzzer rarely builds and an attacker or a clumsy paste easily does.

Every case ends in a 4xx with the contract's error body (naming the field where one is at fault),
never a 5xx, and never an echo of a secret (ApiClient and ``send`` check every response).
"""

from __future__ import annotations

import base64
import importlib
import json
import unicodedata
from typing import Any

import boto3
import pytest

from tests.api_client import ApiClient, ApiResponse
from tests.conftest import FakeContext, api_event, response_json
from tests.integration.test_connections_api import (
    KUCOIN_KEY,
    KUCOIN_PASSPHRASE,
    KUCOIN_SECRET,
    MEXC_KEY,
    MEXC_SECRET,
    kucoin_body,
    mexc_body,
)
from tests.secret_guard import assert_no_secret, register

SPARE_SECRET = "9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a3"
register(SPARE_SECRET)


@pytest.fixture
def api(aws: dict[str, str]) -> ApiClient:
    return ApiClient("user-a")


def assert_error(response: ApiResponse, status: int, code: str, field: str | None = None) -> None:
    assert response.status == status, response.body
    error = response.body["error"]
    assert error["code"] == code and error["message"] and error["remedy"], error
    if field is not None:
        assert field in [f["field"] for f in error["details"]["fields"]], error


def send(
    method: str,
    path: str,
    *,
    raw_body: str | None,
    headers: dict[str, str] | None = None,
    base64_encoded: bool = False,
    user: str | None = "user-a",
    omit_content_type: bool = False,
) -> ApiResponse:
    """An event ApiClient cannot build (base64 bodies, no Content-Type), through the real handler."""
    function = {"POST": "add_connection", "PUT": "add_connection", "PATCH": "add_connection"}[method]
    route = {"POST": "/connections", "PUT": "/connections/{id}/credentials", "PATCH": "/connections/{id}"}[
        method
    ]
    params = {"id": path.split("/")[2]} if method != "POST" else None
    event = api_event(
        method, path, route=route, user=user, raw_body=raw_body, headers=headers, path_parameters=params
    )
    if omit_content_type:
        event["headers"].pop("content-type")
    event["isBase64Encoded"] = base64_encoded
    raw = importlib.import_module(f"functions.{function}.app").lambda_handler(event, FakeContext())
    assert_no_secret(json.dumps(raw), where=f"{method} {path} response")
    return ApiResponse(raw["statusCode"], response_json(raw), dict(raw.get("headers") or {}))


def connections(api: ApiClient) -> list[dict[str, Any]]:
    response = api.get("/connections")
    assert response.status == 200
    return list(response.body["connections"])


# --------------------------------------------------------------------------------------------
# Size
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [16 * 1024 + 1, 1024 * 1024, 6 * 1024 * 1024], ids=["16KB+1", "1MB", "6MB"])
def test_oversized_bodies_are_refused_before_parsing(api: ApiClient, size: int) -> None:
    # A syntactically valid body with the secret at its start: size alone decides.
    text = json.dumps(mexc_body(api_secret=SPARE_SECRET, name="n" + "x" * size))
    assert len(text) > size
    assert_error(api.post("/connections", raw_body=text), 413, "payload_too_large")
    assert connections(api) == []


def test_a_body_at_the_limit_is_read(api: ApiClient) -> None:
    text = json.dumps(mexc_body())
    padded = text[:-1] + " " * (16 * 1024 - len(text)) + "}"
    assert len(padded) == 16 * 1024
    assert api.post("/connections", raw_body=padded).status == 201


def test_oversized_credential_replacement_is_refused(api: ApiClient) -> None:
    connection = api.post("/connections", mexc_body()).body
    text = json.dumps({"api_key": MEXC_KEY, "api_secret": SPARE_SECRET + "a" * 20_000})
    assert_error(
        api.put(f"/connections/{connection['id']}/credentials", raw_body=text), 413, "payload_too_large"
    )


# --------------------------------------------------------------------------------------------
# Content types and encodings
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/plain", json.dumps(mexc_body())),
        ("text/plain; charset=utf-8", json.dumps(mexc_body())),
        (
            "application/x-www-form-urlencoded",
            f"exchange=mexc&name=Form&api_key={MEXC_KEY}&api_secret={MEXC_SECRET}",
        ),
        ("multipart/form-data", '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nM\r\n--x--'),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nM\r\n--x--',
        ),
        ("application/xml", "<connection><name>x</name></connection>"),
        ("application/jsonp", json.dumps(mexc_body())),
    ],
)
def test_a_body_that_is_not_json_is_refused_with_415(api: ApiClient, content_type: str, raw: str) -> None:
    response = api.post("/connections", raw_body=raw, headers={"content-type": content_type})
    assert_error(response, 415, "unsupported_media_type")
    assert connections(api) == []


def test_form_encoded_credentials_cannot_replace_a_key(api: ApiClient) -> None:
    connection = api.post("/connections", mexc_body()).body
    response = api.put(
        f"/connections/{connection['id']}/credentials",
        raw_body=f"api_key={MEXC_KEY}&api_secret={SPARE_SECRET}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON"]
)
def test_json_content_types_are_accepted(api: ApiClient, content_type: str) -> None:
    assert api.post("/connections", mexc_body(), headers={"content-type": content_type}).status == 201


def test_a_missing_content_type_is_read_as_json(aws: dict[str, str]) -> None:
    # Clients that omit the header (fetch with a string body does) still get their JSON read, and
    # anything that is not JSON is refused as such.
    assert (
        send("POST", "/connections", raw_body=json.dumps(mexc_body()), omit_content_type=True).status == 201
    )
    response = send("POST", "/connections", raw_body="name=x", omit_content_type=True)
    assert_error(response, 422, "validation_error", "body")


def test_a_base64_encoded_json_body_is_decoded(aws: dict[str, str]) -> None:
    encoded = base64.b64encode(json.dumps(mexc_body(name="Encoded")).encode()).decode()
    response = send("POST", "/connections", raw_body=encoded, base64_encoded=True)
    assert response.status == 201 and response.body["name"] == "Encoded"


@pytest.mark.parametrize(
    "raw",
    [
        "not base64 at all!",
        base64.b64encode(json.dumps(mexc_body()).encode()).decode()[:-3],  # truncated padding
        base64.b64encode(b"\xff\xfe\x00{").decode(),  # valid base64, not UTF-8
        base64.b64encode(b"{not json").decode(),
    ],
    ids=["garbage", "truncated", "not-utf8", "not-json"],
)
def test_an_undecodable_base64_body_is_a_validation_error(aws: dict[str, str], raw: str) -> None:
    response = send("POST", "/connections", raw_body=raw, base64_encoded=True)
    assert_error(response, 422, "validation_error", "body")


# --------------------------------------------------------------------------------------------
# JSON that Python's parser would accept, or choke on
# --------------------------------------------------------------------------------------------

VALID = json.dumps(mexc_body())


@pytest.mark.parametrize(
    "raw",
    [
        "\ufeff" + VALID,  # a byte-order mark
        VALID + " trailing",
        VALID + "{}",
        VALID.replace('"MEXC main"', "NaN"),
        VALID.replace('"MEXC main"', "Infinity"),
        VALID.replace('"MEXC main"', "-Infinity"),
        VALID.replace('"MEXC main"', "1" * 5000),  # beyond int parsing's digit limit
        VALID.replace('"MEXC main"', "1e999"),  # parses to inf
        "[" * 10_000,  # 10k levels, unclosed
        "[" * 8000 + "]" * 8000,  # 8k levels, closed, just under 16 KB
        '{"name": ' + "[" * 5000 + "]" * 5000 + "}",
        json.dumps(mexc_body(name={"a": {"b": {"c": {"d": "x"}}}})),
        VALID.replace("'", "").replace('"', "'"),  # single quotes
        "{'exchange': 'mexc'}",
        '{"exchange": "mexc",}',
        "\x00",
    ],
    ids=[
        "bom",
        "trailing-text",
        "trailing-object",
        "nan",
        "infinity",
        "minus-infinity",
        "huge-int",
        "huge-float",
        "deep-unclosed",
        "deep-closed",
        "deep-field",
        "object-as-name",
        "single-quotes",
        "python-dict",
        "trailing-comma",
        "nul",
    ],
)
def test_invalid_json_variants(api: ApiClient, raw: str) -> None:
    response = api.post("/connections", raw_body=raw)
    assert response.status == 422, response.body
    assert response.body["error"]["code"] == "validation_error"
    assert connections(api) == []


def test_duplicate_keys_are_refused_not_resolved(api: ApiClient) -> None:
    # Which secret did the user mean? Neither is stored, neither comes back.
    raw = (
        f'{{"exchange": "mexc", "name": "Dup", "api_key": "{MEXC_KEY}", '
        f'"api_secret": "{SPARE_SECRET}", "api_secret": "{MEXC_SECRET}"}}'
    )
    response = api.post("/connections", raw_body=raw)
    assert_error(response, 422, "validation_error", "body")
    assert SPARE_SECRET not in json.dumps(response.body) and MEXC_SECRET not in json.dumps(response.body)
    assert connections(api) == []


def test_duplicate_keys_in_a_credential_replacement(api: ApiClient) -> None:
    connection = api.post("/connections", kucoin_body()).body
    raw = (
        f'{{"api_key": "{KUCOIN_KEY}", "api_secret": "{KUCOIN_SECRET}", '
        f'"passphrase": "{KUCOIN_PASSPHRASE}", "passphrase": "{SPARE_SECRET}"}}'
    )
    response = api.put(f"/connections/{connection['id']}/credentials", raw_body=raw)
    assert_error(response, 422, "validation_error", "body")


# --------------------------------------------------------------------------------------------
# Names: unicode and control characters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "evil\u202egnp.exe",  # right-to-left override
        "a\u2066b\u2069",  # isolates
        "ab\u200fc",  # right-to-left mark
        "zero\u200bwidth",
        "joiner\u200dname",
        "bom\ufeffname",
        "nul\x00name",
        "bell\x07",
        "esc\x1b[31mred",
        "line\u2028sep",
        "para\u2029sep",
        "tab\tinside",
        "\u200b",  # only invisible
        "\u3000\u3000",  # only ideographic spaces
        "a" * 65,
        "é" * 65,
        "a" + "\u0301" * 65,  # one letter drowned in accents: 65 code points even once composed
        "bad \ud800 surrogate",
    ],
    ids=[
        "rtl-override",
        "isolates",
        "rtl-mark",
        "zero-width-space",
        "zero-width-joiner",
        "bom",
        "nul",
        "bell",
        "ansi-escape",
        "line-separator",
        "paragraph-separator",
        "tab",
        "only-invisible",
        "only-spaces",
        "65-ascii",
        "65-accented",
        "zalgo",
        "lone-surrogate",
    ],
)
def test_names_that_are_refused(api: ApiClient, name: str) -> None:
    raw = json.dumps(mexc_body(name=name))  # ensure_ascii: the JSON carries \\u escapes, as a browser's may
    assert_error(api.post("/connections", raw_body=raw), 422, "validation_error", "name")
    assert connections(api) == []


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("a" * 64, "a" * 64),
        ("é" * 64, "é" * 64),
        ("e\u0301" * 64, "é" * 64),  # 128 code points as sent (NFD), 64 once composed
        ("  Rocket 🚀  ", "Rocket 🚀"),
        ("Cafe\u0301", "Café"),
        ("محفظة التداول", "محفظة التداول"),  # right-to-left script is text, not a trick
        ("東京 サブアカウント", "東京 サブアカウント"),
        ("a\u00a0b", "a\u00a0b"),  # a no-break space inside is a space
    ],
    ids=["64-ascii", "64-accented", "64-nfd", "emoji-trimmed", "nfd-composed", "arabic", "japanese", "nbsp"],
)
def test_names_that_are_accepted_and_how_they_are_stored(api: ApiClient, name: str, stored: str) -> None:
    response = api.post("/connections", mexc_body(name=name))
    assert response.status == 201, response.body
    assert response.body["name"] == stored
    assert unicodedata.is_normalized("NFC", response.body["name"])


@pytest.mark.parametrize(
    ("first", "second"),
    [("Café", "Cafe\u0301"), ("Cafe\u0301", "CAFÉ"), ("Straße", "STRASSE"), ("main", " MAIN ")],
    ids=["nfc-then-nfd", "nfd-then-upper", "sharp-s", "case-and-spaces"],
)
def test_names_equal_after_normalising_are_taken(api: ApiClient, first: str, second: str) -> None:
    assert api.post("/connections", mexc_body(name=first)).status == 201
    other_key = kucoin_body(name=second)
    assert_error(api.post("/connections", other_key), 409, "name_taken")
    # Renaming into the same collision is refused the same way.
    renamed = api.post("/connections", kucoin_body(name="Other")).body
    assert_error(api.patch(f"/connections/{renamed['id']}", {"name": second}), 409, "name_taken")


# --------------------------------------------------------------------------------------------
# Credentials with whitespace pasted in
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        (f" {MEXC_KEY} ", MEXC_SECRET),
        (f"\t{MEXC_KEY}\t", f"\n{MEXC_SECRET}\n"),
        (f"{MEXC_KEY}\r\n", f"{MEXC_SECRET}\r\n"),
        (f"\u00a0{MEXC_KEY}\u00a0", f"\u00a0{MEXC_SECRET}"),  # no-break spaces from a web page
        (f"\u3000{MEXC_KEY}", f"{MEXC_SECRET}\u2003"),  # ideographic and em spaces
    ],
    ids=["spaces", "tabs-newlines", "crlf", "nbsp", "wide-spaces"],
)
def test_whitespace_around_pasted_credentials_is_trimmed(api: ApiClient, key: str, secret: str) -> None:
    response = api.post("/connections", mexc_body(api_key=key, api_secret=secret))
    assert response.status == 201, response.body
    assert response.body["api_key_hint"] == f"{MEXC_KEY[:4]}…{MEXC_KEY[-4:]}"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api_key", MEXC_KEY[:8] + " " + MEXC_KEY[8:]),
        ("api_key", MEXC_KEY[:8] + "\t" + MEXC_KEY[8:]),
        ("api_key", MEXC_KEY[:8] + "\n" + MEXC_KEY[8:]),
        ("api_key", MEXC_KEY[:8] + "\u00a0" + MEXC_KEY[8:]),
        ("api_key", MEXC_KEY[:8] + "\u200b" + MEXC_KEY[8:]),
        ("api_key", "\u200b" + MEXC_KEY),  # zero-width space is not whitespace: not trimmed, refused
        ("api_key", MEXC_KEY + "\ufeff"),
        ("api_secret", SPARE_SECRET[:16] + " " + SPARE_SECRET[16:]),
        ("api_secret", SPARE_SECRET[:16] + "\u00a0" + SPARE_SECRET[16:]),
        ("api_secret", SPARE_SECRET[:16] + "\u200b" + SPARE_SECRET[16:]),
        ("api_secret", SPARE_SECRET[:16] + "\x00" + SPARE_SECRET[16:]),
        ("api_secret", " \t\n "),
    ],
    ids=[
        "key-space",
        "key-tab",
        "key-newline",
        "key-nbsp",
        "key-zwsp",
        "key-leading-zwsp",
        "key-trailing-bom",
        "secret-space",
        "secret-nbsp",
        "secret-zwsp",
        "secret-nul",
        "secret-blank",
    ],
)
def test_whitespace_inside_credentials_is_refused(api: ApiClient, field: str, value: str) -> None:
    response = api.post("/connections", mexc_body(**{field: value}))
    assert_error(response, 422, "validation_error", field)
    text = json.dumps(response.body, ensure_ascii=False)
    for fragment in (value.strip()[:16], value.strip()[-16:]):
        if len(fragment.strip()) >= 8:
            assert fragment not in text
    assert connections(api) == []


@pytest.mark.parametrize(
    "passphrase",
    [f"{KUCOIN_PASSPHRASE} x", f"{KUCOIN_PASSPHRASE}\u200b", "\u00a0\u00a0", "my-api\u00a0passphrase"],
    ids=["inner-space", "zwsp", "only-nbsp", "inner-nbsp"],
)
def test_passphrases_with_pasted_junk_are_refused(api: ApiClient, passphrase: str) -> None:
    register(passphrase.strip())
    response = api.post("/connections", kucoin_body(passphrase=passphrase))
    assert_error(response, 422, "validation_error", "passphrase")


def test_a_passphrase_with_surrounding_whitespace_is_trimmed(api: ApiClient) -> None:
    response = api.post("/connections", kucoin_body(passphrase=f"\u00a0{KUCOIN_PASSPHRASE}\n"))
    assert response.status == 201, response.body


# --------------------------------------------------------------------------------------------
# A private key as the secret (Coinbase CDP keys): line breaks accepted there, and only there
# --------------------------------------------------------------------------------------------

EC_PEM = (
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\n"
    "AwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\n"
    "-----END EC PRIVATE KEY-----\n"
)  # the official Coinbase SDK's test key (coinbase-advanced-py tests/constants.py)
CDP_KEY_NAME = "organizations/test-organization/apiKeys/test-api-key"
register(EC_PEM, *EC_PEM.splitlines()[1:4])


def coinbase_body(**overrides: Any) -> dict[str, Any]:
    return {"exchange": "coinbase", "name": "Coinbase", "api_key": CDP_KEY_NAME, "api_secret": EC_PEM,
            **overrides}  # fmt: skip


@pytest.mark.parametrize(
    "secret",
    [
        EC_PEM,
        EC_PEM.replace("\n", "\\n"),
        EC_PEM.replace("\n", "\r\n"),
        "  " + EC_PEM.replace("\n", "\n  "),
        EC_PEM.replace("\n", " "),  # a single-line input turned the breaks into spaces
        EC_PEM.replace("\n", ""),  # or dropped them
        json.dumps(EC_PEM) + ",",  # the key file's value, quoted, with its comma
    ],
    ids=["line-breaks", "key-file-escapes", "crlf", "indented", "spaces", "no-breaks", "quoted"],
)
def test_a_pem_private_key_is_accepted_for_coinbase(api: ApiClient, aws: dict[str, str], secret: str) -> None:
    response = api.post("/connections", coinbase_body(api_secret=secret))
    assert response.status == 201, response.body
    assert_no_secret(json.dumps(response.body), where="response")
    sm = boto3.client("secretsmanager")
    (stored,) = [
        s for s in sm.list_secrets()["SecretList"] if s["Name"].startswith(aws["SECRET_NAME_PREFIX"])
    ]
    # One canonical PEM whatever the paste did to it: the key Coinbase issued, byte for byte.
    assert json.loads(sm.get_secret_value(SecretId=stored["ARN"])["SecretString"])["api_secret"] == EC_PEM


@pytest.mark.parametrize(
    "secret",
    [EC_PEM.replace("-----END EC PRIVATE KEY-----\n", ""),  # cut short
     EC_PEM.replace("-----END EC PRIVATE KEY-----", "-----END PRIVATE KEY-----"),  # mismatched armour
     EC_PEM.replace("MHcC", "MH!C"),  # not base64
     EC_PEM.replace("EC PRIVATE KEY", "CERTIFICATE"),  # not a private key
     json.dumps({"name": CDP_KEY_NAME, "privateKey": EC_PEM})],  # the whole key file
    ids=["truncated", "mismatched", "not-base64", "certificate", "key-file"],
)  # fmt: skip
def test_a_broken_pem_is_refused_without_echoing_it(api: ApiClient, secret: str) -> None:
    response = api.post("/connections", coinbase_body(api_secret=secret))
    assert_error(response, 422, "validation_error", "api_secret")
    assert_no_secret(json.dumps(response.body), where="response")
    assert connections(api) == []


def test_a_pem_is_refused_where_secrets_are_one_line(api: ApiClient) -> None:
    response = api.post("/connections", mexc_body(api_secret=EC_PEM))
    assert_error(response, 422, "validation_error", "api_secret")
    assert_no_secret(json.dumps(response.body), where="response")
    connection = api.post("/connections", mexc_body()).body
    replaced = api.put(
        f"/connections/{connection['id']}/credentials", {"api_key": MEXC_KEY, "api_secret": EC_PEM}
    )
    assert_error(replaced, 422, "validation_error", "api_secret")


def test_replacing_credentials_trims_and_refuses_the_same_way(api: ApiClient) -> None:
    connection = api.post("/connections", mexc_body()).body
    path = f"/connections/{connection['id']}/credentials"
    refused = api.put(
        path, {"api_key": MEXC_KEY, "api_secret": SPARE_SECRET[:10] + "\u00a0" + SPARE_SECRET[10:]}
    )
    assert_error(refused, 422, "validation_error", "api_secret")
    accepted = api.put(path, {"api_key": f"  {MEXC_KEY}\n", "api_secret": f"\t{SPARE_SECRET} "})
    assert accepted.status == 200, accepted.body


# --------------------------------------------------------------------------------------------
# Identity: nothing but the verified claims names the user
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"x-user-id": "user-b"},
        {"x-amzn-oidc-identity": "user-b"},
        {"authorization": "Bearer dev:user-b"},
        {"x-forwarded-user": "user-b", "x-remote-user": "user-b"},
    ],
    ids=["x-user-id", "oidc-identity", "dev-token", "forwarded-user"],
)
def test_headers_never_change_the_user(api: ApiClient, headers: dict[str, str]) -> None:
    theirs = api.as_user("user-b").post("/connections", kucoin_body()).body
    mine = api.post("/connections", mexc_body(), headers=headers)
    assert mine.status == 201
    assert [c["id"] for c in connections(api.as_user("user-b"))] == [theirs["id"]]
    assert_error(api.call("GET", f"/connections/{theirs['id']}", headers=headers), 404, "not_found")
    listed = api.call("GET", "/connections", headers=headers).body["connections"]
    assert [c["id"] for c in listed] == [mine.body["id"]]
    # And without verified claims, a header alone is no identity.
    anonymous = api.as_user(None).call("GET", "/connections", headers=headers)
    assert_error(anonymous, 401, "unauthorized")


@pytest.mark.parametrize("field", ["owner", "user_id", "user", "sub", "id", "status", "trading_ready"])
def test_body_fields_never_assign_the_owner_or_state(api: ApiClient, field: str) -> None:
    response = api.post("/connections", mexc_body(**{field: "user-b" if field != "trading_ready" else True}))
    assert_error(response, 422, "validation_error", field)
    assert connections(api.as_user("user-b")) == [] and connections(api) == []


@pytest.mark.parametrize("field", ["owner", "user_id", "exchange", "api_key", "status"])
def test_a_rename_cannot_smuggle_other_fields(api: ApiClient, field: str) -> None:
    connection = api.post("/connections", mexc_body()).body
    response = api.patch(f"/connections/{connection['id']}", {"name": "Renamed", field: "user-b"})
    assert_error(response, 422, "validation_error", field)
    assert api.get(f"/connections/{connection['id']}").body["name"] == "MEXC main"


@pytest.mark.parametrize("sub", ["", "user a", "../user-b", "user-b\x00", "u" * 129, "user-b\n"])
def test_malformed_claims_are_no_identity(api: ApiClient, sub: str) -> None:
    assert_error(api.as_user(sub).get("/connections"), 401, "unauthorized")


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------


def test_another_users_connection_does_not_exist_for_you(api: ApiClient) -> None:
    theirs = api.as_user("user-b").post("/connections", kucoin_body()).body
    cid = theirs["id"]
    for response in (
        api.get(f"/connections/{cid}"),
        api.get(f"/connections/{cid}/status"),
        api.patch(f"/connections/{cid}", {"name": "Mine now"}),
        api.put(f"/connections/{cid}/credentials", {"api_key": MEXC_KEY, "api_secret": SPARE_SECRET}),
        api.delete(f"/connections/{cid}"),
    ):
        assert_error(response, 404, "not_found")
    # Untouched.
    again = api.as_user("user-b").get(f"/connections/{cid}").body
    assert again["name"] == theirs["name"] and again["api_key_hint"] == theirs["api_key_hint"]


@pytest.mark.parametrize(
    "suffix",
    [
        "%2F..%2F..%2Fconnections",
        "..%2F",
        "%2e%2e",
        "{id}%2Fstatus",
        "{id}%00",
        "{id_lower}",
        "{id} ",
        "{id}%20",
        "%7Bid%7D",
        "*",
        "{id},{id}",
    ],
)
def test_path_tricks_name_no_connection(api: ApiClient, suffix: str) -> None:
    theirs = api.as_user("user-b").post("/connections", kucoin_body()).body
    path = "/connections/" + suffix.replace("{id_lower}", theirs["id"].lower()).replace("{id}", theirs["id"])
    for response in (api.get(path), api.patch(path, {"name": "x"}), api.delete(path)):
        assert_error(response, 404, "not_found")
    assert api.as_user("user-b").get(f"/connections/{theirs['id']}").status == 200
