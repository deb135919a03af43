"""The clients the handlers call through: their retries and timeouts, lazy creation, lookups of what may be gone, the
time left (lambda/shared/python/aws_clients.py)."""

from __future__ import annotations

import json

import aws_clients
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries.standard import ExponentialBackoff

from tests.handlers.conftest import LambdaContext, customization_job, load_handler

JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"


# -- lookups -----------------------------------------------------------------------------------------------------
def test_a_resource_bedrock_no_longer_knows_is_none(bedrock):
    bedrock.stubber.add_client_error(
        "get_custom_model", "ResourceNotFoundException", "Model not found", 404, {"modelIdentifier": MODEL_ARN}
    )
    assert aws_clients.unless_gone(bedrock.get_custom_model, modelIdentifier=MODEL_ARN) is None


def test_any_other_error_of_a_lookup_is_raised(bedrock):
    bedrock.stubber.add_client_error(
        "get_custom_model", "AccessDeniedException", "Not authorized", 403, {"modelIdentifier": MODEL_ARN}
    )
    with pytest.raises(bedrock.exceptions.AccessDeniedException):
        aws_clients.unless_gone(bedrock.get_custom_model, modelIdentifier=MODEL_ARN)


def test_a_services_own_not_found_code_counts_as_gone_when_named(stub):
    ssm = botocore.session.get_session().create_client("ssm", region_name="us-west-2")
    stubber = stub(ssm)
    name = "/bedrock-distillation/sandbox/invocation-logging"
    for _ in range(2):
        stubber.add_client_error("delete_parameter", "ParameterNotFound", "", 400, {"Name": name})
    assert aws_clients.unless_gone(ssm.delete_parameter, gone=("ParameterNotFound",), Name=name) is None
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        aws_clients.unless_gone(ssm.delete_parameter, Name=name)


def test_the_remaining_time_is_the_contexts_in_seconds():
    assert aws_clients.remaining_seconds(LambdaContext(12.5)) == 12.5


# -- clients -----------------------------------------------------------------------------------------------------
def test_a_lazy_client_is_created_on_first_use_only():
    lazy = aws_clients.LazyClient("s3")
    assert lazy._client is None
    assert lazy.meta.service_model.service_name == "s3"
    assert lazy.meta.config.retries == {"mode": "standard", "total_max_attempts": aws_clients.MAX_ATTEMPTS}


def test_every_client_has_the_shared_retries_and_timeouts():
    config = aws_clients.client("bedrock").meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert (config.connect_timeout, config.read_timeout) == (5, 15)


class Body:
    """The raw body of a canned HTTP answer, as AWSResponse reads it."""

    def __init__(self, content: bytes):
        self.content = content

    def stream(self, **_):
        yield self.content


# AWS names the error in a header (REST-JSON services such as Bedrock) or in the body (JSON ones such as EventBridge).
THROTTLED = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()


def answer_throttled_first(client, times: int, success: dict) -> list:
    """Answers the client's requests on the wire: ThrottlingException `times` times, then success. Returns the hits."""
    hits = []

    def answer(request, **_):
        hits.append(request.url)
        if len(hits) <= times:
            headers = {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/json"}
            return AWSResponse(request.url, 400, headers, Body(THROTTLED))
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, Body(json.dumps(success).encode()))

    client.meta.events.register(f"before-send.{client.meta.service_model.service_id.hyphenize()}.*", answer)
    return hits


@pytest.fixture
def no_backoff(monkeypatch):
    """The retries happen as configured; only the waits between them are skipped."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda _self, _context: 0)


@pytest.mark.parametrize(
    "folder",
    ["distillation_job", "distilled_model", "provisioned_throughput", "on_demand_deployment", "distilled_model_wait"],
)
def test_each_handlers_bedrock_client_retries_throttling_until_it_succeeds(no_backoff, folder):
    client = load_handler(folder).bedrock
    hits = answer_throttled_first(client, 3, customization_job(JOB_ARN, "InProgress"))
    assert client.get_model_customization_job(jobIdentifier=JOB_ARN)["status"] == "InProgress"
    assert len(hits) == 4


def test_the_watchers_events_client_retries_throttling_too(no_backoff):
    events = load_handler("shared/python", "wait_signal").events
    hits = answer_throttled_first(events, 3, {})
    events.disable_rule(Name="sandbox-distill-3aa7f4218eee-poll")
    assert len(hits) == 4


def test_throttling_that_outlasts_every_attempt_fails_with_bedrocks_error(no_backoff):
    client = load_handler("provisioned_throughput").bedrock
    hits = answer_throttled_first(client, 4, customization_job(JOB_ARN, "InProgress"))
    with pytest.raises(client.exceptions.ThrottlingException):
        client.get_model_customization_job(jobIdentifier=JOB_ARN)
    assert len(hits) == 4
