"""Loading handler modules from lambda/ the way the Lambda runtime does, with their clients stubbed."""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import sys
import time
from pathlib import Path
from types import ModuleType

import botocore.httpsession
import botocore.session
import botocore.validate
import pytest
from botocore.stub import Stubber

LAMBDA_ROOT = Path(__file__).resolve().parents[2] / "lambda"
EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"
# The shared layer's modules sit on the Lambda runtime's path (/opt/python); tests put them on sys.path likewise.
SHARED_LAYER = LAMBDA_ROOT / "shared" / "python"
if str(SHARED_LAYER) not in sys.path:
    sys.path.insert(0, str(SHARED_LAYER))

# The Provider framework's physical id for a Create that failed before the handler returned one.
CREATE_FAILED = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch):
    """What the Lambda runtime provides; fake credentials so no test can reach a real account."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def application_log_level(caplog):
    """The root logger at the functions' application log level, INFO, as the Lambda runtime sets it before it imports
    a handler (handlers set none of their own: lambda/shared/python/request_log.py)."""
    caplog.set_level(logging.INFO)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """No test reaches AWS: a call on a client with no Stubber fails at once, naming the request, instead of
    retrying a DNS lookup that this machine cannot make (and that CI would spend minutes on)."""

    def refuse(self, request):
        raise AssertionError(f"a handler called AWS without a stubbed client: {request.method} {request.url}")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", refuse)


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch):
    """No test sleeps: a handler that waits must be given the ``context`` fixture, whose clock its sleeps move."""

    def refuse(seconds):
        if seconds > 0:
            raise AssertionError(f"a handler slept {seconds} s in a test without the Lambda context fixture")

    monkeypatch.setattr(time, "sleep", refuse)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so that fixtures can see whether the test itself passed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


class LambdaContext:
    """The Lambda context object as the handlers read it: the time left before Lambda ends the invocation.

    ``sleep`` stands in for ``time.sleep`` (the ``context`` fixture patches it): it records each wait and takes it
    from the time left, so a handler that retries until its time runs out does so here in no time at all.
    """

    def __init__(self, remaining_seconds: float) -> None:
        self.remaining_seconds = remaining_seconds
        self.slept: list[float] = []

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.remaining_seconds * 1000))

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.remaining_seconds -= seconds


@pytest.fixture
def context(monkeypatch) -> LambdaContext:
    """A fresh invocation of a function with a 900-second timeout (the distillation job's); ``time.sleep`` moves its
    clock instead of sleeping."""
    lambda_context = LambdaContext(900)
    monkeypatch.setattr(time, "sleep", lambda_context.sleep)
    return lambda_context


@pytest.fixture
def stub(request):
    """``stub(client)`` activates a Stubber on the client for the test; afterwards every queued answer must have
    been asked for (checked only when the test passed: a failed or expected-to-fail test already says why)."""
    active: list[Stubber] = []

    def activate(client) -> Stubber:
        stubber = Stubber(client)
        stubber.activate()
        active.append(stubber)
        return stubber

    yield activate
    for stubber in active:
        stubber.deactivate()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.passed:
        for stubber in active:
            stubber.assert_no_pending_responses()


@pytest.fixture
def bedrock(stub):
    """A Bedrock client of the test's own with a Stubber (``bedrock.stubber``), for the shared modules' functions."""
    client = botocore.session.get_session().create_client("bedrock", region_name="us-west-2")
    client.stubber = stub(client)
    return client


@pytest.fixture
def cloudformation(stub):
    """A CloudFormation client of the test's own with a Stubber (``cloudformation.stubber``)."""
    client = botocore.session.get_session().create_client("cloudformation", region_name="us-west-2")
    client.stubber = stub(client)
    return client


def record_calls(*clients) -> list[str]:
    """The operations asked of ``clients`` from now on, in order across all of them, as ``service.Operation``
    (``ssm.PutParameter``): Stubber checks each client's own order, this the order between clients. A call whose
    answer ``lose_answers`` loses never reaches the client and is not recorded."""
    calls: list[str] = []

    def record(model, **_):
        calls.append(f"{model.service_model.service_name}.{model.name}")

    for client in clients:
        client.meta.events.register("before-parameter-build", record)
    return calls


def load_handler(folder: str, module: str = "index") -> ModuleType:
    """Import lambda/<folder>/<module>.py fresh, under a unique name, as the runtime would at cold start."""
    path = LAMBDA_ROOT / folder / f"{module}.py"
    name = f"handler_{folder}_{module}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def event(name: str, **changes) -> dict:
    """An event fixture from tests/fixtures/events, with top-level keys replaced."""
    loaded = json.loads((EVENTS / f"{name}.json").read_text())
    return {**copy.deepcopy(loaded), **changes}


def rollback_of(forward: dict, *, physical_id: str) -> dict:
    """The Update CloudFormation sends to roll back the Update ``forward``: its old properties as the new ones and
    the reverse (aws-cdk docs/CLOUDFORMATION.md, read 2026-11-30), with the physical id the stack holds by then."""
    return {
        **copy.deepcopy(forward),
        "RequestId": forward["RequestId"][:-4] + "0b0b",
        "PhysicalResourceId": physical_id,
        "ResourceProperties": copy.deepcopy(forward["OldResourceProperties"]),
        "OldResourceProperties": copy.deepcopy(forward["ResourceProperties"]),
    }


def lose_answers(monkeypatch, client, method: str, error: Exception, times: int = 1, *, after: int = 0) -> list[dict]:
    """After the first ``after`` calls of ``client.<method>``, the next ``times`` end with ``error`` (a timeout, an
    unreachable endpoint: what Stubber cannot answer) once their request is checked against the service model as
    Stubber would; every other call goes to the Stubber. Returns the requests that were lost."""
    stubbed = getattr(client, method)
    operation = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[method])
    lost: list[dict] = []
    calls = 0

    def call(**params):
        nonlocal calls
        calls += 1
        if after < calls <= after + times:
            botocore.validate.validate_parameters(params, operation.input_shape)
            lost.append(params)
            raise error
        return stubbed(**params)

    monkeypatch.setattr(client, method, call)
    return lost


