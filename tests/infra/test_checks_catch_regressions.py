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
    statement = _statement(sam, "TestConnectionPolicy", "ReadAndDestroyConnectionSecrets")
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
    _statement(sam, "AddConnectionPolicy", "TagAtCreationAndDestroyConnectionSecrets")["Action"] = (
        "secretsmanager:*"
    )


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
