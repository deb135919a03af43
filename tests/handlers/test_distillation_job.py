"""The distillation job handler: it starts one job per request, never leaves one running unwatched, and keeps models."""

from __future__ import annotations

import copy
import json

import custom_resource
import pytest
from botocore.stub import Stubber

from tests.handlers.conftest import customization_job, event, load_handler

JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
NEW_JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/n2e5w8j1o4b7"
)
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
NAME = "support-assistant-3aa7f4218eee"
# What the create fixture's properties ask Bedrock for, apart from the names and the token.
JOB_REQUEST = {
    "roleArn": "arn:aws:iam::123456789012:role/sandbox-distillation-fou-BedrockServiceRole9A8B7C6D-1F2E3D4C5B6A",
    "baseModelIdentifier": "meta.llama3-1-8b-instruct-v1:0:128k",
    "customizationType": "DISTILLATION",
    "customizationConfig": {
        "distillationConfig": {
            "teacherModelConfig": {
                "teacherModelIdentifier": (
                    "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.meta.llama3-1-70b-instruct-v1:0"
                ),
                "maxResponseLengthForInference": 1000,
            }
        }
    },
    "trainingDataConfig": {
        "invocationLogsConfig": {
            "usePromptResponse": True,
            "invocationLogSource": {
                "s3Uri": "s3://sandbox-distillation-fou-storageinvocationlogs-1a2b3c4d5e6f/invocation-logs/AWSLogs"
            },
            "requestMetadataFilters": {"equals": {"project": "support-assistant"}},
        }
    },
    "outputDataConfig": {"s3Uri": "s3://sandbox-distillation-fou-storagejoboutput-7g8h9i0j1k2l/distillation-output"},
    "customModelKmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/3f1c2b7a-8d4e-4f5a-9b6c-0d1e2f3a4b5c",
    "jobTags": [{"key": "project", "value": "support-assistant"}, {"key": "stage", "value": "sandbox"}],
    "customModelTags": [{"key": "project", "value": "support-assistant"}, {"key": "teacher", "value": "llama3-1-70b"}],
    "vpcConfig": {"subnetIds": ["subnet-0a1b2c3d4e5f60718"], "securityGroupIds": ["sg-0f1e2d3c4b5a69788"]},
}


@pytest.fixture
def handler():
    module = load_handler("distillation_job")
    with Stubber(module.bedrock) as bedrock:
        module.stub = bedrock
        yield module
        bedrock.assert_no_pending_responses()


def job(status: str, job_arn: str = JOB_ARN, name: str = NAME, **extra) -> dict:
    """A GetModelCustomizationJob answer for the job this module's request starts."""
    return customization_job(
        job_arn,
        status,
        name,
        roleArn=JOB_REQUEST["roleArn"],
        trainingDataConfig=JOB_REQUEST["trainingDataConfig"],
        outputDataConfig=JOB_REQUEST["outputDataConfig"],
        customizationType="DISTILLATION",
        **extra,
    )


def create_request(request: dict, **changes) -> dict:
    token = custom_resource.request_token(request)
    name = custom_resource.unique_name("support-assistant", token, 63)
    return {
        **copy.deepcopy(JOB_REQUEST),
        "jobName": name,
        "customModelName": name,
        "clientRequestToken": token,
        **changes,
    }


def expect_get(stub: Stubber, status: str, job_arn: str = JOB_ARN, **extra) -> None:
    stub.add_response("get_model_customization_job", job(status, job_arn, **extra), {"jobIdentifier": job_arn})


def test_create_starts_a_distillation_job_and_returns_once_bedrock_has_it(handler):
    request = event("distillation_job_create")
    handler.stub.add_response("create_model_customization_job", {"jobArn": JOB_ARN}, create_request(request))
    expect_get(handler.stub, "InProgress")
    assert handler.on_event(request, None) == {
        "PhysicalResourceId": JOB_ARN,
        "Data": {"JobArn": JOB_ARN, "JobName": NAME, "CustomModelName": NAME, "Status": "InProgress"},
    }


def test_create_from_an_s3_dataset_outside_a_vpc(handler):
    request = event("distillation_job_create")
    request["ResourceProperties"]["TrainingDataConfig"] = '{"s3Uri": "s3://sandbox-training-data/support.jsonl"}'
    del request["ResourceProperties"]["VpcConfig"]
    expected = create_request(request, trainingDataConfig={"s3Uri": "s3://sandbox-training-data/support.jsonl"})
    del expected["vpcConfig"]
    handler.stub.add_response("create_model_customization_job", {"jobArn": JOB_ARN}, expected)
    expect_get(handler.stub, "InProgress")
    assert handler.on_event(request, None)["PhysicalResourceId"] == JOB_ARN


