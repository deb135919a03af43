"""The job watcher: it signals the wait condition from Bedrock's own account of the job, whatever woke it up."""

from __future__ import annotations

import http.server
import io
import json
import threading
import urllib.error
import urllib.request
from typing import ClassVar

import pytest
from botocore.stub import Stubber

from tests.handlers.conftest import customization_job, event, load_handler

JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
NAME = "support-assistant-3aa7f4218eee"
WAIT_HANDLE_URL = (
    "https://cloudformation-waitcondition-us-west-2.s3-us-west-2.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-west-2"
    "%3A123456789012%3Astack/sandbox-distillation-serving/c4d7e0f3-cd44-11f0-b1a4-0a7d3e9f1c25/DistilledModelWaitHandle"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261128T064003Z&X-Amz-SignedHeaders=host&X-Amz-Expires=86399"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20261128%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Signature=0a1b2c3d"
)
POLL_RULE = "sandbox-Serving-JobWatcherPollRule4C0A1E2B-8Hj2Kl4Zx6Cv"
NEXT_STEP = "Start a new job from the training stack, then deploy this stack again."


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
def watcher(monkeypatch, signals):
    monkeypatch.setenv("JOB_ARN", JOB_ARN)
    monkeypatch.setenv("WAIT_HANDLE_URL", WAIT_HANDLE_URL)
    monkeypatch.setenv("POLL_RULE_NAME", POLL_RULE)
    module = load_handler("job_watcher")
    with Stubber(module.bedrock) as bedrock, Stubber(module.events) as events:
        module.stubs = (bedrock, events)
        yield module
        bedrock.assert_no_pending_responses()
        events.assert_no_pending_responses()


def bedrock_says(watcher, status: str, **extra) -> None:
    job = customization_job(JOB_ARN, status, NAME, **extra)
    watcher.stubs[0].add_response("get_model_customization_job", job, {"jobIdentifier": JOB_ARN})


def expect_poll_disabled(watcher) -> None:
    watcher.stubs[1].add_response("disable_rule", {}, {"Name": POLL_RULE})


def signalled(request: urllib.request.Request) -> dict:
    assert request.full_url == WAIT_HANDLE_URL
    assert request.get_method() == "PUT"
    assert request.get_header("Content-type") == ""
    return json.loads(request.data)


def test_a_completed_job_signals_success_with_its_model_and_stops_the_poll(watcher, signals):
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    expect_poll_disabled(watcher)
    assert watcher.handler(event("job_watcher_state_change"), None) == "Completed"
    assert [signalled(request) for request in signals] == [
        {
            "Status": "SUCCESS",
            "Reason": f"The distillation job {NAME} completed.",
            "UniqueId": "distilled-model",
            "Data": MODEL_ARN,
        }
    ]


def test_the_scheduled_poll_finds_a_completed_job_when_no_event_came(watcher, signals):
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    expect_poll_disabled(watcher)
    assert watcher.handler(event("job_watcher_scheduled"), None) == "Completed"
    assert signalled(signals[0])["Status"] == "SUCCESS"


@pytest.mark.parametrize("status", ["InProgress", "Stopping"])
def test_a_job_still_running_or_stopping_is_left_to_run(watcher, signals, status):
    bedrock_says(watcher, status)
    assert watcher.handler(event("job_watcher_scheduled"), None) == status
    assert signals == []


def test_an_event_is_only_a_reason_to_look_so_a_stale_one_signals_nothing(watcher, signals):
    bedrock_says(watcher, "InProgress")
    assert watcher.handler(event("job_watcher_state_change"), None) == "InProgress"
    assert signals == []


def test_an_event_about_another_job_is_ignored(watcher, signals):
    other = event("job_watcher_state_change")
    other["detail"]["jobArn"] = JOB_ARN.replace("k3x9q2w7e5r1", "a0b1c2d3e4f5")
    assert watcher.handler(other, None) is None
    assert signals == []


def test_a_failed_job_signals_failure_with_bedrocks_message(watcher, signals):
    bedrock_says(watcher, "Failed", failureMessage="Fewer than 100 prompt-response pairs come from the teacher model")
    expect_poll_disabled(watcher)
    assert watcher.handler(event("job_watcher_state_change"), None) == "Failed"
    assert [signalled(request) for request in signals] == [
        {
            "Status": "FAILURE",
            "Reason": (
                f"The distillation job {NAME} ended Failed: Fewer than 100 prompt-response pairs come from the teacher "
                f"model. {NEXT_STEP}"
            ),
            "UniqueId": "distilled-model",
            "Data": "",
        }
    ]


