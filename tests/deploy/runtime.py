"""Lambda and EventBridge as the handlers meet them: the deployed code, its environment, its timeout, its triggers.

A function is the code CDK packaged for it (the asset directory in the cloud assembly, not the source folder), with
its layers on the path, its environment variables, and the role the template gives it. Each function gets its own
module instances, loaded once per code version as at a Lambda cold start, and its botocore session goes to the fake
AWS (``aws.Bridge``). An invocation ends at the function's timeout, whatever the code is doing.

EventBridge delivers matching events to its targets asynchronously and at least once; Lambda retries a failed
asynchronous invocation twice (Lambda developer guide, "Asynchronous invocation", read 2026-11-30). Scheduled rules
fire at their rate from their creation.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import os
import re
import sys
import time as real_time
import types
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from tests.deploy.aws import shared_session
from tests.deploy.clock import InvocationTimedOut

# Lambda retries a failed asynchronous invocation twice, waiting about one and then two minutes.
ASYNC_RETRY_DELAYS = (60, 120)
RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


@dataclass
class Function:
    name: str
    arn: str
    account: str
    region: str
    handler: str
    runtime: str
    code: Path | None
    layers: list[Path]
    environment: dict[str, str]
    role_name: str
    timeout: int
    version: int = 1


@dataclass
class Invocation:
    result: Any = None
    error: str | None = None


class LambdaContext:
    """The parts of the Lambda context object handlers use."""

    def __init__(self, function: Function, clock, deadline: float) -> None:
        self.function_name = function.name
        self.invoked_function_arn = function.arn
        self.aws_request_id = str(uuid.uuid4())
        self._clock = clock
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now) * 1000))


class _SimulatedTime(types.ModuleType):
    """The ``time`` module as a handler sees it: the simulated clock, everything else real."""

    def __init__(self, clock) -> None:
        super().__init__("time")
        self._clock = clock

    def time(self) -> float:
        return self._clock.time()

    def monotonic(self) -> float:
        return self._clock.monotonic()

    def sleep(self, seconds: float) -> None:
        self._clock.sleep(seconds)

    def __getattr__(self, name):
        return getattr(real_time, name)


class LambdaRuntime:
    def __init__(self, world) -> None:
        self.world = world
        self.functions: dict[str, Function] = {}
        self._by_arn: dict[str, str] = {}
        self._instances: dict[str, tuple[int, types.ModuleType]] = {}
        self._loads = itertools.count()
        self.invocations: list[tuple[str, float, str | None]] = []  # (function, when, error)

    def register(self, function: Function) -> None:
        previous = self.functions.get(function.name)
        if previous is not None and previous != function:
            function.version = previous.version + 1
        self.functions[function.name] = function
        self._by_arn[function.arn] = function.name

    def remove(self, name: str) -> None:
        function = self.functions.pop(name, None)
        if function is not None:
            self._by_arn.pop(function.arn, None)
            self._instances.pop(name, None)

    def by_arn(self, arn: str) -> Function | None:
        name = self._by_arn.get(arn.split(":$", 1)[0])
        return self.functions.get(name) if name else None

    # -- invocation ------------------------------------------------------------------------------------------------
    def invoke(self, arn: str, payload: dict[str, Any]) -> Invocation:
        function = self.by_arn(arn)
        if function is None:
            return Invocation(error=f"Function not found: {arn}")
        clock = self.world.clock
        started = clock.now
        deadline = started + function.timeout
        outcome = Invocation()
        with self._environment(function), clock.deadline(deadline):
            try:
                module = self._instance(function)
                entry = getattr(module, function.handler.rsplit(".", 1)[1])
                result = entry(json.loads(json.dumps(payload)), LambdaContext(function, clock, deadline))
                outcome.result = json.loads(json.dumps(result))
            except InvocationTimedOut:
                outcome.error = f"Task timed out after {function.timeout:.2f} seconds"
            except Exception as error:  # Lambda reports any exception as the invocation's errorMessage
                outcome.error = str(error) or type(error).__name__
        self.invocations.append((function.name, started, outcome.error))
        return outcome

    def invoke_async(self, arn: str, payload: dict[str, Any], attempt: int = 0) -> None:
        outcome = self.invoke(arn, payload)
        if outcome.error is not None and attempt < len(ASYNC_RETRY_DELAYS):
            self.world.clock.call_later(
                ASYNC_RETRY_DELAYS[attempt], lambda: self.invoke_async(arn, payload, attempt + 1)
            )

    @contextlib.contextmanager
    def _environment(self, function: Function):
        saved = dict(os.environ)
        os.environ.update(function.environment)
        os.environ.update(
            {
                "AWS_REGION": function.region,
                "AWS_DEFAULT_REGION": function.region,
                "AWS_ACCESS_KEY_ID": "simulated",
                "AWS_SECRET_ACCESS_KEY": "simulated",
                "AWS_LAMBDA_FUNCTION_NAME": function.name,
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        previous = self.world.caller
        self.world.caller = function
        try:
            yield
        finally:
            self.world.caller = previous
            os.environ.clear()
            os.environ.update(saved)

    def _instance(self, function: Function) -> types.ModuleType:
        cached = self._instances.get(function.name)
        if cached is not None and cached[0] == function.version:
            return cached[1]
        module = self._load(function)
        self._instances[function.name] = (function.version, module)
        return module

    def _load(self, function: Function) -> types.ModuleType:
        """Import the function's module as a cold start does: from its code and its layers, every module fresh."""
        if function.code is None:
            raise AssertionError(f"{function.name} has no code the simulator can run ({function.runtime})")
        module_name, _ = function.handler.rsplit(".", 1)
        paths = [str(function.code)] + [
            str(layer / "python")
            for layer in function.layers
            if (layer / "python").is_dir() and not _is_sdk_layer(layer / "python")
        ]
        ours = {Path(p).resolve() for p in paths}
        # Copies of the layer's modules that the process already imported (the handler tests do) are set aside, so
        # that this function gets fresh ones, with the simulated clock, like a cold start.
        shadowed = {name: sys.modules.pop(name) for name in self._names_in(paths) if name in sys.modules}
        before = set(sys.modules)
        sys.path[:0] = paths
        try:
            # The layer module makes its session at import; every handler client comes from it, and so to the fake.
            with mock.patch("botocore.session.get_session", shared_session):
                spec = importlib.util.spec_from_file_location(
                    f"simulated_{next(self._loads)}_{module_name}", function.code / f"{module_name}.py"
                )
                assert spec and spec.loader
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            loaded = [module] + [sys.modules[name] for name in set(sys.modules) - before]
            for each in loaded:
                source = getattr(each, "__file__", None)
                if (
                    source
                    and Path(source).resolve().parent in ours
                    and isinstance(each.__dict__.get("time"), types.ModuleType)
                ):
                    each.time = _SimulatedTime(self.world.clock)
            return module
        finally:
            del sys.path[: len(paths)]
            for name in set(sys.modules) - before:
                source = getattr(sys.modules[name], "__file__", None)
                if source and Path(source).resolve().parent in ours:
                    del sys.modules[name]
            sys.modules.update(shadowed)

    @staticmethod
    def _names_in(paths: list[str]) -> set[str]:
        return {py.stem for path in paths for py in Path(path).glob("*.py")}


