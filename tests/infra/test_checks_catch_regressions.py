"""Each template check fails on a realistic regression: the checks are not tautologies.

Every case breaks one property in a copy of the SAM template, translates it, and expects the check
guarding that property to raise.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.infra import checks
from tests.infra.sam_stack import CORS_ORIGINS, Stack, translate

Mutation = Callable[[dict[str, Any]], None]


def _res(sam: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = sam["Resources"][logical_id]
    return resource


def _props(sam: dict[str, Any], logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = _res(sam, logical_id)["Properties"]
    return props


def _statement(sam: dict[str, Any], policy: str, sid: str) -> dict[str, Any]:
    document = _props(sam, policy).get("PolicyDocument") or _props(sam, policy)["KeyPolicy"]
    found: dict[str, Any] = next(s for s in document["Statement"] if s.get("Sid") == sid)
    return found


def get_status_can_put_events(sam: dict[str, Any]) -> None:
    _props(sam, "GetStatusPolicy")["PolicyDocument"]["Statement"].append(
        {
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": {"Fn::GetAtt": ["StatusEventBus", "Arn"]},
        }
    )


def publisher_puts_on_any_bus(sam: dict[str, Any]) -> None:
    _statement(sam, "TestConnectionPolicy", "PublishStatusChanges")["Resource"] = "*"


def revalidation_outside_the_vpc(sam: dict[str, Any]) -> None:
    del _props(sam, "RevalidateFunction")["VpcConfig"]


def schedule_runs_hourly_whatever_the_parameter(sam: dict[str, Any]) -> None:
    _props(sam, "RevalidateFunction")["Events"]["Schedule"]["Properties"]["ScheduleExpression"] = (
        "rate(1 hour)"
    )


def audit_trail_kept_forever(sam: dict[str, Any]) -> None:
    del _props(sam, "ConnectionsTable")["TimeToLiveSpecification"]


def private_route_a_through_igw(sam: dict[str, Any]) -> None:
    route = _props(sam, "PrivateDefaultRouteA")
    del route["NatGatewayId"]
    route["GatewayId"] = {"Ref": "InternetGateway"}


def eip_not_retained(sam: dict[str, Any]) -> None:
    del _res(sam, "EgressIpB")["DeletionPolicy"]


def output_names_wrong_eip(sam: dict[str, Any]) -> None:
    sam["Outputs"]["EgressIpB"]["Value"] = {"Ref": "EgressIpA"}


def both_nats_share_an_eip(sam: dict[str, Any]) -> None:
    _props(sam, "NatGatewayB")["AllocationId"] = {"Fn::GetAtt": ["EgressIpA", "AllocationId"]}


def nat_in_private_subnet(sam: dict[str, Any]) -> None:
    _props(sam, "NatGatewayA")["SubnetId"] = {"Ref": "PrivateSubnetA"}


def probe_function_in_one_subnet(sam: dict[str, Any]) -> None:
    _props(sam, "TestConnectionFunction")["VpcConfig"]["SubnetIds"] = [{"Ref": "PrivateSubnetA"}]


def get_status_can_scan(sam: dict[str, Any]) -> None:
    _statement(sam, "GetStatusPolicy", "ReadConnections")["Action"].append("dynamodb:Scan")


def probe_function_reads_every_secret(sam: dict[str, Any]) -> None:
    statement = _statement(sam, "TestConnectionPolicy", "ReadConnectionSecrets")
    statement["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"
    }


def get_status_reads_secrets(sam: dict[str, Any]) -> None:
    _props(sam, "GetStatusPolicy")["PolicyDocument"]["Statement"].append(
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": {"Ref": "FingerprintSecret"},
        }
    )


def wildcard_secrets_action(sam: dict[str, Any]) -> None:
    _statement(sam, "AddConnectionPolicy", "DestroyConnectionSecretsAtOnce")["Action"] = "secretsmanager:*"


def sam_crud_policy_on_role(sam: dict[str, Any]) -> None:
    _props(sam, "GetStatusRole")["Policies"] = [
        {
            "PolicyName": "crud",
            "PolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["dynamodb:PutItem"],
                        "Resource": {"Fn::GetAtt": ["ConnectionsTable", "Arn"]},
                    }
                ]
            },
        }
    ]


def create_secret_under_any_key(sam: dict[str, Any]) -> None:
    del _statement(sam, "AddConnectionPolicy", "CreateConnectionSecretsUnderTheKeyWithOwnerTags")[
        "Condition"
    ]["StringEquals"]


def egress_ips_public_route_needs_token(sam: dict[str, Any]) -> None:
    del _props(sam, "GetStatusFunction")["Events"]["GetEgressIps"]["Properties"]["Auth"]


def probe_route_made_public(sam: dict[str, Any]) -> None:
    _props(sam, "TestConnectionFunction")["Events"]["TestConnection"]["Properties"]["Auth"] = {
        "Authorizer": "NONE"
    }


def no_default_authorizer(sam: dict[str, Any]) -> None:
    # SAM refuses `Authorizer: NONE` without a default, so the public routes lose it too.
    del _props(sam, "HttpApi")["Auth"]["DefaultAuthorizer"]
    for event in _props(sam, "GetStatusFunction")["Events"].values():
        event["Properties"].pop("Auth", None)


def catch_all_route(sam: dict[str, Any]) -> None:
    _props(sam, "GetStatusFunction")["Events"]["CatchAll"] = {
        "Type": "HttpApi",
        "Properties": {"ApiId": {"Ref": "HttpApi"}, "Path": "/{proxy+}", "Method": "ANY"},
    }


def key_decrypt_without_context(sam: dict[str, Any]) -> None:
    statement = _statement(sam, "SecretsKey", "TestAndRevalidateDecryptConnectionSecretsViaSecretsManager")
    del statement["Condition"]["StringLike"]


def key_open_to_everyone(sam: dict[str, Any]) -> None:
    statement = _statement(sam, "SecretsKey", "FunctionsUseTheTableViaDynamoDB")
    statement["Principal"] = {"AWS": "*"}


def key_direct_use_by_get_status(sam: dict[str, Any]) -> None:
    statement = _statement(sam, "SecretsKey", "FunctionsUseTheTableViaDynamoDB")
    del statement["Condition"]["StringEquals"]["kms:ViaService"]


def key_rotation_off(sam: dict[str, Any]) -> None:
    _props(sam, "SecretsKey")["EnableKeyRotation"] = False


def table_without_pitr(sam: dict[str, Any]) -> None:
    _props(sam, "ConnectionsTable")["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False


def table_with_aws_owned_key(sam: dict[str, Any]) -> None:
    del _props(sam, "ConnectionsTable")["SSESpecification"]


def table_deletable(sam: dict[str, Any]) -> None:
    _props(sam, "ConnectionsTable")["DeletionProtectionEnabled"] = False


def log_group_kept_forever(sam: dict[str, Any]) -> None:
    del _props(sam, "TestConnectionLogGroup")["RetentionInDays"]


def no_throttle_alarm(sam: dict[str, Any]) -> None:
    del sam["Resources"]["GetStatusThrottlesAlarm"]


def text_logs(sam: dict[str, Any]) -> None:
    _props(sam, "AddConnectionFunction")["LoggingConfig"]["LogFormat"] = "Text"


def security_group_allows_all(sam: dict[str, Any]) -> None:
    _props(sam, "TestFunctionSecurityGroup")["SecurityGroupEgress"][0].update(
        IpProtocol="-1", FromPort=0, ToPort=65535
    )


def get_status_in_vpc(sam: dict[str, Any]) -> None:
    _props(sam, "GetStatusFunction")["VpcConfig"] = copy.deepcopy(
        _props(sam, "TestConnectionFunction")["VpcConfig"]
    )


def tracer_captures_responses(sam: dict[str, Any]) -> None:
    sam["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] = "true"


def cors_wildcard(sam: dict[str, Any]) -> None:
    _props(sam, "HttpApi")["CorsConfiguration"]["AllowOrigins"] = ["*"]


def no_access_log(sam: dict[str, Any]) -> None:
    del _props(sam, "HttpApi")["AccessLogSettings"]


def root_uses_the_key(sam: dict[str, Any]) -> None:
    _statement(sam, "SecretsKey", "KeyAdministratorsManageButDoNotUse")["Action"] = "kms:*"


def root_decrypts_via_a_wildcard(sam: dict[str, Any]) -> None:
    _statement(sam, "SecretsKey", "KeyAdministratorsManageButDoNotUse")["Action"].append("kms:Decrypt*")


def root_decrypts_connection_secrets(sam: dict[str, Any]) -> None:
    condition = _statement(sam, "SecretsKey", "DeployerCreatesTheFingerprintPepperViaSecretsManager")[
        "Condition"
    ]
    condition["StringLike"]["kms:EncryptionContext:SecretARN"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"}
    )


def no_explicit_deny(sam: dict[str, Any]) -> None:
    statements = _props(sam, "SecretsKey")["KeyPolicy"]["Statement"]
    statements[:] = [s for s in statements if s.get("Effect") != "Deny"]


def deny_exempts_get_status(sam: dict[str, Any]) -> None:
    statement = _statement(sam, "SecretsKey", "NobodyElseUsesTheKeyOnConnectionSecrets")
    statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"].append(
        {"Fn::GetAtt": ["GetStatusRole", "Arn"]}
    )


def deny_without_reencrypt(sam: dict[str, Any]) -> None:
    statement = _statement(sam, "SecretsKey", "NobodyElseUsesTheKeyOnConnectionSecrets")
    statement["Action"] = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"]


def mfa_optional(sam: dict[str, Any]) -> None:
    _props(sam, "UserPool")["MfaConfiguration"] = "OPTIONAL"


def anyone_signs_up(sam: dict[str, Any]) -> None:
    del _props(sam, "UserPool")["AdminCreateUserConfig"]


def id_tokens_accepted(sam: dict[str, Any]) -> None:
    del _props(sam, "HttpApi")["Auth"]["Authorizers"]["CognitoJwt"]["AuthorizationScopes"]


def cors_has_a_default(sam: dict[str, Any]) -> None:
    sam["Parameters"]["CorsAllowedOrigins"]["Default"] = "http://localhost:5173"


def delete_with_recovery_window(sam: dict[str, Any]) -> None:
    del _statement(sam, "TestConnectionPolicy", "DestroyRefusedSecretsAtOnce")["Condition"]


def any_tag_keys(sam: dict[str, Any]) -> None:
    del _statement(sam, "AddConnectionPolicy", "TagConnectionSecretsAtCreation")["Condition"]


def secret_without_exchange_tag(sam: dict[str, Any]) -> None:
    condition = _statement(sam, "AddConnectionPolicy", "CreateConnectionSecretsUnderTheKeyWithOwnerTags")[
        "Condition"
    ]
    del condition["Null"]["aws:RequestTag/exchange"]


def sweeper_never_runs(sam: dict[str, Any]) -> None:
    del _props(sam, "SweepSecretsFunction")["Events"]


def sweeper_daily(sam: dict[str, Any]) -> None:
    _props(sam, "SweepSecretsFunction")["Events"]["Hourly"]["Properties"]["Schedule"] = "rate(1 day)"


def sweeper_reads_secrets(sam: dict[str, Any]) -> None:
    _statement(sam, "SweepSecretsPolicy", "ListSecretsMetadata")["Action"] = [
        "secretsmanager:ListSecrets",
        "secretsmanager:GetSecretValue",
    ]


def no_orphan_alarm(sam: dict[str, Any]) -> None:
    del sam["Resources"]["OrphanSecretAlarm"]


def dependency_alarm_wrong_namespace(sam: dict[str, Any]) -> None:
    _props(sam, "DependencyFailuresAlarm")["Namespace"] = "BackFuture/Connections"


def secret_reads_rule_misses_read_only_events(sam: dict[str, Any]) -> None:
    _props(sam, "ConnectionSecretReadRule")["State"] = "ENABLED"


def secret_reads_rule_ignores_iam_users(sam: dict[str, Any]) -> None:
    detail = _props(sam, "ConnectionSecretReadRule")["EventPattern"]["detail"]
    detail["userIdentity"] = detail.pop("$or")[1]["userIdentity"]


def no_secret_read_alarm(sam: dict[str, Any]) -> None:
    del sam["Resources"]["ConnectionSecretReadAlarm"]


def counters_never_expire(sam: dict[str, Any]) -> None:
    del _props(sam, "ConnectionsTable")["TimeToLiveSpecification"]


REGRESSIONS: list[tuple[Mutation, Callable[[Stack], None]]] = [
    (get_status_can_put_events, checks.check_status_event_bus),
    (get_status_can_put_events, checks.check_identity_policies_exact),
    (publisher_puts_on_any_bus, checks.check_status_event_bus),
    (revalidation_outside_the_vpc, checks.check_only_test_function_in_vpc),
    (schedule_runs_hourly_whatever_the_parameter, checks.check_revalidation_schedule),
    (audit_trail_kept_forever, checks.check_table),
    (private_route_a_through_igw, checks.check_test_function_leaves_through_output_eips),
    (eip_not_retained, checks.check_test_function_leaves_through_output_eips),
    (output_names_wrong_eip, checks.check_test_function_leaves_through_output_eips),
    (both_nats_share_an_eip, checks.check_test_function_leaves_through_output_eips),
    (nat_in_private_subnet, checks.check_test_function_leaves_through_output_eips),
    (probe_function_in_one_subnet, checks.check_test_function_leaves_through_output_eips),
    (get_status_can_scan, checks.check_identity_policies_exact),
    (probe_function_reads_every_secret, checks.check_identity_policies_exact),
    (get_status_reads_secrets, checks.check_identity_policies_exact),
    (wildcard_secrets_action, checks.check_no_wildcard_actions_anywhere),
    (sam_crud_policy_on_role, checks.check_identity_policies_exact),
    (create_secret_under_any_key, checks.check_create_secret_conditions),
    (egress_ips_public_route_needs_token, checks.check_routes_and_authorizer),
    (probe_route_made_public, checks.check_routes_and_authorizer),
    (no_default_authorizer, checks.check_routes_and_authorizer),
    (catch_all_route, checks.check_routes_and_authorizer),
    (key_decrypt_without_context, checks.check_key_policy),
    (key_open_to_everyone, checks.check_key_policy),
    (key_direct_use_by_get_status, checks.check_key_policy),
    (key_rotation_off, checks.check_key_policy),
    (table_without_pitr, checks.check_table),
    (table_with_aws_owned_key, checks.check_table),
    (table_deletable, checks.check_table),
    (log_group_kept_forever, checks.check_log_groups_and_alarms),
    (no_throttle_alarm, checks.check_log_groups_and_alarms),
    (text_logs, checks.check_log_groups_and_alarms),
    (security_group_allows_all, checks.check_test_function_security_group),
    (get_status_in_vpc, checks.check_only_test_function_in_vpc),
    (tracer_captures_responses, checks.check_functions),
    (cors_wildcard, checks.check_cors),
    (no_access_log, checks.check_stage),
    (root_uses_the_key, checks.check_key_policy),
    (root_decrypts_via_a_wildcard, checks.check_key_policy),
    (root_decrypts_connection_secrets, checks.check_key_policy),
    (no_explicit_deny, checks.check_key_policy),
    (deny_exempts_get_status, checks.check_key_policy),
    (deny_without_reencrypt, checks.check_key_policy),
    (mfa_optional, checks.check_user_pool),
    (anyone_signs_up, checks.check_user_pool),
    (id_tokens_accepted, checks.check_routes_and_authorizer),
    (cors_has_a_default, checks.check_cors_origins_required),
    (delete_with_recovery_window, checks.check_secret_iam_conditions),
    (any_tag_keys, checks.check_secret_iam_conditions),
    (secret_without_exchange_tag, checks.check_secret_iam_conditions),
    (sweeper_never_runs, checks.check_sweeper),
    (sweeper_daily, checks.check_sweeper),
    (sweeper_reads_secrets, checks.check_identity_policies_exact),
    (no_orphan_alarm, checks.check_service_metric_alarms),
    (dependency_alarm_wrong_namespace, checks.check_service_metric_alarms),
    (secret_reads_rule_misses_read_only_events, checks.check_connection_secret_reads_alarm),
    (secret_reads_rule_ignores_iam_users, checks.check_connection_secret_reads_alarm),
    (no_secret_read_alarm, checks.check_connection_secret_reads_alarm),
    (counters_never_expire, checks.check_table),
]


@pytest.mark.parametrize(("mutate", "check"), REGRESSIONS, ids=lambda item: getattr(item, "__name__", ""))
def test_check_fails_on_regression(
    sam: dict[str, Any], mutate: Mutation, check: Callable[[Stack], None]
) -> None:
    # Given a template with one property broken
    broken = copy.deepcopy(sam)
    mutate(broken)
    stack = translate(broken, {"CorsAllowedOrigins": CORS_ORIGINS})

    # Then the check that guards it fails
    with pytest.raises(AssertionError):
        check(stack)
