"""The template's security and network properties, each a check that raises AssertionError.

test_template.py runs every check on the real template; test_checks_catch_regressions.py runs them
on deliberately broken copies to prove each one can fail.
"""

from __future__ import annotations

from typing import Any

from tests.infra.sam_stack import ACCOUNT, REGION, STACK, Stack, as_list, grants, iam_pattern_matches

API_FUNCTIONS = ("AddConnectionFunction", "TestConnectionFunction", "GetStatusFunction")
FUNCTIONS = (*API_FUNCTIONS, "SweepSecretsFunction", "RevalidateFunction")
ROLES = {
    "AddConnectionFunction": "AddConnectionRole",
    "TestConnectionFunction": "TestConnectionRole",
    "GetStatusFunction": "GetStatusRole",
    "SweepSecretsFunction": "SweepSecretsRole",
    "RevalidateFunction": "RevalidateRole",
}
# The functions that call exchanges: they must leave through the NAT's Elastic IPs (the whitelist).
EXCHANGE_CALLERS = {"TestConnectionFunction", "RevalidateFunction"}
# The functions that publish status-change events; no other may put events anywhere.
PUBLISHERS = {"AddConnectionFunction", "TestConnectionFunction", "RevalidateFunction"}
SECRET_PREFIX = f"backfuture/{STACK}/connections/"
SECRET_ARN_BASE = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
# <prefix><26-character ULID>/v<credentials version>, plus the "-" and six characters Secrets
# Manager appends to every secret's ARN.
CONNECTION_SECRETS = SECRET_ARN_BASE + SECRET_PREFIX + "?" * 26 + "/v*-??????"
FINGERPRINT_SECRET = SECRET_ARN_BASE + f"backfuture/{STACK}/fingerprint-pepper-??????"
TABLE = "<ConnectionsTable.Arn>"
TABLE_NAME = f"{STACK}-connections"
SECRETSMANAGER = f"secretsmanager.{REGION}.amazonaws.com"
DYNAMODB = f"dynamodb.{REGION}.amazonaws.com"
XRAY = {("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")}
BUS = "<StatusEventBus.Arn>"
EVENTS_INDEX = f"{TABLE}/index/ConnectionEvents"


def _logs(log_group: str) -> set[tuple[str, str]]:
    return {("logs:CreateLogStream", f"<{log_group}.Arn>"), ("logs:PutLogEvents", f"<{log_group}.Arn>")}


