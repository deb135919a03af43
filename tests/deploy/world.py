"""One simulated AWS world: a clock, the fake services, IAM, Lambda, EventBridge and CloudFormation, wired up."""

from __future__ import annotations

import contextlib
import io
import json
import urllib.error
import urllib.request
from typing import Any
from unittest import mock

from tests.deploy.aws import Bridge
from tests.deploy.clock import Clock
from tests.deploy.cloudformation import SUCCEEDED, Engine, OperationRefused, StackTemplate
from tests.deploy.iam import Iam
from tests.deploy.runtime import EventBridge, LambdaRuntime
from tests.deploy.services import (
    S3,
    Bedrock,
    BedrockRuntime,
    CloudFormation,
    CloudWatch,
    Events,
    Faults,
    Ssm,
)

DEFAULT_ACCOUNT = "123456789012"
# What `cdk bootstrap` leaves in SSM: the bootstrap stack's version, which every CDK template checks.
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"


class World:
    def __init__(self) -> None:
        self.clock = Clock()
        self.iam = Iam()
        self.faults = Faults()
        self.bridge = Bridge(self)
        self.s3 = S3(self)
        self.ssm = Ssm(self)
        self.bedrock = Bedrock(self)
        self.services = {
            service.name: service
            for service in (
                self.s3,
                self.ssm,
                self.bedrock,
                BedrockRuntime(self),
                Events(self),
                CloudWatch(self),
                CloudFormation(self),
            )
        }
        self.eventbridge = EventBridge(self)
        self.runtime = LambdaRuntime(self)
        self.engine = Engine(self)
        self.exports: dict[tuple[str, str, str], tuple[str, Any]] = {}
        self.layers: dict[str, Any] = {}
        self.state_machines: dict[str, dict[str, Any]] = {}
        self.calls: list = []
        self.denials: list[str] = []
        self.caller = None  # the Function being invoked, if any

    # -- what the bridge asks ----------------------------------------------------------------------------------------
    def current_function(self) -> str | None:
        return self.caller.name if self.caller else None

    def account_of_caller(self) -> str:
        return self.caller.account if self.caller else DEFAULT_ACCOUNT

    def waiter_schedule(self, state_machine_arn: str) -> tuple[float, int]:
        """The Provider's isComplete interval and retries, read from its waiter state machine definition."""
        definition = self.state_machines[state_machine_arn]
        task = definition["States"][definition["StartAt"]]
        retry = task["Retry"][0]
        return float(retry["IntervalSeconds"]), int(retry["MaxAttempts"])

    def engine_deleted(self, resource_type: str) -> list[tuple[str | None, dict[str, Any]]]:
        return [(pid, props) for kind, pid, props in self.engine.deleted_resources if kind == resource_type]

    def engine_deleted_jobs(self):
        return self.engine_deleted("Custom::BedrockDistillationJob")

    def engine_deleted_copies(self):
        return self.engine_deleted("Custom::BedrockModelCopy")

    def bootstrap(self, account: str, region: str) -> None:
        self.ssm.set(region, BOOTSTRAP_VERSION_PARAMETER, "30")

    # -- the wait condition handles' presigned URLs --------------------------------------------------------------
    def urlopen(self, request, timeout=None):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        handle = self.engine.handles.get(url)
        if handle is None:
            raise AssertionError(f"A handler opened {url}, which is no wait condition handle the simulator knows")
        if request.get_method() != "PUT":
            raise urllib.error.HTTPError(url, 403, "Forbidden", {}, io.BytesIO(b""))
        body = json.loads(request.data)
        stack = self.engine.stack_by_name_or_id(handle.stack_id)
        condition_waiting = stack is not None and any(
            r.type == "AWS::CloudFormation::WaitCondition" and r.status == "CREATE_IN_PROGRESS"
            for r in stack.resources.values()
        )
        if body["UniqueId"] in handle.signals and not condition_waiting:
            handle.late_signals += 1
        handle.signals[body["UniqueId"]] = body
        return _Response(200)

    @contextlib.contextmanager
    def active(self):
        """Route handlers' signals to the simulated handles while the world runs."""
        self.bridge.activate()
        try:
            with mock.patch.object(urllib.request, "urlopen", self.urlopen):
                yield self
        finally:
            self.bridge.deactivate()

    # -- stack operations as the CDK CLI runs them -------------------------------------------------------------------
    def deploy(self, stacks: list[StackTemplate]) -> dict[str, str]:
        """``cdk deploy`` of these stacks in order; it stops at the first that does not succeed."""
        results: dict[str, str] = {}
        for stack in stacks:
            self.bootstrap(stack.account, stack.region)
            try:
                status = self.engine.deploy(stack)
            except OperationRefused as refused:
                results[stack.name] = f"REFUSED: {refused}"
                break
            results[stack.name] = status
            deleted = self.engine.finish_pending_destroy(stack.name)
            if deleted is not None:
                results[stack.name] = f"{status}, then {deleted}"
                break
            if status not in SUCCEEDED:
                break
        return results

    def destroy(self, names: list[str]) -> dict[str, str]:
        """``cdk destroy`` of these stacks, in the order given (dependents first)."""
        results: dict[str, str] = {}
        for name in names:
            try:
                results[name] = self.engine.delete(name)
            except OperationRefused as refused:
                results[name] = f"REFUSED: {refused}"
                break
            if results[name] != "DELETE_COMPLETE":
                break
        return results

    def advance(self, seconds: float) -> None:
        """Let time pass with no stack operation: jobs run, schedules fire, events are delivered."""
        self.clock.run_until(self.clock.now + seconds)


class _Response:
    def __init__(self, status: int) -> None:
        self.status = status

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None
