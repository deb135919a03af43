"""The shared layer: request tokens and names that Bedrock accepts, the model to serve, and retried throttling."""

from __future__ import annotations

import json
import re

import botocore.session
import custom_resource
import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries.standard import ExponentialBackoff
from botocore.stub import Stubber

from tests.handlers.conftest import customization_job, event, load_handler

BEDROCK = botocore.session.get_session().get_service_model("bedrock")
JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
# The Provider framework's physical id for a Create that failed before the handler returned one.
CREATE_FAILED = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"


def member_shape(operation: str, member: str):
    return BEDROCK.operation_model(operation).input_shape.members[member]


def assert_valid(value: str, shape) -> None:
    """Stubber checks types and minimum lengths only: the patterns and maximum lengths are checked here."""
    assert len(value) <= shape.metadata["max"], (value, shape.name)
    assert re.fullmatch(shape.metadata["pattern"], value), (value, shape.name)


# Every name the handlers give Bedrock, by the operation and member that takes it.
NAME_MEMBERS = [
    ("CreateModelCustomizationJob", "jobName"),
    ("CreateModelCustomizationJob", "customModelName"),
    ("CreateProvisionedModelThroughput", "provisionedModelName"),
    ("CreateCustomModelDeployment", "modelDeploymentName"),
]
TOKEN_MEMBERS = [
    ("CreateModelCustomizationJob", "clientRequestToken"),
    ("CreateProvisionedModelThroughput", "clientRequestToken"),
    ("CreateCustomModelDeployment", "clientRequestToken"),
]


def test_a_retried_request_gets_the_same_token():
    request = event("distillation_job_create")
    assert custom_resource.request_token(request) == custom_resource.request_token(event("distillation_job_create"))


@pytest.mark.parametrize("key", ["StackId", "LogicalResourceId", "RequestId"])
def test_any_other_request_gets_another_token(key):
    request = event("distillation_job_create")
    other = event("distillation_job_create", **{key: request[key] + "0"})
    assert custom_resource.request_token(other) != custom_resource.request_token(request)


@pytest.mark.parametrize(("operation", "member"), TOKEN_MEMBERS)
def test_the_token_fits_bedrock(operation, member):
    assert_valid(custom_resource.request_token(event("distillation_job_create")), member_shape(operation, member))


def test_a_name_is_the_prefix_and_the_start_of_the_token():
    token = custom_resource.request_token(event("distillation_job_create"))
    assert token.startswith("3aa7f4218eee")
    assert custom_resource.unique_name("support-assistant", token, 63) == "support-assistant-3aa7f4218eee"


@pytest.mark.parametrize(("operation", "member"), NAME_MEMBERS)
@pytest.mark.parametrize("prefix", ["support-assistant", "A1", "x" * 40, "nova-lite-2-support-assistant-distilled"])
def test_names_fit_every_bedrock_name_pattern(operation, member, prefix):
    token = custom_resource.request_token(event("distillation_job_create"))
    assert_valid(
        custom_resource.unique_name(prefix, token, custom_resource.NAME_MAX_LENGTH), member_shape(operation, member)
    )


def test_a_long_prefix_is_cut_to_fit_without_a_double_hyphen():
    token = "0123456789abcdef"
    assert custom_resource.unique_name("support-assistant-distilled", token, 32) == "support-assistant-d-0123456789ab"
    assert custom_resource.unique_name("support-assistant-distilled", token, 31) == "support-assistant-0123456789ab"


@pytest.mark.parametrize("prefix", ["", "-support", "support--assistant", "support_assistant", "support.assistant"])
def test_a_prefix_bedrock_would_refuse_is_refused_with_what_to_use(prefix):
    with pytest.raises(ValueError) as raised:
        custom_resource.unique_name(prefix, "0123456789abcdef", 63)
    assert str(raised.value) == (
        f"The name prefix {prefix!r} is not usable in Bedrock names: use letters and digits joined by single "
        f"hyphens, for example 'support-assistant'."
    )


def test_only_an_arn_is_an_arn():
    assert custom_resource.is_arn(JOB_ARN)
    assert not custom_resource.is_arn(CREATE_FAILED)
    assert not custom_resource.is_arn("7f1e2d3c-0b4a-4c8e-9d6f-1a2b3c4d5e6f")