# Exact identity-policy grants per role: (action, resource). KMS is absent on purpose: each role's
# use of the key is granted by the key policy only, with conditions (EXPECTED_KEY_GRANTS).
EXPECTED_IDENTITY_GRANTS: dict[str, set[tuple[str, str]]] = {
    "AddConnectionRole": _logs("AddConnectionLogGroup")
    | XRAY
    | {
        ("secretsmanager:CreateSecret", CONNECTION_SECRETS),
        ("secretsmanager:TagResource", CONNECTION_SECRETS),
        ("secretsmanager:DeleteSecret", CONNECTION_SECRETS),
        ("secretsmanager:GetSecretValue", "<Ref FingerprintSecret>"),
    }
    | {
        (f"dynamodb:{action}", TABLE)
        for action in ("PutItem", "UpdateItem", "DeleteItem", "GetItem", "ConditionCheckItem")
    }
    | {("events:PutEvents", BUS)},
    "TestConnectionRole": _logs("TestConnectionLogGroup")
    | XRAY
    | {
        ("secretsmanager:GetSecretValue", CONNECTION_SECRETS),
        ("secretsmanager:DeleteSecret", CONNECTION_SECRETS),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:PutItem", TABLE),  # audit events, in the result's transaction
        ("dynamodb:ConditionCheckItem", TABLE),  # the error budget's check, in the quota transaction
        ("events:PutEvents", BUS),
    },
    "GetStatusRole": _logs("GetStatusLogGroup")
    | XRAY
    | {("dynamodb:GetItem", TABLE), ("dynamodb:Query", TABLE), ("dynamodb:Query", EVENTS_INDEX)},
    # ListSecrets has no resource-level permissions (names, tags and dates; never a value).
    "SweepSecretsRole": _logs("SweepSecretsLogGroup")
    | XRAY
    | {
        ("secretsmanager:ListSecrets", "*"),
        ("secretsmanager:DeleteSecret", CONNECTION_SECRETS),
        ("dynamodb:GetItem", TABLE),
    },
    "RevalidateRole": _logs("RevalidateLogGroup")
    | XRAY
    | {
        ("secretsmanager:GetSecretValue", CONNECTION_SECRETS),
        ("secretsmanager:DeleteSecret", CONNECTION_SECRETS),
        ("dynamodb:Scan", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:ConditionCheckItem", TABLE),
        ("events:PutEvents", BUS),
    },
}

EXPECTED_MANAGED_POLICIES: dict[str, list[str]] = {
    "AddConnectionRole": [],
    # ENI create/delete in the private subnets; Lambda checks it when the function is created.
    "TestConnectionRole": ["arn:aws:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"],
    "GetStatusRole": [],
    "SweepSecretsRole": [],
    "RevalidateRole": ["arn:aws:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"],
}

# Key-policy grants per role: (action, kms:ViaService, encryption-context key, allowed values).
KeyGrant = tuple[str, str, str, frozenset[str]]
_CONNECTION_CONTEXT = frozenset({CONNECTION_SECRETS, "RequestToValidateKeyAccess"})
_TABLE_CONTEXT = ("kms:EncryptionContext:aws:dynamodb:tableName", frozenset({TABLE_NAME}))
EXPECTED_KEY_GRANTS: dict[str, set[KeyGrant]] = {
    "AddConnectionRole": {
        ("kms:GenerateDataKey", SECRETSMANAGER, "kms:EncryptionContext:SecretARN", _CONNECTION_CONTEXT),
        ("kms:Decrypt", SECRETSMANAGER, "kms:EncryptionContext:SecretARN", _CONNECTION_CONTEXT),
        ("kms:Decrypt", SECRETSMANAGER, "kms:EncryptionContext:SecretARN", frozenset({FINGERPRINT_SECRET})),
        ("kms:Decrypt", DYNAMODB, *_TABLE_CONTEXT),
    },
    "TestConnectionRole": {
        ("kms:Decrypt", SECRETSMANAGER, "kms:EncryptionContext:SecretARN", frozenset({CONNECTION_SECRETS})),
        ("kms:Decrypt", DYNAMODB, *_TABLE_CONTEXT),
    },
    "GetStatusRole": {("kms:Decrypt", DYNAMODB, *_TABLE_CONTEXT)},
    "SweepSecretsRole": {("kms:Decrypt", DYNAMODB, *_TABLE_CONTEXT)},
    "RevalidateRole": {
        ("kms:Decrypt", SECRETSMANAGER, "kms:EncryptionContext:SecretARN", frozenset({CONNECTION_SECRETS})),
        ("kms:Decrypt", DYNAMODB, *_TABLE_CONTEXT),
    },
}
# What only key users may do; the key administrators (the account) may do none of it, except what
# the deployment needs to create the fingerprint pepper.
KEY_DATA_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
_PEPPER_CONTEXT = frozenset({FINGERPRINT_SECRET, "RequestToValidateKeyAccess"})

# Cognito puts it into the access tokens of an SRP sign-in; ID tokens carry no scope at all.
ACCESS_TOKEN_SCOPE = "aws.cognito.signin.user.admin"

# Route key -> (function, public).
EXPECTED_ROUTES: dict[str, tuple[str, bool]] = {
    "POST /connections": ("AddConnectionFunction", False),
    "PUT /connections/{id}/credentials": ("AddConnectionFunction", False),
    "PATCH /connections/{id}": ("AddConnectionFunction", False),
    "DELETE /connections/{id}": ("AddConnectionFunction", False),
    "POST /connections/{id}/test": ("TestConnectionFunction", False),
    "GET /connections": ("GetStatusFunction", False),
    "GET /connections/{id}": ("GetStatusFunction", False),
    "GET /connections/{id}/status": ("GetStatusFunction", False),
    "GET /connections/{id}/events": ("GetStatusFunction", False),
    "GET /events": ("GetStatusFunction", False),
    "GET /egress-ips": ("GetStatusFunction", True),
    "GET /exchanges": ("GetStatusFunction", True),
}


# --- network ---------------------------------------------------------------------------------------


def _ref_target(value: str) -> str:
    assert value.startswith("<Ref ") and value.endswith(">"), f"expected a resource reference, got {value!r}"
    return value[len("<Ref ") : -1]


def _route_table_of(stack: Stack, subnet: str) -> str:
    tables = [
        _ref_target(stack.resolve(p["Properties"]["RouteTableId"]))
        for p in stack.of_type("AWS::EC2::SubnetRouteTableAssociation").values()
        if stack.resolve(p["Properties"]["SubnetId"]) == f"<Ref {subnet}>"
    ]
    assert len(tables) == 1, f"{subnet} has {len(tables)} route table associations"
    return tables[0]


def _default_routes(stack: Stack, route_table: str) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in stack.of_type("AWS::EC2::Route").values()
        if stack.resolve(r["Properties"]["RouteTableId"]) == f"<Ref {route_table}>"
        and r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"
    ]


def _zone(stack: Stack, subnet: str) -> Any:
    return stack.props(subnet, "AWS::EC2::Subnet")["AvailabilityZone"]