def test_a_retried_create_sends_the_same_request_so_bedrock_starts_one_job(handler):
    sent = []
    handler.bedrock.meta.events.register(
        "before-parameter-build.bedrock.CreateModelCustomizationJob", lambda params, **_: sent.append(dict(params))
    )
    results = []
    for _ in range(2):
        request = event("distillation_job_create")
        # Bedrock's idempotency answers the repeated token with the job it already started.
        handler.stub.add_response("create_model_customization_job", {"jobArn": JOB_ARN}, create_request(request))
        expect_get(handler.stub, "InProgress")
        results.append(handler.on_event(request, None))
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert sent[0]["clientRequestToken"] == custom_resource.request_token(event("distillation_job_create"))
    assert sent[0]["jobName"] == NAME
    assert results[0] == results[1]


def test_a_create_whose_confirmation_fails_stops_the_job_it_started(handler):
    request = event("distillation_job_create")
    handler.stub.add_response("create_model_customization_job", {"jobArn": JOB_ARN}, create_request(request))
    handler.stub.add_client_error(
        "get_model_customization_job",
        "AccessDeniedException",
        "User is not authorized to perform: bedrock:GetModelCustomizationJob",
        403,
        expected_params={"jobIdentifier": JOB_ARN},
    )
    handler.stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB_ARN})
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(request, None)
    assert str(raised.value) == (
        f"Bedrock accepted the distillation job {JOB_ARN}, then this request failed: An error occurred "
        f"(AccessDeniedException) when calling the GetModelCustomizationJob operation: User is not authorized to "
        f"perform: bedrock:GetModelCustomizationJob. The job was stopped so that it does not run on unwatched; fix "
        f"the cause and deploy again."
    )


def test_a_job_that_cannot_be_stopped_either_is_named_with_the_command_to_stop_it(handler):
    request = event("distillation_job_create")
    handler.stub.add_response("create_model_customization_job", {"jobArn": JOB_ARN}, create_request(request))
    handler.stub.add_client_error(
        "get_model_customization_job", "InternalServerException", "Internal error", 500, {"jobIdentifier": JOB_ARN}
    )
    handler.stub.add_client_error(
        "stop_model_customization_job", "AccessDeniedException", "Not authorized", 403, {"jobIdentifier": JOB_ARN}
    )
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(request, None)
    assert str(raised.value).endswith(
        f"Stopping the job failed too (An error occurred (AccessDeniedException) when calling the "
        f"StopModelCustomizationJob operation: Not authorized): stop it by hand (aws bedrock "
        f"stop-model-customization-job --job-identifier {JOB_ARN}) so that it does not run on unwatched."
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationException", "The provided teacher model is not supported for distillation with this student"),
        ("AccessDeniedException", "User is not authorized to perform: iam:PassRole"),
        ("ServiceQuotaExceededException", "You have reached the maximum number of concurrent customization jobs"),
    ],
)
def test_a_create_that_bedrock_refuses_fails_with_bedrocks_reason_and_starts_nothing(handler, code, message):
    request = event("distillation_job_create")
    handler.stub.add_client_error("create_model_customization_job", code, message, 400, create_request(request))
    with pytest.raises(handler.bedrock.exceptions.ClientError) as raised:
        handler.on_event(request, None)
    assert (
        str(raised.value)
        == f"An error occurred ({code}) when calling the CreateModelCustomizationJob operation: {message}"
    )


def test_update_of_retain_model_on_delete_alone_keeps_the_job(handler):
    expect_get(handler.stub, "InProgress")
    assert handler.on_event(event("distillation_job_update_retain"), None) == {
        "PhysicalResourceId": JOB_ARN,
        "Data": {"JobArn": JOB_ARN, "JobName": NAME, "CustomModelName": NAME, "Status": "InProgress"},
    }


def test_update_that_only_reformats_json_or_sets_a_service_timeout_keeps_the_job(handler):
    request = event("distillation_job_update_retain")
    properties = request["ResourceProperties"]
    properties["TrainingDataConfig"] = json.dumps(json.loads(properties["TrainingDataConfig"]), indent=2)
    properties["JobTags"] = '{"stage": "sandbox", "project": "support-assistant"}'
    properties["ServiceTimeout"] = "900"
    expect_get(handler.stub, "Completed", outputModelArn=MODEL_ARN)
    assert handler.on_event(request, None)["PhysicalResourceId"] == JOB_ARN


def test_update_of_tags_alone_retags_the_job_and_its_model_in_place(handler):
    request = event("distillation_job_update_retain")
    properties = request["ResourceProperties"]
    properties["JobTags"] = '{"project": "support-assistant", "cost-center": "ml"}'
    properties["CustomModelTags"] = '{"project": "support-assistant"}'
    expect_get(handler.stub, "Completed", outputModelArn=MODEL_ARN)
    handler.stub.add_response(
        "tag_resource",
        {},
        {
            "resourceARN": JOB_ARN,
            "tags": [{"key": "project", "value": "support-assistant"}, {"key": "cost-center", "value": "ml"}],
        },
    )
    handler.stub.add_response("untag_resource", {}, {"resourceARN": JOB_ARN, "tagKeys": ["stage"]})
    handler.stub.add_response(
        "tag_resource", {}, {"resourceARN": MODEL_ARN, "tags": [{"key": "project", "value": "support-assistant"}]}
    )
    handler.stub.add_response("untag_resource", {}, {"resourceARN": MODEL_ARN, "tagKeys": ["teacher"]})
    assert handler.on_event(request, None)["PhysicalResourceId"] == JOB_ARN


