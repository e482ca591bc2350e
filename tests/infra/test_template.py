"""infra/template.yaml, translated as CloudFormation would, has the properties issue 5 asks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backfuture.config import settings
from backfuture.storage.secrets import secret_name
from tests.infra import checks
from tests.infra.sam_stack import CORS_ORIGINS, Stack, iam_pattern_matches, translate


@pytest.mark.parametrize("check", checks.ALL_CHECKS, ids=lambda check: check.__name__)
def test_template_property(stack: Stack, check: Callable[[Stack], None]) -> None:
    check(stack)


def test_external_identity_provider_replaces_the_user_pool(sam: dict[str, Any]) -> None:
    # Given an existing issuer and audience
    issuer = "https://login.example.com/oauth2"
    stack = translate(
        sam, {"JwtIssuer": issuer, "JwtAudience": "client-a,client-b", "CorsAllowedOrigins": CORS_ORIGINS}
    )

    # Then the authorizer trusts exactly them and no user pool is created
    assert not stack.condition("CreateUserPool")
    assert not stack.created("UserPool") and not stack.created("UserPoolClient")
    checks.check_routes_and_authorizer(stack)
    jwt = stack.resolve(
        stack.props("HttpApi")["Body"]["components"]["securitySchemes"]["CognitoJwt"][
            "x-amazon-apigateway-authorizer"
        ]["jwtConfiguration"]
    )
    assert jwt == {"issuer": issuer, "audience": ["client-a", "client-b"]}


def test_interface_endpoints_can_be_switched_off(sam: dict[str, Any]) -> None:
    stack = translate(sam, {"EnableInterfaceEndpoints": "false", "CorsAllowedOrigins": CORS_ORIGINS})
    assert not stack.created("SecretsManagerEndpoint") and not stack.created("KmsEndpoint")
    assert stack.created("DynamoDbEndpoint"), "the gateway endpoint is free and always on"


@pytest.mark.parametrize(
    ("connection_id", "version"), [("01JDQ5Z3Y8K2M4N6P7R9S0T1V2", 1), ("01JDQ5Z3Y8K2M4N6P7R9S0T1V2", 12)]
)
def test_secret_arns_the_code_creates_are_the_ones_iam_grants(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, connection_id: str, version: int
) -> None:
    # Given the prefix the template hands the functions
    prefix = stack.resolve(
        stack.props("AddConnectionFunction")["Environment"]["Variables"]["SECRET_NAME_PREFIX"]
    )
    monkeypatch.setenv("SECRET_NAME_PREFIX", prefix)
    settings.cache_clear()
    try:
        name = secret_name(connection_id, version)
    finally:
        settings.cache_clear()

    # Then the secret's ARN (name plus Secrets Manager's random suffix) matches the granted pattern
    arn = f"{checks.SECRET_ARN_BASE}{name}-Xy7Q2z"
    assert iam_pattern_matches(checks.CONNECTION_SECRETS, arn)


@pytest.mark.parametrize(
    "arn",
    [
        checks.SECRET_ARN_BASE + "backfuture/other-stack/connections/01JDQ5Z3Y8K2M4N6P7R9S0T1V2/v1-Xy7Q2z",
        checks.SECRET_ARN_BASE
        + checks.SECRET_PREFIX
        + "01JDQ5Z3Y8K2M4N6P7R9S0T1V/v1-Xy7Q2z",  # 25 characters
        checks.SECRET_ARN_BASE + checks.SECRET_PREFIX + "01JDQ5Z3Y8K2M4N6P7R9S0T1V2/v1",  # no suffix
        checks.FINGERPRINT_SECRET.replace("-??????", "-Xy7Q2z"),
        checks.SECRET_ARN_BASE + "prod/database/password-Xy7Q2z",
    ],
)
def test_connection_secret_pattern_excludes_other_secrets(arn: str) -> None:
    assert not iam_pattern_matches(checks.CONNECTION_SECRETS, arn)


def test_sam_template_keeps_routes_literal_for_the_local_stack(sam: dict[str, Any]) -> None:
    # The local dev server reads Path and Method as plain strings (local/template.py).
    for logical_id in checks.API_FUNCTIONS:
        for name, event in sam["Resources"][logical_id]["Properties"]["Events"].items():
            if logical_id == "RevalidateFunction":
                assert event["Type"] == "ScheduleV2", name  # no route: it runs on a schedule
                continue
            assert event["Type"] == "HttpApi", name
            assert isinstance(event["Properties"]["Path"], str) and isinstance(
                event["Properties"]["Method"], str
            )


def test_self_sign_up_is_a_parameter(sam: dict[str, Any]) -> None:
    stack = translate(sam, {"AllowSelfSignUp": "true", "CorsAllowedOrigins": CORS_ORIGINS})
    checks.check_user_pool(stack)
    assert (
        stack.resolve(stack.props("UserPool")["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"]) is False
    )