def test_tags_become_bedrock_tag_lists():
    assert custom_resource.tag_list('{"project": "support-assistant", "stage": "sandbox"}') == [
        {"key": "project", "value": "support-assistant"},
        {"key": "stage", "value": "sandbox"},
    ]
    assert custom_resource.tag_list("") == []
    assert custom_resource.tag_list(None) == []


@pytest.fixture
def bedrock():
    client = botocore.session.get_session().create_client("bedrock", region_name="us-west-2")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def job(status: str, **extra) -> dict:
    return customization_job(JOB_ARN, status, **extra)


def test_the_model_arn_property_wins_without_asking_bedrock(bedrock):
    assert custom_resource.model_arn(bedrock, {"ModelArn": MODEL_ARN, "JobArn": JOB_ARN}) == MODEL_ARN


def test_without_a_model_arn_the_model_is_the_one_the_completed_job_produced(bedrock):
    bedrock.stubber.add_response(
        "get_model_customization_job", job("Completed", outputModelArn=MODEL_ARN), {"jobIdentifier": JOB_ARN}
    )
    assert custom_resource.model_arn(bedrock, {"ModelArn": "", "JobArn": JOB_ARN}) == MODEL_ARN


def test_a_job_still_running_has_no_model_yet(bedrock):
    bedrock.stubber.add_response("get_model_customization_job", job("InProgress"), {"jobIdentifier": JOB_ARN})
    with pytest.raises(RuntimeError) as raised:
        custom_resource.model_arn(bedrock, {"JobArn": JOB_ARN})
    assert str(raised.value) == (
        "The distillation job support-assistant-3aa7f4218eee is InProgress; its model does not exist yet. Deploy "
        "this stack again once the job has completed."
    )


def test_a_failed_job_will_never_have_a_model_and_bedrock_says_why(bedrock):
    failed = job("Failed", failureMessage="Fewer than 100 prompt-response pairs come from the teacher model")
    bedrock.stubber.add_response("get_model_customization_job", failed, {"jobIdentifier": JOB_ARN})
    with pytest.raises(RuntimeError) as raised:
        custom_resource.model_arn(bedrock, {"JobArn": JOB_ARN})
    assert str(raised.value) == (
        "The distillation job support-assistant-3aa7f4218eee is Failed; its model does not exist yet. It will not "
        "produce one (Fewer than 100 prompt-response pairs come from the teacher model): start a new job from the "
        "training stack, then deploy again."
    )


def test_a_job_bedrock_does_not_know_is_its_error(bedrock):
    bedrock.stubber.add_client_error(
        "get_model_customization_job", "ResourceNotFoundException", "Job not found", 404, {"jobIdentifier": JOB_ARN}
    )
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        custom_resource.model_arn(bedrock, {"JobArn": JOB_ARN})


class Body:
    """The raw body of a canned HTTP answer, as AWSResponse reads it."""

    def __init__(self, content: bytes):
        self.content = content

    def stream(self, **_):
        yield self.content


# Both ways AWS names the error: the header (REST-JSON services such as Bedrock) and the body (JSON ones such as
# EventBridge).
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


def test_the_shared_config_retries_throttling_in_standard_mode():
    assert custom_resource.CLIENT_CONFIG.retries == {"mode": "standard", "total_max_attempts": 8}


@pytest.mark.parametrize("folder", ["distillation_job", "provisioned_throughput", "model_deployment", "job_watcher"])
def test_each_handlers_bedrock_client_retries_throttling_until_it_succeeds(no_backoff, folder):
    client = load_handler(folder).bedrock
    hits = answer_throttled_first(client, 6, job("InProgress"))
    assert client.get_model_customization_job(jobIdentifier=JOB_ARN)["status"] == "InProgress"
    assert len(hits) == 7


def test_the_watchers_events_client_retries_throttling_too(no_backoff):
    client = load_handler("job_watcher").events
    hits = answer_throttled_first(client, 3, {})
    client.disable_rule(Name="poll")
    assert len(hits) == 4


def test_throttling_that_outlasts_every_attempt_fails_with_bedrocks_error(no_backoff):
    client = load_handler("provisioned_throughput").bedrock
    hits = answer_throttled_first(client, 8, job("InProgress"))
    with pytest.raises(client.exceptions.ThrottlingException):
        client.get_model_customization_job(jobIdentifier=JOB_ARN)
    assert len(hits) == 8
