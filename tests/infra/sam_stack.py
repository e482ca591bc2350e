"""infra/template.yaml translated to CloudFormation the way AWS does it, offline, for assertions.

The SAM transform runs locally (samtranslator, the library behind AWS::Serverless-2016-10-31);
managed-policy lookups are stubbed because the template attaches AWS managed policies by ARN only.
Intrinsic functions are then evaluated against fixed pseudo parameters: references to resources
stay symbolic (``<Ref X>``, ``<X.Arn>``), so assertions compare plain strings and IAM patterns can be
matched against real secret ARNs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from samtranslator.translator.transform import transform  # type: ignore[import-untyped,import-not-found,unused-ignore]
from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-untyped,import-not-found,unused-ignore]

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "infra" / "template.yaml"

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "bf-test"
CORS_ORIGINS = "https://app.backfuture.example,https://staging.backfuture.example"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": STACK,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


class _NoManagedPolicies:
    """The transform asks for AWS managed policy ARNs only for policy names; the template uses ARNs."""

    def load(self) -> dict[str, str]:
        return {}


def load_sam() -> dict[str, Any]:
    return cast(dict[str, Any], yaml_parse(TEMPLATE_PATH.read_text(encoding="utf-8")))


def translate(sam: Mapping[str, Any], parameters: Mapping[str, Any] | None = None) -> Stack:
    document = copy.deepcopy(dict(sam))
    for resource in document.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        # Local folders become S3 locations at `sam package`; the transform accepts only the latter.
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = f"s3://artifacts/{key}"
    values = dict(parameters or {})
    # CloudFormation hands list parameters to the transform as lists.
    for name, definition in (document.get("Parameters") or {}).items():
        if definition.get("Type") == "CommaDelimitedList" and isinstance(values.get(name), str):
            values[name] = values[name].split(",")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", REGION)  # the transform derives the partition from it
        cfn = transform(document, {**values, **PSEUDO}, _NoManagedPolicies())
    return Stack(cfn, values)


@dataclass
class Stack:
    """A translated template plus the parameter values it was translated with."""

    cfn: dict[str, Any]
    parameters: dict[str, Any]

    # --- resources -----------------------------------------------------------------------------

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return cast(dict[str, dict[str, Any]], self.cfn["Resources"])

    def resource(self, logical_id: str, resource_type: str | None = None) -> dict[str, Any]:
        assert logical_id in self.resources, f"{logical_id} is missing from the translated template"
        resource = self.resources[logical_id]
        if resource_type is not None:
            assert resource["Type"] == resource_type, (
                f"{logical_id} is {resource['Type']}, not {resource_type}"
            )
        return resource

    def props(self, logical_id: str, resource_type: str | None = None) -> dict[str, Any]:
        return cast(dict[str, Any], self.resource(logical_id, resource_type).get("Properties", {}))

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def created(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    # --- intrinsic functions -------------------------------------------------------------------

    def parameter(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        definition = self.cfn["Parameters"][name]
        default = definition.get("Default")
        if definition.get("Type") == "CommaDelimitedList" and isinstance(default, str):
            return default.split(",")
        return default

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.cfn["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        """Evaluates intrinsics; a resource reference becomes ``<Ref X>`` or ``<X.Attr>``."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value if not _is_no_value(item)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return self._ref(arg)
            if name == "Fn::GetAtt":
                target, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return f"<{target}.{attribute}>"
            if name == "Fn::Sub":
                return self._sub(arg)
            if name == "Fn::Join":
                separator, items = arg
                return separator.join(str(item) for item in self.resolve(items))
            if name == "Fn::Split":
                separator, text = arg
                return str(self.resolve(text)).split(separator)
            if name == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if name == "Fn::If":
                condition, when_true, when_false = arg
                chosen = when_true if self.condition(condition) else when_false
                return None if _is_no_value(chosen) else self.resolve(chosen)
            if name == "Fn::Equals":
                left, right = (self.resolve(item) for item in arg)
                return _scalar(left) == _scalar(right)
            if name == "Fn::Not":
                return not self.resolve(arg[0])
            if name == "Fn::And":
                return all(self.resolve(item) for item in arg)
            if name == "Fn::Or":
                return any(self.resolve(item) for item in arg)
            if name == "Condition":
                return self.condition(arg)
            if name in ("Fn::GetAZs", "Fn::Cidr"):
                return f"<{name} {arg!r}>"
        return {key: self.resolve(item) for key, item in value.items() if not _is_no_value(item)}

    def _ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in (self.cfn.get("Parameters") or {}):
            return self.parameter(name)
        return f"<Ref {name}>"

    def _sub(self, arg: Any) -> str:
        text, variables = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return f"<{name}>"
            return str(_scalar(self._ref(name)))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # --- IAM -----------------------------------------------------------------------------------

    def identity_statements(self, role_id: str) -> list[dict[str, Any]]:
        """Every statement of the role's own inline policies and of AWS::IAM::Policy resources on it."""
        statements: list[dict[str, Any]] = []
        for policy in self.props(role_id, "AWS::IAM::Role").get("Policies", []):
            statements += self.resolve(policy["PolicyDocument"])["Statement"]
        for props in (r.get("Properties", {}) for r in self.of_type("AWS::IAM::Policy").values()):
            if {"Ref": role_id} in props.get("Roles", []):
                statements += self.resolve(props["PolicyDocument"])["Statement"]
        for props in (r.get("Properties", {}) for r in self.of_type("AWS::IAM::ManagedPolicy").values()):
            if {"Ref": role_id} in props.get("Roles", []):
                statements += self.resolve(props["PolicyDocument"])["Statement"]
        return statements

    def managed_policy_arns(self, role_id: str) -> list[str]:
        return [
            str(arn)
            for arn in self.resolve(self.props(role_id, "AWS::IAM::Role").get("ManagedPolicyArns", []))
        ]

    def key_statements(self, key_id: str) -> list[dict[str, Any]]:
        return cast(
            list[dict[str, Any]], self.resolve(self.props(key_id, "AWS::KMS::Key")["KeyPolicy"])["Statement"]
        )

    def key_statements_for(self, key_id: str, role_id: str) -> list[dict[str, Any]]:
        principal = f"<{role_id}.Arn>"
        return [
            s
            for s in self.key_statements(key_id)
            if isinstance(s.get("Principal"), dict) and principal in as_list(s["Principal"].get("AWS"))
        ]

    # --- API -----------------------------------------------------------------------------------

    def api_operations(self, api_id: str = "HttpApi") -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(METHOD, path, OpenAPI operation) of every route the transform put into the API's body."""
        body = self.props(api_id, "AWS::ApiGatewayV2::Api")["Body"]
        for path, methods in body["paths"].items():
            for method, operation in methods.items():
                yield method.upper(), path, operation


def _is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def iam_pattern_matches(pattern: str, value: str) -> bool:
    """IAM's ARN and StringLike matching: ``*`` any run of characters, ``?`` exactly one."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) for every Allow statement, one pair per action and resource."""
    pairs = set()
    for statement in statements:
        assert statement["Effect"] == "Allow", f"unexpected {statement['Effect']} statement: {statement}"
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                pairs.add((action, str(resource)))
    return pairs