def egress_addresses_of_test_function(stack: Stack, function: str = "TestConnectionFunction") -> list[str]:
    """Follows subnet -> route table -> 0.0.0.0/0 -> NAT -> Elastic IP; returns the EIP logical ids."""
    vpc_config = stack.props(function, "AWS::Lambda::Function").get("VpcConfig")
    assert vpc_config, f"{function} must run in the VPC to leave through the NAT addresses"
    subnets = [_ref_target(s) for s in stack.resolve(vpc_config["SubnetIds"])]
    assert len(subnets) == 2, f"test_connection should span two zones, has subnets {subnets}"
    assert _zone(stack, subnets[0]) != _zone(stack, subnets[1]), "the two subnets must be in different zones"
    eips = []
    for subnet in subnets:
        assert stack.props(subnet).get("MapPublicIpOnLaunch") is False, f"{subnet} must not assign public IPs"
        routes = _default_routes(stack, _route_table_of(stack, subnet))
        assert len(routes) == 1, f"{subnet}: expected one default route, found {len(routes)}"
        route = routes[0]
        assert set(route) == {"RouteTableId", "DestinationCidrBlock", "NatGatewayId"}, (
            f"{subnet}: default route must go through a NAT gateway only, not {route}"
        )
        nat = _ref_target(stack.resolve(route["NatGatewayId"]))
        nat_props = stack.props(nat, "AWS::EC2::NatGateway")
        assert nat_props.get("ConnectivityType", "public") == "public"
        # A NAT in another zone would still work, but dies with that zone and adds transfer costs.
        nat_subnet = _ref_target(stack.resolve(nat_props["SubnetId"]))
        assert _zone(stack, nat_subnet) == _zone(stack, subnet), f"{nat} is not in the zone of {subnet}"
        public_routes = _default_routes(stack, _route_table_of(stack, nat_subnet))
        assert [stack.resolve(r.get("GatewayId")) for r in public_routes] == ["<Ref InternetGateway>"], (
            f"{nat} must sit in a public subnet (default route to the internet gateway)"
        )
        allocation = stack.resolve(nat_props["AllocationId"])
        assert allocation.endswith(".AllocationId>"), f"{nat} must use a fixed Elastic IP, not {allocation}"
        eips.append(allocation[1 : -len(".AllocationId>")])
    assert len(set(eips)) == 2, f"each zone needs its own NAT and Elastic IP, got {eips}"
    return eips


def check_test_function_leaves_through_output_eips(stack: Stack) -> None:
    eips = egress_addresses_of_test_function(stack)
    # The re-validation calls the same exchanges: the same addresses, or users' whitelists refuse it.
    assert sorted(egress_addresses_of_test_function(stack, "RevalidateFunction")) == sorted(eips)
    outputs = {name: stack.resolve(o["Value"]) for name, o in stack.cfn["Outputs"].items()}
    refs = [f"<Ref {eip}>" for eip in eips]
    for eip in eips:
        resource = stack.resource(eip, "AWS::EC2::EIP")
        assert resource["Properties"].get("Domain") == "vpc"
        assert resource.get("DeletionPolicy") == "Retain", f"{eip}: users whitelisted it; keep it on deletion"
        assert resource.get("UpdateReplacePolicy") == "Retain", f"{eip}: keep it on replacement"
    assert sorted(outputs["EgressIps"].split(",")) == sorted(refs)
    assert {outputs["EgressIpA"], outputs["EgressIpB"]} == set(refs)
    for function in FUNCTIONS:
        env = stack.resolve(stack.props(function)["Environment"]["Variables"])
        assert env["EGRESS_IPS"] == outputs["EgressIps"], f"{function} reports other IPs than the outputs"


def check_only_test_function_in_vpc(stack: Stack) -> None:
    # Only the functions that test keys may originate traffic from the whitelisted addresses.
    in_vpc = {name for name in FUNCTIONS if stack.props(name).get("VpcConfig")}
    assert in_vpc == EXCHANGE_CALLERS, f"functions in the VPC: {sorted(in_vpc)}"


def check_test_function_security_group(stack: Stack) -> None:
    groups = stack.resolve(stack.props("TestConnectionFunction")["VpcConfig"]["SecurityGroupIds"])
    assert stack.resolve(stack.props("RevalidateFunction")["VpcConfig"]["SecurityGroupIds"]) == groups
    assert len(groups) == 1
    sg = stack.props(_ref_target(groups[0]), "AWS::EC2::SecurityGroup")
    assert not sg.get("SecurityGroupIngress"), "test_connection accepts no inbound traffic"
    egress = sg.get("SecurityGroupEgress")
    assert egress, "without egress rules a security group allows all outbound traffic"
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in egress] == [("tcp", 443, 443)]
    for rule_type in ("AWS::EC2::SecurityGroupEgress", "AWS::EC2::SecurityGroupIngress"):
        assert not stack.of_type(rule_type), f"standalone {rule_type} rules would widen the groups"


