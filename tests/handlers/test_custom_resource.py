"""The shared layer: request tokens, tags applied in place, what serves a model and its deletion, retried throttling."""

from __future__ import annotations

import hashlib
import json
import re

import botocore.session
import custom_resource
import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries.standard import ExponentialBackoff

from tests.handlers.conftest import CREATE_FAILED, LambdaContext, customization_job, load_handler

BEDROCK = botocore.session.get_session().get_service_model("bedrock")
JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model-deployment/d3p1o4y7m2n5"
DELETE_WHEN_UNSERVED = [{"key": "bedrock-distillation:delete-when-unserved", "value": "true"}]


@pytest.fixture
def bedrock(stub):
    client = botocore.session.get_session().create_client("bedrock", region_name="us-west-2")
    client.stubber = stub(client)
    return client


# -- tokens ------------------------------------------------------------------------------------------------------
def test_a_token_is_the_sha256_of_its_parts_so_a_retried_request_sends_the_same_one():
    assert custom_resource.token("sandbox-distill-3aa7f4218eee") == custom_resource.token(
        "sandbox-distill-3aa7f4218eee"
    )
    assert custom_resource.token("sandbox-serving-2f462a79fa34", "1a4b7c0d") == (
        hashlib.sha256(b"sandbox-serving-2f462a79fa34\n1a4b7c0d").hexdigest()
    )


def test_other_parts_give_another_token():
    name = "sandbox-serving-2f462a79fa34"
    assert custom_resource.token(name, "1a4b7c0d") != custom_resource.token(name, "4d7e0f3a")
    # The parts are joined with a separator, so moving a character from one part to the next changes the token.
    assert custom_resource.token("ab", "c") != custom_resource.token("a", "bc")


@pytest.mark.parametrize(
    "operation", ["CreateModelCustomizationJob", "CreateProvisionedModelThroughput", "CreateCustomModelDeployment"]
)
def test_a_token_fits_every_client_request_token_bedrock_takes(operation):
    shape = BEDROCK.operation_model(operation).input_shape.members["clientRequestToken"]
    value = custom_resource.token("sandbox-distill-3aa7f4218eee", "2c5d8e1f-4a7b-4c0d-9e3f-6a9b2c5d8e1f")
    assert len(value) <= shape.metadata["max"]
    assert re.fullmatch(shape.metadata["pattern"], value)


def test_only_an_arn_is_an_arn():
    assert custom_resource.is_arn(JOB_ARN)
    assert not custom_resource.is_arn(CREATE_FAILED)
    assert not custom_resource.is_arn("")
    assert not custom_resource.is_arn(None)


# -- tags --------------------------------------------------------------------------------------------------------
def test_tags_become_bedrock_tag_lists():
    assert custom_resource.tag_list('{"project": "support-assistant", "distillation-stage": "sandbox"}') == [
        {"key": "project", "value": "support-assistant"},
        {"key": "distillation-stage", "value": "sandbox"},
    ]
    assert custom_resource.tag_list("") == []
    assert custom_resource.tag_list(None) == []


def test_unchanged_tags_are_left_alone_even_reordered(bedrock):
    custom_resource.retag(bedrock, JOB_ARN, '{"a": "1", "b": "2"}', '{"b": "2", "a": "1"}')


def test_changed_tags_are_tagged_and_removed_keys_untagged(bedrock):
    bedrock.stubber.add_response(
        "tag_resource",
        {},
        {"resourceARN": JOB_ARN, "tags": [{"key": "project", "value": "claims"}, {"key": "owner", "value": "ml"}]},
    )
    bedrock.stubber.add_response("untag_resource", {}, {"resourceARN": JOB_ARN, "tagKeys": ["cost-center", "team"]})
    custom_resource.retag(
        bedrock,
        JOB_ARN,
        '{"project": "claims", "owner": "ml"}',
        '{"project": "support", "team": "a", "cost-center": "1"}',
    )


def test_tags_that_are_only_added_need_no_untagging(bedrock):
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": JOB_ARN, "tags": [{"key": "a", "value": "1"}]})
    custom_resource.retag(bedrock, JOB_ARN, '{"a": "1"}', None)


def test_removing_every_tag_only_untags(bedrock):
    bedrock.stubber.add_response("untag_resource", {}, {"resourceARN": JOB_ARN, "tagKeys": ["a"]})
    custom_resource.retag(bedrock, JOB_ARN, "{}", '{"a": "1"}')


# -- lookups -----------------------------------------------------------------------------------------------------
def test_a_resource_bedrock_no_longer_knows_is_none(bedrock):
    bedrock.stubber.add_client_error(
        "get_custom_model", "ResourceNotFoundException", "Model not found", 404, {"modelIdentifier": MODEL_ARN}
    )
    assert custom_resource.unless_gone(bedrock.get_custom_model, modelIdentifier=MODEL_ARN) is None