def _is_sdk_layer(path: Path) -> bool:
    """The layer with the pinned boto3: the tests run against the same pin (lambda/requirements.txt matches
    requirements.txt, which a handler test checks), so the process's own botocore stands in for it."""
    if not (path / "botocore").is_dir():
        return False
    import botocore

    layer_version = next(path.glob("botocore-*.dist-info")).name.removesuffix(".dist-info").split("-")[1]
    if layer_version != botocore.__version__:
        raise AssertionError(f"The handlers' layer has botocore {layer_version}, the tests {botocore.__version__}")
    return True


# -- EventBridge ---------------------------------------------------------------------------------------------------
@dataclass
class Rule:
    name: str
    arn: str
    account: str
    region: str
    pattern: dict[str, Any] | None
    schedule_seconds: float | None
    enabled: bool
    targets: list[dict[str, Any]]
    generation: int = 0
    deliveries: list[float] = field(default_factory=list)


class EventBridge:
    def __init__(self, world) -> None:
        self.world = world
        self.rules: dict[tuple[str, str], Rule] = {}
        self.notifications: list[dict[str, Any]] = []  # what reached SNS topic targets
        self.dropped: list[dict[str, Any]] = []
        # A scenario sets this to lose events: Bedrock delivers them "on a best-effort basis" (user guide,
        # monitoring-eventbridge.html, read 2026-11-30).
        self.drop_events = False
        self._generations = itertools.count(1)

    def put_rule(self, rule: Rule) -> None:
        rule.generation = next(self._generations)
        self.rules[(rule.region, rule.name)] = rule
        if rule.schedule_seconds:
            self._schedule(rule, rule.generation)

    def delete_rule(self, region: str, name: str) -> None:
        self.rules.pop((region, name), None)

    def _schedule(self, rule: Rule, generation: int) -> None:
        def fire() -> None:
            current = self.rules.get((rule.region, rule.name))
            if current is None or current.generation != generation:
                return
            if current.enabled:
                self._deliver(current, {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
            self._schedule(current, generation)

        self.world.clock.call_later(rule.schedule_seconds, fire)

    def put_event(self, account: str, region: str, event: dict[str, Any]) -> None:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "account": account,
            "region": region,
            "time": self.world.clock.now,
            **event,
        }
        if self.drop_events:
            self.dropped.append(event)
            return
        for rule in list(self.rules.values()):
            mine = (rule.account, rule.region) == (account, region) and rule.enabled and rule.pattern
            if mine and matches(rule.pattern, event):
                self.world.clock.call_later(1, lambda rule=rule: self._deliver(rule, event))

    def _deliver(self, rule: Rule, event: dict[str, Any]) -> None:
        rule.deliveries.append(self.world.clock.now)
        payload = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "account": rule.account,
            "region": rule.region,
            "time": "1970-01-01T00:00:00Z",
            "resources": [rule.arn],
            **{k: v for k, v in event.items() if k != "time"},
        }
        for target in rule.targets:
            arn = target["Arn"]
            if ":lambda:" in arn:
                self.world.runtime.invoke_async(arn, payload)
            elif ":sns:" in arn:
                self.notifications.append({"topic": arn, "event": payload})


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge event pattern matching for the operators the templates use (exact values, prefix, anything-but,
    exists, nested fields), per the EventBridge user guide, "Event patterns" (read 2026-11-30)."""
    for key, expected in pattern.items():
        present = key in event
        actual = event.get(key)
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or not matches(expected, actual):
                return False
            continue
        if not any(_value_matches(rule, present, actual) for rule in expected):
            return False
    return True


def _value_matches(rule, present: bool, actual) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    if isinstance(rule, dict):
        ((operator, argument),) = rule.items()
        if operator == "exists":
            return present == argument
        if not present:
            return False
        if operator == "prefix":
            return any(isinstance(v, str) and v.startswith(argument) for v in values)
        if operator == "anything-but":
            excluded = argument if isinstance(argument, list) else [argument]
            return all(v not in excluded for v in values)
        raise AssertionError(f"The EventBridge simulator has no pattern operator {operator}")
    return present and rule in values


def rate_seconds(expression: str) -> float:
    match = RATE.fullmatch(expression)
    if match is None:
        raise AssertionError(f"The EventBridge simulator reads only rate() schedules, not {expression!r}")
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]