def check_vpc_endpoints(stack: Stack) -> None:
    endpoints = {
        stack.resolve(p["Properties"]["ServiceName"]): p
        for p in stack.of_type("AWS::EC2::VPCEndpoint").values()
    }
    dynamodb = endpoints[f"com.amazonaws.{REGION}.dynamodb"]
    assert dynamodb["Properties"]["VpcEndpointType"] == "Gateway"
    assert sorted(stack.resolve(dynamodb["Properties"]["RouteTableIds"])) == [
        "<Ref PrivateRouteTableA>",
        "<Ref PrivateRouteTableB>",
    ]
    for service in ("secretsmanager", "kms"):
        endpoint = endpoints[f"com.amazonaws.{REGION}.{service}"]
        assert endpoint.get("Condition") == "InterfaceEndpoints", f"{service} endpoint must be switchable"
        props = endpoint["Properties"]
        assert props["VpcEndpointType"] == "Interface"
        assert props["PrivateDnsEnabled"] is True, (
            f"{service}: without private DNS the SDK bypasses the endpoint"
        )
        assert sorted(stack.resolve(props["SubnetIds"])) == ["<Ref PrivateSubnetA>", "<Ref PrivateSubnetB>"]


# --- identity and access ---------------------------------------------------------------------------


def check_identity_policies_exact(stack: Stack) -> None:
    for function, role in ROLES.items():
        assert stack.resolve(stack.props(function)["Role"]) == f"<{role}.Arn>", f"{function} must use {role}"
        actual = grants(stack.identity_statements(role))
        expected = EXPECTED_IDENTITY_GRANTS[role]
        assert actual == expected, (
            f"{role}: unexpected {sorted(actual - expected)}, missing {sorted(expected - actual)}"
        )
        assert stack.managed_policy_arns(role) == EXPECTED_MANAGED_POLICIES[role], role


def check_no_wildcard_actions_anywhere(stack: Stack) -> None:
    for kind in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for name, resource in stack.of_type(kind).items():
            documents = [resource["Properties"].get("PolicyDocument")]
            documents += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
            for document in filter(None, documents):
                for statement in stack.resolve(document)["Statement"]:
                    for action in as_list(statement.get("Action")):
                        assert "*" not in action, f"{name}: wildcard action {action}"


def check_create_secret_conditions(stack: Stack) -> None:
    create = [
        s
        for s in stack.identity_statements("AddConnectionRole")
        if "secretsmanager:CreateSecret" in as_list(s["Action"])
    ]
    assert len(create) == 1 and as_list(create[0]["Action"]) == ["secretsmanager:CreateSecret"]
    condition = create[0].get("Condition", {})
    # A secret created under another key (or the default aws/secretsmanager) escapes the key policy.
    assert condition.get("StringEquals", {}).get("secretsmanager:KmsKeyArn") == "<SecretsKey.Arn>"
    assert condition.get("Null", {}).get("aws:RequestTag/owner") == "false", "secrets must carry their owner"


def _key_grants(stack: Stack, role: str) -> set[KeyGrant]:
    found: set[KeyGrant] = set()
    for statement in stack.key_statements_for("SecretsKey", role):
        if statement["Effect"] == "Deny":
            continue
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
        condition = statement.get("Condition", {})
        flat = {(op, key): as_list(value) for op, keys in condition.items() for key, value in keys.items()}
        via = [v for (op, key), v in flat.items() if key == "kms:ViaService" and op == "StringEquals"]
        contexts = [(key, v) for (op, key), v in flat.items() if key.startswith("kms:EncryptionContext:")]
        assert len(via) == 1 and len(via[0]) == 1, (
            f"{role}: key use must be pinned to one service: {condition}"
        )
        assert len(contexts) == 1, f"{role}: key use must be pinned to an encryption context: {condition}"
        assert set(flat) <= {
            ("StringEquals", "kms:ViaService"),
            *((op, k) for op, k in flat if k == contexts[0][0]),
        }
        for action in as_list(statement["Action"]):
            found.add((action, via[0][0], contexts[0][0], frozenset(contexts[0][1])))
    return found


def _matches_any(patterns: list[str], actions: tuple[str, ...]) -> list[str]:
    return [a for a in actions for p in patterns if iam_pattern_matches(p.lower(), a.lower())]


