"""The job watcher: it signals the wait condition from Bedrock's own account of the job its name names, once, and
only while the condition still waits, whatever woke it up."""

from __future__ import annotations

import http.server
import io
import json
import sys
import threading
import urllib.error
import urllib.request
from typing import ClassVar

import pytest

from tests.handlers.conftest import customization_job, event, load_handler

# The watcher's fixtures patch urlopen; the test on the wire sends through the real one.
REAL_URLOPEN = urllib.request.urlopen
NAME = "sandbox-distill-3aa7f4218eee"
JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
STACK_ID = (
    "arn:aws:cloudformation:us-west-2:123456789012:stack/sandbox-distillation-support-assistant-serving/"
    "c4d7e0f3-cd44-11f0-b1a4-0a7d3e9f1c25"
)
WAIT_CONDITION = "ModelWait3aa7f4218eeeWaitConditionD09B6687"
WAIT_HANDLE_URL = (
    "https://cloudformation-waitcondition-us-west-2.s3-us-west-2.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-west-2"
    "%3A123456789012%3Astack/sandbox-distillation-support-assistant-serving/c4d7e0f3-cd44-11f0-b1a4-0a7d3e9f1c25/ModelWait3aa7f4218eeeWai"
    "tHandle41276EF3?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261128T064003Z&X-Amz-SignedHeaders=host"
    "&X-Amz-Expires=86399&X-Amz-Credential=AKIAEXAMPLE%2F20261128%2Fus-west-2%2Fs3%2Faws4_request"
    "&X-Amz-Signature=0a1b2c3d"
)
POLL_RULE = "sandbox-distill-3aa7f4218eee-poll"
NEXT_STEP = (
    "A job cannot be restarted: fix the cause, raise distillation.revision in cdk.json (a new job with the same "
    "settings), and deploy again."
)


class Answer:
    """What urlopen returns: a context manager with the HTTP status."""

    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False


@pytest.fixture
def signals(monkeypatch):
    """Every request the watcher sends to the wait condition handle, answered 200 without leaving the machine."""
    sent = []

    def urlopen(request, timeout):
        sent.append(request)
        return Answer()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return sent


@pytest.fixture
def watcher(monkeypatch, signals, stub):
    monkeypatch.setenv("JOB_NAME", NAME)
    monkeypatch.setenv("WAIT_HANDLE_URL", WAIT_HANDLE_URL)
    monkeypatch.setenv("POLL_RULE_NAME", POLL_RULE)
    monkeypatch.setenv("STACK_ID", STACK_ID)
    monkeypatch.setenv("WAIT_CONDITION", WAIT_CONDITION)
    # A cold start: the shared layer's wait_signal is imported afresh with the handler.
    monkeypatch.delitem(sys.modules, "wait_signal", raising=False)
    module = load_handler("distilled_model_wait")
    module.bedrock_stub = stub(module.bedrock)
    module.cloudformation_stub = stub(module.wait_signal.cloudformation)
    module.events_stub = stub(module.wait_signal.events)
    return module


def the_condition_is(watcher, status: str) -> None:
    detail = {
        "LogicalResourceId": WAIT_CONDITION,
        "ResourceType": "AWS::CloudFormation::WaitCondition",
        "LastUpdatedTimestamp": "2026-11-28T06:45:00Z",
        "ResourceStatus": status,
    }
    watcher.cloudformation_stub.add_response(
        "describe_stack_resource",
        {"StackResourceDetail": detail},
        {"StackName": STACK_ID, "LogicalResourceId": WAIT_CONDITION},
    )


def bedrock_says(watcher, status: str, **extra) -> None:
    job = customization_job(JOB_ARN, status, NAME, **extra)
    watcher.bedrock_stub.add_response("get_model_customization_job", job, {"jobIdentifier": NAME})


def expect_poll_disabled(watcher) -> None:
    watcher.events_stub.add_response("disable_rule", {}, {"Name": POLL_RULE})


def signalled(request: urllib.request.Request) -> dict:
    assert request.full_url == WAIT_HANDLE_URL
    assert request.get_method() == "PUT"
    assert request.get_header("Content-type") == ""
    return json.loads(request.data)


def failure(reason: str) -> dict:
    return {"Status": "FAILURE", "Reason": reason, "UniqueId": "signal", "Data": ""}


