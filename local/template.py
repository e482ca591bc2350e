"""infra/template.yaml as the local stack reads it: the one source of its resources, routes and settings.

The template is SAM YAML with CloudFormation short-form tags (``!Ref``, ``!Sub``, ``!GetAtt``, ...).
They are loaded as opaque :class:`Intrinsic` objects and resolved only where the local stack knows
the answer (its own resource names, parameter defaults, pseudo parameters); anything else stays
unresolved and the caller falls back to a local value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "infra" / "template.yaml"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
# Makes the template's names come out as the service's local defaults: backfuture/local/connections/...
STACK_NAME = "local"


class TemplateError(Exception):
    """The template lacks something the local stack needs (named in the message)."""


class UnresolvedError(Exception):
    """An intrinsic function whose value only CloudFormation knows."""


@dataclass(frozen=True)
class Intrinsic:
    """A short-form tag such as ``!Ref X``: ``Intrinsic("Ref", "X")``."""

    name: str
    value: Any


class _TemplateLoader(yaml.SafeLoader):
    pass


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Intrinsic:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    return Intrinsic(suffix, value)


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


def load_yaml(text: str) -> dict[str, Any]:
    document = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict):
        raise TemplateError("the template is not a YAML mapping")
    return document


# --- intrinsic functions -------------------------------------------------------------------------

_NO_VALUE = object()  # AWS::NoValue: the property is dropped
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@dataclass
class Resolver:
    """Resolves intrinsics against known values; raises :class:`UnresolvedError` for everything else."""

    refs: dict[str, str] = field(default_factory=dict)  # logical id, parameter or pseudo parameter
    attrs: dict[str, str] = field(default_factory=dict)  # "LogicalId.Attribute"
    conditions: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Intrinsic):
            return self._call(value.name, value.value)
        if isinstance(value, dict):
            if len(value) == 1:
                (key,) = value
                if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                    return self._call(key.removeprefix("Fn::"), value[key])
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not _NO_VALUE]
        return value

    def resolve_str(self, value: Any) -> str:
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, (str, int, float)):
            return str(resolved)
        raise UnresolvedError(repr(value))

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.refs:
            return self.refs[name]
        raise UnresolvedError(f"Ref {name}")

    def _call(self, name: str, arg: Any) -> Any:
        if name == "Ref":
            return self._ref(str(arg))
        if name == "GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else [str(part) for part in arg]
            key = ".".join(parts)
            if key in self.attrs:
                return self.attrs[key]
            raise UnresolvedError(f"GetAtt {key}")
        if name == "Sub":
            return self._sub(arg)
        if name == "Join":
            separator, items = arg
            return str(separator).join(self.resolve_str(item) for item in self.resolve(items))
        if name == "Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if name == "If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self._condition(str(condition)) else when_false)
        if name in ("Equals", "Not", "And", "Or", "Condition"):
            return self._evaluate(name, arg)
        raise UnresolvedError(f"Fn::{name}")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = str(arg[0]), {k: self.resolve_str(v) for k, v in arg[1].items()}
        else:
            text, variables = str(arg), {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is written out as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return variables[name]
            if "." in name and not name.startswith("AWS::"):
                return self.resolve_str(Intrinsic("GetAtt", name))
            return self.resolve_str(Intrinsic("Ref", name))

        return _SUB_VARIABLE.sub(replace, text)

    def _condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise UnresolvedError(f"Condition {name}")
        return bool(self.resolve(self.conditions[name]))

    def _evaluate(self, name: str, arg: Any) -> bool:
        if name == "Condition":
            return self._condition(str(arg))
        if name == "Equals":
            left, right = (self.resolve_str(item) for item in arg)
            return left == right
        if name == "Not":
            return not self.resolve(arg[0])
        if name == "And":
            return all(self.resolve(item) for item in arg)
        return any(self.resolve(item) for item in arg)


# --- what the local stack takes from the template ------------------------------------------------


@dataclass(frozen=True)
class HttpRoute:
    method: str  # upper case, or "ANY"
    path: str  # "/connections/{id}", or "$default"
    function: str  # logical id
    public: bool  # `Auth: {Authorizer: NONE}`: no JWT needed

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    function_name: str
    code_dir: str  # the folder name under functions/, from CodeUri ../functions/<name>/
    handler_module: str  # "app" of Handler "app.lambda_handler"
    handler_name: str  # "lambda_handler"
    timeout_s: int
    memory_mb: int
    environment: dict[str, Any]  # unresolved, as written (Globals merged in)

    @property
    def module_path(self) -> str:
        return f"functions.{self.code_dir}.{self.handler_module}"


@dataclass(frozen=True)
class ServiceTemplate:
    document: dict[str, Any]
    path: Path | None = None

    @classmethod
    def load(cls, path: Path = DEFAULT_TEMPLATE) -> ServiceTemplate:
        if not path.is_file():
            raise TemplateError(f"{path} does not exist")
        return cls(load_yaml(path.read_text(encoding="utf-8")), path)

    @property
    def resources(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.document.get("Resources") or {})

    def resource(self, logical_id: str, expected_type: str) -> dict[str, Any]:
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict):
            raise TemplateError(f"the template has no resource {logical_id}")
        if resource.get("Type") != expected_type:
            raise TemplateError(f"{logical_id} is {resource.get('Type')}, expected {expected_type}")
        return cast(dict[str, Any], resource.get("Properties") or {})

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: cast(dict[str, Any], resource.get("Properties") or {})
            for logical_id, resource in self.resources.items()
            if isinstance(resource, dict) and resource.get("Type") == resource_type
        }

    def resolver(
        self, refs: Mapping[str, str] | None = None, attrs: Mapping[str, str] | None = None
    ) -> Resolver:
        """A resolver knowing the pseudo parameters, parameter defaults and the given values."""
        known = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        for name, parameter in (self.document.get("Parameters") or {}).items():
            if isinstance(parameter, dict) and "Default" in parameter:
                default = parameter["Default"]
                known[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
        known.update(refs or {})
        return Resolver(known, dict(attrs or {}), self.document.get("Conditions") or {})

    def functions(self) -> dict[str, FunctionSpec]:
        defaults = (self.document.get("Globals") or {}).get("Function") or {}
        specs = {}
        resolver = self.resolver()
        for logical_id, props in self.of_type("AWS::Serverless::Function").items():
            code_uri = props.get("CodeUri", defaults.get("CodeUri"))
            handler = props.get("Handler", defaults.get("Handler"))
            if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
                raise TemplateError(f"{logical_id} needs a literal CodeUri and Handler (module.function)")
            module, _, name = handler.rpartition(".")
            environment = dict(((defaults.get("Environment") or {}).get("Variables")) or {})
            environment.update(((props.get("Environment") or {}).get("Variables")) or {})
            try:
                function_name = resolver.resolve_str(props["FunctionName"])
            except (KeyError, UnresolvedError):
                function_name = f"{STACK_NAME}-{logical_id}"
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                function_name=function_name,
                code_dir=Path(code_uri.rstrip("/")).name,
                handler_module=module,
                handler_name=name,
                timeout_s=int(props.get("Timeout", defaults.get("Timeout", 3))),
                memory_mb=int(props.get("MemorySize", defaults.get("MemorySize", 128))),
                environment=environment,
            )
        return specs

    def route_functions(self) -> dict[tuple[str, str], str]:
        """(method, path) -> the function's folder under functions/, for every HttpApi route."""
        functions = self.functions()
        return {(r.method, r.path): functions[r.function].code_dir for r in self.routes()}

    def routes(self) -> list[HttpRoute]:
        routes = []
        for logical_id, props in self.of_type("AWS::Serverless::Function").items():
            for event in (props.get("Events") or {}).values():
                if not isinstance(event, dict) or event.get("Type") != "HttpApi":
                    continue
                properties = event.get("Properties") or {}
                path, method = properties.get("Path", "$default"), properties.get("Method", "ANY")
                if not isinstance(path, str) or not isinstance(method, str):
                    raise TemplateError(f"{logical_id}: HttpApi Path and Method must be literal strings")
                authorizer = (properties.get("Auth") or {}).get("Authorizer")
                routes.append(
                    HttpRoute(
                        method=method.upper() if method.lower() != "any" else "ANY",
                        path=path,
                        function=logical_id,
                        public=authorizer == "NONE",
                    )
                )
        return routes