def check_key_policy(stack: Stack) -> None:
    key = stack.resource("SecretsKey", "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key.get("DeletionPolicy") == "Retain", "deleting the key destroys every secret and the table"
    statements = stack.key_statements("SecretsKey")
    allows = [s for s in statements if s["Effect"] == "Allow"]
    root = [s for s in allows if s["Principal"].get("AWS") == ROOT]
    # Key administrators manage the key; they never use it on data, but for the pepper's creation.
    admin = [s for s in root if "Condition" not in s]
    assert len(admin) == 1, "one unconditioned statement for the key administrators"
    assert _matches_any(as_list(admin[0]["Action"]), ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion")) == [
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
    ], "the administrators must keep the key manageable (and KMS refuses a lockout)"
    using = _matches_any(as_list(admin[0]["Action"]), KEY_DATA_ACTIONS)
    assert not using, f"the key administrators may use the key: {using}"
    for statement in root:
        if statement in admin:
            continue
        condition = statement["Condition"]
        assert condition["StringEquals"] == {"kms:ViaService": SECRETSMANAGER}, condition
        assert set(condition) == {"StringEquals", "StringLike"}
        context = frozenset(as_list(condition["StringLike"]["kms:EncryptionContext:SecretARN"]))
        assert context <= _PEPPER_CONTEXT, f"the account may use the key on {sorted(context)}"
    role_arns = {f"<{role}.Arn>" for role in ROLES.values()}
    for statement in allows:
        if statement in root:
            continue
        principals = set(as_list(statement["Principal"].get("AWS")))
        assert set(statement["Principal"]) == {"AWS"} and principals <= role_arns, (
            f"only the function roles may use the key besides the account root: {statement['Principal']}"
        )
    check_key_denies_everyone_else(stack)
    for role, expected in EXPECTED_KEY_GRANTS.items():
        actual = _key_grants(stack, role)
        assert actual == expected, (
            f"{role}: unexpected {sorted(actual - expected)}, missing {sorted(expected - actual)}"
        )


def check_key_denies_everyone_else(stack: Stack) -> None:
    """An explicit deny: nobody but add_connection and test_connection uses the key on a connection
    secret, whatever IAM policies or grants say."""
    denies = [s for s in stack.key_statements("SecretsKey") if s["Effect"] == "Deny"]
    assert len(denies) == 1, f"expected one deny statement, found {len(denies)}"
    deny = denies[0]
    assert deny["Principal"] in ("*", {"AWS": "*"}) and deny["Resource"] == "*"
    covered = _matches_any(as_list(deny["Action"]), KEY_DATA_ACTIONS)
    assert set(covered) == set(KEY_DATA_ACTIONS), (
        f"the deny leaves out {set(KEY_DATA_ACTIONS) - set(covered)}"
    )
    condition = deny["Condition"]
    assert set(condition) == {"StringLike", "ArnNotEquals"}, condition
    (context,) = as_list(condition["StringLike"]["kms:EncryptionContext:SecretARN"])
    example = SECRET_ARN_BASE + SECRET_PREFIX + "01JDQ5Z3Y8K2M4N6P7R9S0T1V2/v1-Xy7Q2z"
    assert iam_pattern_matches(context, example), f"the deny does not cover connection secrets: {context}"
    exempt = set(as_list(condition["ArnNotEquals"]["aws:PrincipalArn"]))
    # The functions that must use the key on connection secrets: add (encrypts), test and revalidate
    # (decrypt to sign the exchange calls).
    assert exempt == {"<AddConnectionRole.Arn>", "<TestConnectionRole.Arn>", "<RevalidateRole.Arn>"}, exempt


def check_secret_iam_conditions(stack: Stack) -> None:
    """Tag keys and immediate deletion pinned by IAM conditions wherever a role may use them."""
    for role in ROLES.values():
        for statement in stack.identity_statements(role):
            actions = as_list(statement["Action"])
            condition = statement.get("Condition", {})
            if "secretsmanager:DeleteSecret" in actions:
                assert actions == ["secretsmanager:DeleteSecret"], f"{role}: keep DeleteSecret on its own"
                assert condition == {"Bool": {"secretsmanager:ForceDeleteWithoutRecovery": "true"}}, (
                    f"{role}: DeleteSecret must be pinned to ForceDeleteWithoutRecovery"
                )
            if {"secretsmanager:TagResource", "secretsmanager:CreateSecret"} & set(actions):
                assert len(actions) == 1, f"{role}: keep {actions[0]} on its own"
                pinned = condition.get("ForAllValues:StringEquals", {}).get("aws:TagKeys")
                assert pinned == ["owner", "exchange", "connection"], (
                    f"{role}: tag keys not pinned: {condition}"
                )
            if "secretsmanager:TagResource" in actions:
                assert condition.get("Null") == {"aws:TagKeys": "false"}, f"{role}: TagResource without tags"
            if "secretsmanager:CreateSecret" in actions:
                assert condition.get("Null") == {
                    f"aws:RequestTag/{tag}": "false" for tag in ("owner", "exchange", "connection")
                }, f"{role}: every secret must carry its three tags"


# --- data and operations ---------------------------------------------------------------------------


def check_table(stack: Stack) -> None:
    table = stack.resource("ConnectionsTable", "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert stack.resolve(props["TableName"]) == TABLE_NAME, (
        "the key policy's encryption context names the table"
    )
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    sse = stack.resolve(props.get("SSESpecification"))
    assert sse == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": "<SecretsKey.Arn>"}
    assert props["DeletionProtectionEnabled"] is True
    assert table.get("DeletionPolicy") == "Retain"
    # the audit trail: one connection's events by index, removed by TTL after 400 days
    assert props.get("TimeToLiveSpecification") == {"AttributeName": "expires_at", "Enabled": True}
    [index] = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "ConnectionEvents"
    assert index["KeySchema"] == [
        {"AttributeName": "trail", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]


def check_fingerprint_secret(stack: Stack) -> None:
    props = stack.props("FingerprintSecret", "AWS::SecretsManager::Secret")
    assert stack.resolve(props["KmsKeyId"]) == "<Ref SecretsKey>"
    assert "GenerateSecretString" in props and "SecretString" not in props, (
        "the pepper must never be in the template"
    )
    arn = SECRET_ARN_BASE + stack.resolve(props["Name"]) + "-AbC123"
    assert iam_pattern_matches(FINGERPRINT_SECRET, arn)


def check_functions(stack: Stack) -> None:
    required_env = {
        "TABLE_NAME": "<Ref ConnectionsTable>",
        "KMS_KEY_ID": "<SecretsKey.Arn>",
        "SECRET_NAME_PREFIX": SECRET_PREFIX,
        "FINGERPRINT_SECRET_ARN": "<Ref FingerprintSecret>",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
        "TESTS_PER_USER_PER_HOUR": 60,
        "CONNECTIONS_CREATED_PER_USER_PER_DAY": 50,
    }
    sizing = {
        "AddConnectionFunction": (10, 256),
        "TestConnectionFunction": (20, 512),
        "GetStatusFunction": (10, 256),
        "SweepSecretsFunction": (300, 256),
        "RevalidateFunction": (900, 512),
    }
    for function in FUNCTIONS:
        props = stack.props(function, "AWS::Lambda::Function")
        assert props["Runtime"] == "python3.13" and props["Architectures"] == ["arm64"], function
        assert props["Handler"] == "app.lambda_handler", function
        assert (props["Timeout"], props["MemorySize"]) == sizing[function], function
        assert props["TracingConfig"] == {"Mode": "Active"}, function
        env = stack.resolve(props["Environment"]["Variables"])
        for name, value in required_env.items():
            assert env.get(name) == value, f"{function}: {name}={env.get(name)!r}, expected {value!r}"
        assert env.get("POWERTOOLS_SERVICE_NAME"), function
        assert "POWERTOOLS_LOGGER_LOG_EVENT" not in env, (
            f"{function}: events carry API secrets; never log them"
        )
        assert ("EVENT_BUS_NAME" in env) is (function in PUBLISHERS), function
        if function in PUBLISHERS:
            assert env["EVENT_BUS_NAME"] == "<Ref StatusEventBus>", function


def check_log_groups_and_alarms(stack: Stack) -> None:
    for function in FUNCTIONS:
        logging = stack.props(function)["LoggingConfig"]
        assert logging["LogFormat"] == "JSON", function
        group = _ref_target(stack.resolve(logging["LogGroup"]))
        props = stack.props(group, "AWS::Logs::LogGroup")
        assert int(stack.resolve(props.get("RetentionInDays", 0))) > 0, f"{group} keeps logs forever"
        assert stack.resolve(props["KmsKeyId"]) == "<LogsKey.Arn>", group
        metrics = {
            a["Properties"]["MetricName"]
            for a in stack.of_type("AWS::CloudWatch::Alarm").values()
            if a["Properties"].get("Namespace") == "AWS/Lambda"
            and stack.resolve(a["Properties"]["Dimensions"])
            == [{"Name": "FunctionName", "Value": f"<Ref {function}>"}]
        }
        assert {"Errors", "Throttles"} <= metrics, f"{function}: alarms on {sorted(metrics)}"
    api_alarms = [
        a["Properties"]
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/ApiGateway"
    ]
    assert any(a["MetricName"] == "5xx" for a in api_alarms), "no alarm on the API's 5xx answers"
    api_log = stack.props("ApiAccessLogGroup", "AWS::Logs::LogGroup")
    assert int(stack.resolve(api_log.get("RetentionInDays", 0))) > 0, "the access log is kept forever"


# --- API -------------------------------------------------------------------------------------------


def check_routes_and_authorizer(stack: Stack) -> None:
    seen: dict[str, tuple[str, bool]] = {}
    for method, path, operation in stack.api_operations():
        uri = stack.resolve(operation["x-amazon-apigateway-integration"]["uri"])
        function = next(f for f in FUNCTIONS if f"<{f}.Arn>" in uri)
        schemes = {name for requirement in operation.get("security", []) for name in requirement}
        assert schemes in ({"CognitoJwt"}, {"NONE"}), f"{method} {path}: security {schemes}"
        if schemes == {"CognitoJwt"}:
            # A required scope: an ID token (no scope claim) is refused, only access tokens pass.
            scopes = [scope for requirement in operation["security"] for scope in requirement["CognitoJwt"]]
            assert scopes == [ACCESS_TOKEN_SCOPE], f"{method} {path}: scopes {scopes}"
        seen[f"{method} {path}"] = (function, schemes == {"NONE"})
    assert seen == EXPECTED_ROUTES
    body = stack.props("HttpApi", "AWS::ApiGatewayV2::Api")["Body"]
    authorizer = body["components"]["securitySchemes"]["CognitoJwt"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["identitySource"] == "$request.header.Authorization"
    jwt = stack.resolve(authorizer["jwtConfiguration"])
    if stack.condition("CreateUserPool"):
        assert jwt == {
            "issuer": f"https://cognito-idp.{REGION}.amazonaws.com/<Ref UserPool>",
            "audience": ["<Ref UserPoolClient>"],
        }
    else:
        assert jwt == {"issuer": stack.parameter("JwtIssuer"), "audience": stack.parameter("JwtAudience")}


def check_stage(stack: Stack) -> None:
    stages = stack.of_type("AWS::ApiGatewayV2::Stage")
    assert len(stages) == 1
    props = stack.resolve(next(iter(stages.values()))["Properties"])
    access_log = props.get("AccessLogSettings", {})
    assert access_log.get("DestinationArn") == "<ApiAccessLogGroup.Arn>", "the API must write access logs"
    assert "$context.requestId" in access_log["Format"]
    defaults = props["DefaultRouteSettings"]
    assert int(defaults["ThrottlingRateLimit"]) > 0 and int(defaults["ThrottlingBurstLimit"]) > 0
    test_route = props["RouteSettings"]["POST /connections/{id}/test"]
    assert int(test_route["ThrottlingRateLimit"]) <= int(defaults["ThrottlingRateLimit"])


def check_cors_origins_required(stack: Stack) -> None:
    parameter = stack.cfn["Parameters"]["CorsAllowedOrigins"]
    assert "Default" not in parameter, "CORS origins must be named by each deployment"


def check_user_pool(stack: Stack) -> None:
    props = stack.props("UserPool", "AWS::Cognito::UserPool")
    assert props["MfaConfiguration"] == "ON", "MFA for every account"
    assert "SOFTWARE_TOKEN_MFA" in props["EnabledMfas"]
    only_admins = stack.resolve(props.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly"))
    assert only_admins is (stack.parameter("AllowSelfSignUp") != "true")
    assert stack.cfn["Parameters"]["AllowSelfSignUp"]["Default"] == "false", "sign-up gated by default"


def check_sweeper(stack: Stack) -> None:
    """The orphan-secret sweeper runs at least hourly, outside the VPC, with its alarms."""
    rules = [
        r["Properties"]
        for r in stack.of_type("AWS::Events::Rule").values()
        if any(
            stack.resolve(t["Arn"]) == "<SweepSecretsFunction.Arn>"
            for t in r["Properties"].get("Targets", [])
        )
    ]
    assert len(rules) == 1, "one schedule invokes the sweeper"
    assert rules[0]["ScheduleExpression"] in ("rate(1 hour)", "rate(30 minutes)", "rate(15 minutes)")
    assert rules[0].get("State", "ENABLED") == "ENABLED"
    assert not stack.props("SweepSecretsFunction").get("VpcConfig")


def _alarmed(stack: Stack, namespace: str, metric: str, dimensions: list[dict[str, str]]) -> bool:
    return any(
        a["Properties"].get("Namespace") == namespace
        and a["Properties"].get("MetricName") == metric
        and stack.resolve(a["Properties"].get("Dimensions")) == dimensions
        and a["Properties"].get("ComparisonOperator") == "GreaterThanOrEqualToThreshold"
        and int(a["Properties"]["Threshold"]) == 1
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
    )


def check_service_metric_alarms(stack: Stack) -> None:
    """Alarms on the metrics the code emits, in the namespace and dimension it emits them with."""
    from backfuture.observability import metrics

    namespace, service = metrics.provider.namespace, metrics.provider.service
    for metric in ("OrphanSecret", "RetiredSecretNotDestroyed", "DependencyFailures"):
        assert _alarmed(stack, namespace, metric, [{"Name": "service", "Value": service}]), (
            f"no alarm on {metric}"
        )


def check_connection_secret_reads_alarm(stack: Stack) -> None:
    """CloudTrail (through EventBridge): GetSecretValue of a connection secret by anyone but the test
    and re-validation roles (the two functions that sign exchange calls with it)."""
    rules = {
        name: r["Properties"]
        for name, r in stack.of_type("AWS::Events::Rule").items()
        if "GetSecretValue"
        in (r["Properties"].get("EventPattern", {}).get("detail", {}).get("eventName") or [])
    }
    assert len(rules) == 1, f"one rule watches GetSecretValue, found {sorted(rules)}"
    ((name, rule),) = rules.items()
    # Read-only management events reach EventBridge only in this state.
    assert rule["State"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    pattern = stack.resolve(rule["EventPattern"])
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    detail = pattern["detail"]
    (secret_filter,) = detail["requestParameters"]["secretId"]
    assert iam_pattern_matches(secret_filter["wildcard"], SECRET_PREFIX + "01JDQ5Z3Y8K2M4N6P7R9S0T1V2/v1")
    assert iam_pattern_matches(secret_filter["wildcard"], CONNECTION_SECRETS.replace("?", "A"))
    assert detail.get("$or") == [
        {"userIdentity": {"type": [{"anything-but": ["AssumedRole"]}]}},
        {
            "userIdentity": {
                "sessionContext": {
                    "sessionIssuer": {
                        "arn": [{"anything-but": ["<TestConnectionRole.Arn>", "<RevalidateRole.Arn>"]}]
                    }
                }
            }
        },
    ], "every principal but the test and re-validation roles must match"
    assert _alarmed(stack, "AWS/Events", "MatchedEvents", [{"Name": "RuleName", "Value": f"<Ref {name}>"}])


def check_cors(stack: Stack) -> None:
    body = stack.props("HttpApi", "AWS::ApiGatewayV2::Api")["Body"]
    cors = body["x-amazon-apigateway-cors"]
    origins = stack.resolve(cors["allowOrigins"])
    assert isinstance(origins, list), f"API Gateway needs a list of origins, got {origins!r}"
    assert origins == stack.parameter("CorsAllowedOrigins")
    assert "*" not in origins
    assert "authorization" in [h.lower() for h in cors["allowHeaders"]]


def check_status_event_bus(stack: Stack) -> None:
    buses = stack.of_type("AWS::Events::EventBus")
    assert list(buses) == ["StatusEventBus"], "one bus, the stack's own"
    assert stack.resolve(buses["StatusEventBus"]["Properties"]["Name"]) == f"{STACK}-connections"
    # Only the publishing roles may put events, and only on that bus (no other role, no other bus).
    for kind in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for name, resource in stack.of_type(kind).items():
            documents = [resource["Properties"].get("PolicyDocument")]
            documents += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
            for document in filter(None, documents):
                for statement in stack.resolve(document)["Statement"]:
                    actions = as_list(statement.get("Action"))
                    if any(a.startswith("events:") for a in actions):
                        roles = {ROLES[f] for f in PUBLISHERS}
                        owner = (
                            name
                            if kind == "AWS::IAM::Role"
                            else _ref_target(stack.resolve(resource["Properties"]["Roles"])[0])
                        )
                        assert owner in roles, f"{name} may put events"
                        assert actions == ["events:PutEvents"], f"{name}: {actions}"
                        assert as_list(statement["Resource"]) == [BUS], f"{name}: {statement['Resource']}"


def check_revalidation_schedule(stack: Stack) -> None:
    schedules = stack.of_type("AWS::Scheduler::Schedule")
    assert len(schedules) == 1, f"schedules: {sorted(schedules)}"
    props = stack.resolve(next(iter(schedules.values()))["Properties"])
    minutes = stack.parameter("RevalidationRunMinutes")
    assert props["ScheduleExpression"] == f"rate({minutes} minutes)"
    target = props["Target"]
    assert target["Arn"] == "<RevalidateFunction.Arn>" and target["Input"] == "{}"
    role = target["RoleArn"][1 : -len(".Arn>")]
    statements = stack.identity_statements(role)
    assert grants(statements) == {("lambda:InvokeFunction", "<RevalidateFunction.Arn>")}, (
        "the scheduler may invoke the re-validation and nothing else"
    )
    env = stack.resolve(stack.props("RevalidateFunction")["Environment"]["Variables"])
    assert env["REVALIDATION_INTERVAL_HOURS"] == stack.parameter("RevalidationIntervalHours")
    assert str(stack.parameter("RevalidationIntervalHours")) == "24"
    assert env["REVALIDATION_RUN_MINUTES"] == minutes
    assert env["REVALIDATION_MAX_PER_EXCHANGE"] == stack.parameter("RevalidationMaxPerExchange")
    # one run at a time: overlapping runs would double the per-exchange rate
    assert stack.resolve(stack.props("RevalidateFunction")["ReservedConcurrentExecutions"]) == 1


ALL_CHECKS = [
    check_test_function_leaves_through_output_eips,
    check_only_test_function_in_vpc,
    check_test_function_security_group,
    check_vpc_endpoints,
    check_identity_policies_exact,
    check_no_wildcard_actions_anywhere,
    check_create_secret_conditions,
    check_key_policy,
    check_table,
    check_fingerprint_secret,
    check_functions,
    check_log_groups_and_alarms,
    check_routes_and_authorizer,
    check_stage,
    check_cors,
    check_cors_origins_required,
    check_user_pool,
    check_secret_iam_conditions,
    check_sweeper,
    check_service_metric_alarms,
    check_connection_secret_reads_alarm,
    check_status_event_bus,
    check_revalidation_schedule,
]