def test_a_completed_job_signals_success_with_its_model_and_stops_the_poll(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    expect_poll_disabled(watcher)
    assert watcher.handler(event("job_state_change_completed"), None) == "Completed"
    assert [signalled(request) for request in signals] == [
        {
            "Status": "SUCCESS",
            "Reason": f"The distillation job {NAME} completed.",
            "UniqueId": "signal",
            "Data": MODEL_ARN,
        }
    ]


def test_the_job_is_looked_up_by_name_never_by_the_events_short_arn(watcher, signals):
    """The documented sample event's jobArn is model-customization-job/<id>, the API's has the base model too."""
    state_change = event("job_state_change_completed")
    assert state_change["detail"]["jobArn"] != JOB_ARN
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    expect_poll_disabled(watcher)
    watcher.handler(state_change, None)
    assert signalled(signals[0])["Data"] == MODEL_ARN


def test_the_scheduled_poll_finds_a_completed_job_when_no_event_came(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    expect_poll_disabled(watcher)
    assert watcher.handler(event("distilled_model_wait_scheduled"), None) == "Completed"
    assert signalled(signals[0])["Status"] == "SUCCESS"


@pytest.mark.parametrize("status", ["InProgress", "Stopping"])
def test_a_job_still_running_or_stopping_is_left_to_run(watcher, signals, status):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, status)
    assert watcher.handler(event("distilled_model_wait_scheduled"), None) == status
    assert signals == []


def test_an_event_is_only_a_reason_to_look_so_a_stale_one_signals_nothing(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "InProgress")
    assert watcher.handler(event("job_state_change_completed"), None) == "InProgress"
    assert signals == []


@pytest.mark.parametrize("status", ["CREATE_COMPLETE", "CREATE_FAILED", "DELETE_IN_PROGRESS"])
def test_a_poll_back_after_the_wait_is_over_disables_itself_and_signals_nothing(watcher, signals, status):
    """CloudFormation puts a rule back to its template's state on any update of the rule, enabled included."""
    the_condition_is(watcher, status)
    expect_poll_disabled(watcher)
    assert watcher.handler(event("distilled_model_wait_scheduled"), None) == "not waiting"
    assert signals == []


def test_a_condition_not_created_yet_counts_as_waiting(watcher, signals):
    """The watcher's rules exist before the condition does (it depends on them), and a signal sent then counts."""
    watcher.cloudformation_stub.add_client_error(
        "describe_stack_resource",
        "ValidationError",
        f"Resource {WAIT_CONDITION} does not exist for stack sandbox-distillation-support-assistant-serving",
        400,
        {"StackName": STACK_ID, "LogicalResourceId": WAIT_CONDITION},
    )
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    expect_poll_disabled(watcher)
    assert watcher.handler(event("job_state_change_completed"), None) == "Completed"
    assert len(signals) == 1


def test_a_condition_cloudformation_will_not_describe_fails_the_invocation_and_signals_nothing(watcher, signals):
    watcher.cloudformation_stub.add_client_error(
        "describe_stack_resource",
        "AccessDenied",
        "User is not authorized to perform: cloudformation:DescribeStackResource",
        403,
        {"StackName": STACK_ID, "LogicalResourceId": WAIT_CONDITION},
    )
    with pytest.raises(watcher.wait_signal.cloudformation.exceptions.ClientError, match="AccessDenied"):
        watcher.handler(event("distilled_model_wait_scheduled"), None)
    assert signals == []


def test_without_a_job_of_its_name_the_wait_fails_saying_to_deploy_the_training_stack(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    watcher.bedrock_stub.add_client_error(
        "get_model_customization_job", "ResourceNotFoundException", "Job not found", 404, {"jobIdentifier": NAME}
    )
    expect_poll_disabled(watcher)
    assert watcher.handler(event("distilled_model_wait_scheduled"), None) == "missing"
    assert [signalled(request) for request in signals] == [
        failure(
            f"No distillation job named {NAME} exists in this account and Region: deploy the training stack first "
            "(cdk deploy '<stage>/*' deploys both, in order)."
        )
    ]


def test_a_failed_job_signals_failure_with_bedrocks_message(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "Failed", failureMessage="Fewer than 100 prompt-response pairs come from the teacher model")
    expect_poll_disabled(watcher)
    assert watcher.handler(event("job_state_change_failed"), None) == "Failed"
    assert [signalled(request) for request in signals] == [
        failure(
            f"The distillation job {NAME} ended Failed: Fewer than 100 prompt-response pairs come from the teacher "
            f"model. {NEXT_STEP}"
        )
    ]


def test_a_stopped_job_signals_failure_saying_it_was_stopped(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "Stopped")
    expect_poll_disabled(watcher)
    assert watcher.handler(event("distilled_model_wait_scheduled"), None) == "Stopped"
    assert signalled(signals[0]) == failure(
        f"The distillation job {NAME} ended Stopped: it was stopped before it completed. {NEXT_STEP}"
    )


def test_a_failed_job_without_a_message_says_where_to_look(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "Failed")
    expect_poll_disabled(watcher)
    watcher.handler(event("distilled_model_wait_scheduled"), None)
    assert signalled(signals[0])["Reason"] == (
        f"The distillation job {NAME} ended Failed: Bedrock gave no failure message; the job's page in the Bedrock "
        f"console may say more. {NEXT_STEP}"
    )


def test_a_long_failure_message_is_cut_so_the_signal_stays_within_cloudformations_limit(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "Failed", failureMessage="é" * 2048)
    expect_poll_disabled(watcher)
    watcher.handler(event("distilled_model_wait_scheduled"), None)
    reason = signalled(signals[0])["Reason"]
    assert reason == f"The distillation job {NAME} ended Failed: {'é' * 699}…. {NEXT_STEP}"
    assert len(signals[0].data) <= 4096


def test_a_refused_signal_fails_the_invocation_and_keeps_the_poll(watcher, monkeypatch):
    def urlopen(request, timeout):
        raise urllib.error.HTTPError(request.full_url, 403, "Forbidden", {}, io.BytesIO(b"<Error>...</Error>"))

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    with pytest.raises(RuntimeError) as raised:
        watcher.handler(event("job_state_change_completed"), None)
    assert str(raised.value) == (
        "The wait condition refused the SUCCESS signal (HTTP 403 Forbidden): its handle URL is stale or expired. "
        "Deploy the stack again to get a new one."
    )


def test_a_job_bedrock_will_not_describe_fails_the_invocation(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    watcher.bedrock_stub.add_client_error(
        "get_model_customization_job",
        "AccessDeniedException",
        "User is not authorized to perform: bedrock:GetModelCustomizationJob",
        403,
        {"jobIdentifier": NAME},
    )
    with pytest.raises(watcher.bedrock.exceptions.AccessDeniedException):
        watcher.handler(event("distilled_model_wait_scheduled"), None)
    assert signals == []


def test_a_poll_that_cannot_be_disabled_fails_after_signalling_so_the_next_poll_finds_the_wait_over(watcher, signals):
    the_condition_is(watcher, "CREATE_IN_PROGRESS")
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    watcher.events_stub.add_client_error(
        "disable_rule",
        "AccessDeniedException",
        "Not authorized to perform: events:DisableRule",
        400,
        {"Name": POLL_RULE},
    )
    with pytest.raises(watcher.wait_signal.events.exceptions.ClientError, match="events:DisableRule"):
        watcher.handler(event("distilled_model_wait_scheduled"), None)
    assert len(signals) == 1


class Recorder(http.server.BaseHTTPRequestHandler):
    """A stand-in for the presigned S3 URL that records what arrives on the wire."""

    received: ClassVar[list] = []

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received.append((self.command, self.path, self.headers.get_all("Content-Type"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_):
        pass


def test_on_the_wire_the_signal_is_a_put_with_an_empty_content_type(watcher, monkeypatch):
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.handle_request, daemon=True).start()
    monkeypatch.setenv("WAIT_HANDLE_URL", f"http://127.0.0.1:{server.server_port}/handle?X-Amz-Signature=0a1b2c3d")
    monkeypatch.setattr(urllib.request, "urlopen", REAL_URLOPEN)
    expect_poll_disabled(watcher)
    try:
        watcher.wait_signal.signal("SUCCESS", f"The distillation job {NAME} completed.", MODEL_ARN)
    finally:
        server.server_close()
    method, path, content_types, body = Recorder.received.pop()
    assert (method, path, content_types) == ("PUT", "/handle?X-Amz-Signature=0a1b2c3d", [""])
    assert json.loads(body) == {
        "Status": "SUCCESS",
        "Reason": f"The distillation job {NAME} completed.",
        "UniqueId": "signal",
        "Data": MODEL_ARN,
    }