def test_a_stopped_job_signals_failure_saying_it_was_stopped(watcher, signals):
    bedrock_says(watcher, "Stopped")
    expect_poll_disabled(watcher)
    assert watcher.handler(event("job_watcher_scheduled"), None) == "Stopped"
    reason = f"The distillation job {NAME} ended Stopped: it was stopped before it completed. {NEXT_STEP}"
    assert signalled(signals[0]) == {"Status": "FAILURE", "Reason": reason, "UniqueId": "distilled-model", "Data": ""}


def test_a_failed_job_without_a_message_says_where_to_look(watcher, signals):
    bedrock_says(watcher, "Failed")
    expect_poll_disabled(watcher)
    watcher.handler(event("job_watcher_scheduled"), None)
    assert signalled(signals[0])["Reason"] == (
        f"The distillation job {NAME} ended Failed: Bedrock gave no failure message; the job's page in the Bedrock "
        f"console may say more. {NEXT_STEP}"
    )


def test_a_long_failure_message_is_cut_so_the_signal_stays_within_cloudformations_limit(watcher, signals):
    bedrock_says(watcher, "Failed", failureMessage="é" * 2048)
    expect_poll_disabled(watcher)
    watcher.handler(event("job_watcher_scheduled"), None)
    reason = signalled(signals[0])["Reason"]
    assert reason == f"The distillation job {NAME} ended Failed: {'é' * 699}…. {NEXT_STEP}"
    assert len(signals[0].data) <= 4096


def test_a_refused_signal_fails_the_invocation_and_keeps_the_poll(watcher, monkeypatch):
    def urlopen(request, timeout):
        raise urllib.error.HTTPError(request.full_url, 403, "Forbidden", {}, io.BytesIO(b"<Error>...</Error>"))

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    with pytest.raises(RuntimeError) as raised:
        watcher.handler(event("job_watcher_state_change"), None)
    assert str(raised.value) == (
        "The wait condition refused the SUCCESS signal (HTTP 403 Forbidden): its handle URL is stale or expired. "
        "Deploy the serving stack again to get a new one."
    )


def test_a_job_bedrock_will_not_describe_fails_the_invocation(watcher, signals):
    watcher.stubs[0].add_client_error(
        "get_model_customization_job",
        "AccessDeniedException",
        "User is not authorized to perform: bedrock:GetModelCustomizationJob",
        403,
        {"jobIdentifier": JOB_ARN},
    )
    with pytest.raises(watcher.bedrock.exceptions.AccessDeniedException):
        watcher.handler(event("job_watcher_scheduled"), None)
    assert signals == []


def test_a_poll_that_cannot_be_disabled_fails_after_signalling_so_a_retry_signals_again(watcher, signals):
    bedrock_says(watcher, "Completed", outputModelArn=MODEL_ARN)
    watcher.stubs[1].add_client_error(
        "disable_rule",
        "AccessDeniedException",
        "Not authorized to perform: events:DisableRule",
        400,
        {"Name": POLL_RULE},
    )
    with pytest.raises(watcher.events.exceptions.ClientError, match="events:DisableRule"):
        watcher.handler(event("job_watcher_scheduled"), None)
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


def test_on_the_wire_the_signal_is_a_put_with_an_empty_content_type(monkeypatch):
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.handle_request, daemon=True).start()
    monkeypatch.setenv("WAIT_HANDLE_URL", f"http://127.0.0.1:{server.server_port}/handle?X-Amz-Signature=0a1b2c3d")
    try:
        load_handler("job_watcher").signal("SUCCESS", "The distillation job completed.", MODEL_ARN)
    finally:
        server.server_close()
    method, path, content_types, body = Recorder.received.pop()
    assert (method, path, content_types) == ("PUT", "/handle?X-Amz-Signature=0a1b2c3d", [""])
    assert json.loads(body) == {
        "Status": "SUCCESS",
        "Reason": "The distillation job completed.",
        "UniqueId": "distilled-model",
        "Data": MODEL_ARN,
    }
