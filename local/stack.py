"""The whole service on one machine: embedded AWS, exchange simulator, local API, real handlers.

Usable in-process (integration tests, benchmarks)::

    with LocalStack() as stack:
        httpx.post(f"{stack.api_url}/connections", headers={"Authorization": "Bearer dev:alice"}, ...)

The functions run in this process, so the stack sets their environment in ``os.environ`` while it
runs and restores the previous values on stop.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from local.api_server import LocalApi
from local.aws import (
    DUMMY_CREDENTIALS,
    EVENT_BUS_ID,
    FINGERPRINT_ID,
    KEY_ID,
    TABLE_ID,
    EmbeddedAws,
    LocalResources,
    create_resources,
)
from local.dev_routes import DevRoutes
from local.functions import FunctionRunner, HandlerLoader, ensure_import_paths, import_handler
from local.template import DEFAULT_TEMPLATE, REGION, FunctionSpec, ServiceTemplate, UnresolvedError
from simulator import all_venues, base_url_variables
from simulator.core import Simulator, Venue

DEFAULT_EGRESS_IPS = "203.0.113.10,203.0.113.11"
SECRET_NAME_PREFIX = "backfuture/local/connections/"  # noqa: S105 - a name prefix

# Exchange base URL variable -> simulator venue.
VENUE_URL_VARS = base_url_variables()
# Settings a developer may set in the shell; their values win over the local defaults.
USER_SETTINGS = ("EGRESS_IPS", "MAX_CONNECTIONS_PER_USER", "TEST_COOLDOWN_S", *VENUE_URL_VARS)
SETTING_DEFAULTS = {"MAX_CONNECTIONS_PER_USER": "20", "TEST_COOLDOWN_S": "10"}

# Would send boto3 to a real account or another endpoint: removed while the stack runs.
# Set by the stack whatever the template says.
LOCAL_VALUES = (
    "TABLE_NAME",
    "KMS_KEY_ID",
    "SECRET_NAME_PREFIX",
    "FINGERPRINT_SECRET_ARN",
    "EGRESS_IPS",
    "POWERTOOLS_TRACE_DISABLED",
    "EVENT_BUS_NAME",
)

_AWS_VARIABLES_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)

_last_moto_port = 0  # reused by later stacks in the process, so a client cached by a handler still works


def aws_environment(moto_url: str) -> dict[str, str | None]:
    """boto3's settings for the embedded AWS; None removes a variable."""
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": moto_url,  # honoured by every boto3 client
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        **DUMMY_CREDENTIALS,
    }
    env.update(dict.fromkeys(_AWS_VARIABLES_TO_CLEAR))
    env.update(dict.fromkeys(name for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")))
    return env


def template_environments(template: ServiceTemplate, resources: LocalResources) -> dict[str, dict[str, str]]:
    """Each function's variables as the template sets them, with this stack's resources filled in.

    A deployment-only value (Elastic IPs, ...) is left out; those the service needs get local values.
    """
    resolver = template.resolver(
        refs={
            TABLE_ID: resources.table_name,
            KEY_ID: resources.key_id,
            FINGERPRINT_ID: resources.fingerprint_secret_arn,
            EVENT_BUS_ID: resources.event_bus_name,
        },
        attrs={
            f"{EVENT_BUS_ID}.Arn": resources.event_bus_arn,
            f"{TABLE_ID}.Arn": resources.table_arn,
            f"{KEY_ID}.Arn": resources.key_arn,
            f"{KEY_ID}.KeyId": resources.key_id,
            f"{FINGERPRINT_ID}.Id": resources.fingerprint_secret_arn,
        },
    )
    environments: dict[str, dict[str, str]] = {}
    for logical_id, function in template.functions().items():
        env = environments[logical_id] = {}
        for name, value in function.environment.items():
            with contextlib.suppress(UnresolvedError):
                env[name] = resolver.resolve_str(value)
    return environments


def shared_environment(environments: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The variables every function has with the same value."""
    values = list(environments.values())
    if not values:
        return {}
    return {
        name: value for name, value in values[0].items() if all(env.get(name) == value for env in values[1:])
    }


def function_environment(
    environments: Mapping[str, Mapping[str, str]],
    resources: LocalResources,
    simulator_url: str,
    user_env: Mapping[str, str],
) -> dict[str, str]:
    """The process environment of all functions: the template's shared variables and local values.

    A function's own variables (POWERTOOLS_SERVICE_NAME, ...) are set while it cold-starts only:
    the functions share this process.
    """
    env = {
        "POWERTOOLS_SERVICE_NAME": "connections",
        "POWERTOOLS_METRICS_NAMESPACE": "BackFuture",
        **shared_environment(environments),
    }
    env.update(
        {  # keep LOCAL_VALUES in step
            "TABLE_NAME": resources.table_name,
            "KMS_KEY_ID": resources.key_arn,
            "SECRET_NAME_PREFIX": SECRET_NAME_PREFIX,
            "FINGERPRINT_SECRET_ARN": resources.fingerprint_secret_arn,
            "EGRESS_IPS": DEFAULT_EGRESS_IPS,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
            # Only the publishing functions have it in the template; the functions share this
            # process, and get_status never publishes.
            "EVENT_BUS_NAME": resources.event_bus_name,
        }
    )
    for name, default in SETTING_DEFAULTS.items():
        env.setdefault(name, default)
    for name, venue in VENUE_URL_VARS.items():
        env[name] = f"{simulator_url}/{venue}"
    for name in USER_SETTINGS:
        if user_env.get(name):
            env[name] = user_env[name]
    return env


class LocalStack:
    """Start with :meth:`start` or ``with``; free ports unless given.

    ``inherit_settings``: the caller's EGRESS_IPS, MAX_CONNECTIONS_PER_USER, TEST_COOLDOWN_S and
    ``*_BASE_URL`` variables win over the local defaults (the command line does this). Off by default,
    so an in-process stack uses its own simulator whatever the test process has set;
    ``env_overrides`` sets any variable explicitly.
    """

    def __init__(
        self,
        *,
        template_path: Path = DEFAULT_TEMPLATE,
        host: str = "127.0.0.1",
        api_port: int = 0,
        simulator_port: int = 0,
        moto_port: int | None = None,
        with_api: bool = True,
        venues: list[Venue] | None = None,
        handler_loader: HandlerLoader = import_handler,
        env_overrides: Mapping[str, str] | None = None,
        inherit_settings: bool = False,
        access_log: bool = False,
    ) -> None:
        self.template = ServiceTemplate.load(template_path)
        self.routes = self.template.routes()
        self._host = host
        self._api_port = api_port
        self._simulator_port = simulator_port
        self._moto_port = moto_port
        self._with_api = with_api
        self._venues = venues
        self._loader = handler_loader
        self._overrides = dict(env_overrides or {})
        self._access_log = access_log
        self._inherit = inherit_settings
        self._saved_env: dict[str, str | None] = {}
        self.aws: EmbeddedAws | None = None
        self.sim: Simulator | None = None
        self.api: LocalApi | None = None
        self.resources: LocalResources | None = None
        self.environment: dict[str, str] = {}
        self.runner: FunctionRunner | None = None

    @property
    def api_url(self) -> str:
        if self.api is None:
            raise RuntimeError("the local API is not running")
        return self.api.url

    @property
    def moto_url(self) -> str:
        if self.aws is None:
            raise RuntimeError("the stack is not running")
        return self.aws.url

    @property
    def simulator_url(self) -> str:
        if self.sim is None:
            raise RuntimeError("the stack is not running")
        return f"http://{self._host}:{self.sim.port}"

    def start(self) -> LocalStack:
        global _last_moto_port
        try:
            user_env = dict(os.environ) if self._inherit else {}
            egress_ips = self._overrides.get("EGRESS_IPS") or user_env.get("EGRESS_IPS") or DEFAULT_EGRESS_IPS
            self.aws = self._start_aws()
            _last_moto_port = int(self.aws.url.rsplit(":", 1)[1])
            # The simulator reads EGRESS_IPS when it is made (the caller's apparent IP).
            self._apply({**aws_environment(self.aws.url), "EGRESS_IPS": egress_ips})
            self.resources = create_resources(self.aws, self.template)
            self.sim = Simulator(
                self._venues if self._venues is not None else all_venues(), self._host, self._simulator_port
            )
            self.sim.start()
            environments = template_environments(self.template, self.resources)
            self.environment = function_environment(
                environments, self.resources, self.simulator_url, user_env
            )
            self.environment.update(self._overrides)
            self._apply(dict(self.environment))
            _forget_cached_configuration(self.template.functions().values())
            ensure_import_paths()
            shared = shared_environment(environments)
            pinned = {*LOCAL_VALUES, *USER_SETTINGS, *self._overrides}
            own = {
                logical_id: {k: v for k, v in env.items() if k not in shared and k not in pinned}
                for logical_id, env in environments.items()
            }
            self.runner = FunctionRunner(self.template.functions(), self._loader, own)
            if self._with_api:
                self.api = LocalApi(
                    self.routes,
                    self.runner,
                    self._host,
                    self._api_port,
                    self._access_log,
                    dev_routes=DevRoutes(self.runner, self.aws, self.resources),
                )
                self.api.start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_aws(self) -> EmbeddedAws:
        if self._moto_port is not None:
            return EmbeddedAws(self._host, self._moto_port).start()
        if _last_moto_port:
            try:
                return EmbeddedAws(self._host, _last_moto_port).start()
            except OSError:
                pass  # taken by something else meanwhile
        return EmbeddedAws(self._host, 0).start()

    def stop(self) -> None:
        """Stop every part that runs (safe to call twice) and restore the environment."""
        errors: list[BaseException] = []
        for part in (self.api, self.sim, self.aws):
            if part is not None:
                try:
                    part.stop()
                except Exception as error:
                    errors.append(error)
        self.api = self.sim = self.aws = None
        for name, value in self._saved_env.items():
            _set_env(name, value)
        self._saved_env.clear()
        _forget_cached_configuration(self.template.functions().values())
        if errors:
            raise errors[0]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Run one function with one event, bypassing the API (``python -m local.invoke``)."""
        if self.runner is None:
            raise RuntimeError("the stack is not running")
        return self.runner.invoke(logical_id, event)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _apply(self, env: Mapping[str, str | None]) -> None:
        for name, value in env.items():
            if name not in self._saved_env:
                self._saved_env[name] = os.environ.get(name)
            _set_env(name, value)


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _forget_cached_configuration(functions: Iterable[FunctionSpec] = ()) -> None:
    """Settings, boto3 clients and services are made once per container; a new stack is a new container.

    Handler modules keep their service in a cached ``service()`` getter (the handlers' convention).
    """
    try:
        from backfuture.aws import reset_clients
        from backfuture.config import settings
    except ImportError:
        return
    settings.cache_clear()
    reset_clients()
    for function in functions:
        module = sys.modules.get(function.module_path)
        service = getattr(module, "service", None)
        if callable(getattr(service, "cache_clear", None)):
            service.cache_clear()  # type: ignore[union-attr]