def test_update_of_the_job_definition_starts_a_new_job_that_replaces_the_old(handler):
    request = event("distillation_job_update")
    expected = create_request(request)
    expected["customizationConfig"]["distillationConfig"]["teacherModelConfig"]["maxResponseLengthForInference"] = 2000
    new_name = expected["jobName"]
    assert new_name != NAME
    handler.stub.add_response("create_model_customization_job", {"jobArn": NEW_JOB_ARN}, expected)
    handler.stub.add_response(
        "get_model_customization_job", job("InProgress", NEW_JOB_ARN, new_name), {"jobIdentifier": NEW_JOB_ARN}
    )
    assert handler.on_event(request, None) == {
        "PhysicalResourceId": NEW_JOB_ARN,
        "Data": {"JobArn": NEW_JOB_ARN, "JobName": new_name, "CustomModelName": new_name, "Status": "InProgress"},
    }


def test_delete_stops_a_job_still_running(handler):
    expect_get(handler.stub, "InProgress")
    handler.stub.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB_ARN})
    assert handler.on_event(event("distillation_job_delete"), None) == {"PhysicalResourceId": JOB_ARN}


def test_delete_keeps_the_model_of_a_completed_job_by_default(handler):
    expect_get(handler.stub, "Completed", outputModelArn=MODEL_ARN)
    handler.on_event(event("distillation_job_delete"), None)


def test_delete_removes_the_model_when_told_not_to_retain_it(handler):
    request = event("distillation_job_delete")
    request["ResourceProperties"]["RetainModelOnDelete"] = "false"
    expect_get(handler.stub, "Completed", outputModelArn=MODEL_ARN)
    handler.stub.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    handler.on_event(request, None)


def test_delete_of_a_model_already_gone_succeeds(handler):
    request = event("distillation_job_delete")
    request["ResourceProperties"]["RetainModelOnDelete"] = "false"
    expect_get(handler.stub, "Completed", outputModelArn=MODEL_ARN)
    handler.stub.add_client_error(
        "delete_custom_model", "ResourceNotFoundException", "Model not found", 404, {"modelIdentifier": MODEL_ARN}
    )
    assert handler.on_event(request, None) == {"PhysicalResourceId": JOB_ARN}


def test_delete_of_a_model_still_served_fails_with_bedrocks_reason(handler):
    request = event("distillation_job_delete")
    request["ResourceProperties"]["RetainModelOnDelete"] = "false"
    expect_get(handler.stub, "Completed", outputModelArn=MODEL_ARN)
    handler.stub.add_client_error(
        "delete_custom_model",
        "ConflictException",
        "The model is in use by a provisioned throughput",
        400,
        {"modelIdentifier": MODEL_ARN},
    )
    with pytest.raises(handler.bedrock.exceptions.ConflictException):
        handler.on_event(request, None)


@pytest.mark.parametrize("status", ["Failed", "Stopped", "Stopping"])
def test_delete_of_a_job_that_no_longer_runs_does_nothing(handler, status):
    request = event("distillation_job_delete")
    request["ResourceProperties"]["RetainModelOnDelete"] = "false"
    expect_get(handler.stub, status)
    handler.on_event(request, None)


def test_delete_of_a_job_bedrock_no_longer_knows_succeeds(handler):
    handler.stub.add_client_error(
        "get_model_customization_job", "ResourceNotFoundException", "Job not found", 404, {"jobIdentifier": JOB_ARN}
    )
    assert handler.on_event(event("distillation_job_delete"), None) == {"PhysicalResourceId": JOB_ARN}


def test_delete_after_a_failed_create_has_nothing_to_stop(handler):
    request = event(
        "distillation_job_delete", PhysicalResourceId="AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
    )
    assert handler.on_event(request, None) == {"PhysicalResourceId": request["PhysicalResourceId"]}


def test_delete_that_may_not_stop_the_job_fails_with_bedrocks_reason(handler):
    expect_get(handler.stub, "InProgress")
    handler.stub.add_client_error(
        "stop_model_customization_job",
        "AccessDeniedException",
        "User is not authorized to perform: bedrock:StopModelCustomizationJob",
        403,
        {"jobIdentifier": JOB_ARN},
    )
    with pytest.raises(handler.bedrock.exceptions.AccessDeniedException):
        handler.on_event(event("distillation_job_delete"), None)