def customization_job(job_arn: str, status: str, name: str = "sandbox-distill-3aa7f4218eee", **extra) -> dict:
    """A GetModelCustomizationJob answer holding every member the service model requires (Stubber checks them)."""
    return {
        "jobArn": job_arn,
        "jobName": name,
        "outputModelName": name,
        "roleArn": "arn:aws:iam::123456789012:role/sandbox-distillation-fou-ServiceRoleD777F2A1-1F2E3D4C5B6A",
        "creationTime": "2026-11-28T06:40:03Z",
        "baseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "trainingDataConfig": {"s3Uri": "s3://training/data.jsonl"},
        "validationDataConfig": {"validators": []},
        "outputDataConfig": {"s3Uri": "s3://sandbox-distillation-fou-storageoutput-7g8h9i0j1k2l/distillation-output/"},
        "status": status,
        **extra,
    }


def other_stage_stack(stubber: Stubber, name: str, status: str | None = "UPDATE_COMPLETE") -> None:
    """DescribeStacks of the stage's other stack that a release reads (stack_rollback.stage_unsettled) after its
    own: ``status``, or None for a stack that does not exist (CloudFormation's ValidationError)."""
    if status is None:
        stubber.add_client_error(
            "describe_stacks",
            "ValidationError",
            f"Stack with id {name} does not exist",
            400,
            expected_params={"StackName": name},
        )
        return
    stack = {"StackName": name, "CreationTime": "2026-11-28T06:00:00Z", "StackStatus": status}
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": name})


def own_stack_is(stubber: Stubber, stack_id: str, status: str) -> None:
    """DescribeStacks of the request's own stack (by its StackId): how a handler tells CloudFormation's rollback."""
    name = stack_id.split(":stack/", 1)[1].split("/", 1)[0]
    stack = {"StackName": name, "StackId": stack_id, "CreationTime": "2026-11-28T06:39:41Z", "StackStatus": status}
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": stack_id})


# What the stage's release logs instead of raising (model_release.release_stage_models).
RELEASE_FAILED = "Could not release the stage's unserved models: "


def assert_none_logged(caplog, *prefixes: str) -> None:
    """No warning starting with ``prefixes`` was logged by the test's call. A handler that logs a failure instead of
    raising it also logs a Stubber's refusal of a call nobody stubbed (botocore's StubAssertionError is a
    BotoCoreError), so without this a test that forgot to answer a call would pass; a test that expects such a
    warning asserts it, then clears the log."""
    logged = [r.getMessage() for r in caplog.get_records("call") if r.getMessage().startswith(prefixes)]
    assert logged == []