def test_any_other_error_of_a_lookup_is_raised(bedrock):
    bedrock.stubber.add_client_error(
        "get_custom_model", "AccessDeniedException", "Not authorized", 403, {"modelIdentifier": MODEL_ARN}
    )
    with pytest.raises(bedrock.exceptions.AccessDeniedException):
        custom_resource.unless_gone(bedrock.get_custom_model, modelIdentifier=MODEL_ARN)


def test_a_services_own_not_found_code_counts_as_gone_when_named(stub):
    ssm = botocore.session.get_session().create_client("ssm", region_name="us-west-2")
    stubber = stub(ssm)
    name = "/bedrock-distillation/sandbox/invocation-logging"
    for _ in range(2):
        stubber.add_client_error("delete_parameter", "ParameterNotFound", "", 400, {"Name": name})
    assert custom_resource.unless_gone(ssm.delete_parameter, gone=("ParameterNotFound",), Name=name) is None
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        custom_resource.unless_gone(ssm.delete_parameter, Name=name)


def throughput_summary(arn: str = THROUGHPUT_ARN) -> dict:
    return {
        "provisionedModelName": "sandbox-serving-2f462a79fa34",
        "provisionedModelArn": arn,
        "modelArn": MODEL_ARN,
        "desiredModelArn": MODEL_ARN,
        "foundationModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "status": "InService",
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T14:10:00Z",
    }


def deployment_summary() -> dict:
    return {
        "customModelDeploymentArn": DEPLOYMENT_ARN,
        "customModelDeploymentName": "sandbox-serving-0d41259abc27",
        "modelArn": MODEL_ARN,
        "createdAt": "2026-11-28T14:10:00Z",
        "status": "Active",
    }


def expect_served_by(bedrock, throughputs: list, deployments: list) -> None:
    bedrock.stubber.add_response(
        "list_provisioned_model_throughputs", {"provisionedModelSummaries": throughputs}, {"modelArnEquals": MODEL_ARN}
    )
    bedrock.stubber.add_response(
        "list_custom_model_deployments", {"modelDeploymentSummaries": deployments}, {"modelArnEquals": MODEL_ARN}
    )


def test_a_model_is_served_by_its_throughputs_and_deployments(bedrock):
    expect_served_by(bedrock, [throughput_summary()], [deployment_summary()])
    assert custom_resource.served_by(bedrock, MODEL_ARN) == [THROUGHPUT_ARN, DEPLOYMENT_ARN]


def test_a_model_nothing_serves_is_deleted(bedrock):
    expect_served_by(bedrock, [], [])
    bedrock.stubber.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    assert custom_resource.delete_model_unless_served(bedrock, MODEL_ARN) == "deleted"


def test_a_model_already_deleted_is_already_gone(bedrock):
    expect_served_by(bedrock, [], [])
    bedrock.stubber.add_client_error(
        "delete_custom_model", "ResourceNotFoundException", "Model not found", 404, {"modelIdentifier": MODEL_ARN}
    )
    assert custom_resource.delete_model_unless_served(bedrock, MODEL_ARN) == "already gone"


def test_a_served_model_is_tagged_instead_of_deleted(bedrock):
    expect_served_by(bedrock, [throughput_summary()], [])
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    assert custom_resource.delete_model_unless_served(bedrock, MODEL_ARN) == (
        f"kept while {THROUGHPUT_ARN} serves it, tagged to be deleted afterwards"
    )


def test_a_model_that_begins_to_be_served_during_its_deletion_is_tagged(bedrock):
    expect_served_by(bedrock, [], [])
    bedrock.stubber.add_client_error(
        "delete_custom_model",
        "ConflictException",
        "The model is in use by a provisioned throughput",
        400,
        {"modelIdentifier": MODEL_ARN},
    )
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": DELETE_WHEN_UNSERVED})
    assert custom_resource.delete_model_unless_served(bedrock, MODEL_ARN) == (
        "kept while something serves it, tagged to be deleted afterwards"
    )


def test_a_deletion_bedrock_refuses_otherwise_is_raised(bedrock):
    expect_served_by(bedrock, [], [])
    bedrock.stubber.add_client_error(
        "delete_custom_model", "AccessDeniedException", "Not authorized", 403, {"modelIdentifier": MODEL_ARN}
    )
    with pytest.raises(bedrock.exceptions.AccessDeniedException):
        custom_resource.delete_model_unless_served(bedrock, MODEL_ARN)


def test_the_remaining_time_is_the_contexts_in_seconds():
    assert custom_resource.remaining_seconds(LambdaContext(12.5)) == 12.5


# -- clients -----------------------------------------------------------------------------------------------------
def test_a_lazy_client_is_created_on_first_use_only():
    lazy = custom_resource.LazyClient("s3")
    assert lazy._client is None
    assert lazy.meta.service_model.service_name == "s3"
    assert lazy.meta.config.retries == {"mode": "standard", "total_max_attempts": custom_resource.MAX_ATTEMPTS}


def test_every_client_has_the_shared_retries_and_timeouts():
    config = custom_resource.client("bedrock").meta.config
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
    "folder", ["distillation_job", "distilled_model", "provisioned_throughput", "model_deployment", "job_watcher"]
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
